-- Undo 1737369296397_fold_practice_questions_into_quiz_ids: recreate practice_questions and move
-- the question lists back out of quiz_ids. Positions are renumbered 1..n; ids of quizzes deleted
-- in the meantime (an array has no foreign key) are skipped.

CREATE TABLE kedge_practice.practice_questions (
    session_id UUID NOT NULL REFERENCES kedge_practice.practice_sessions (id) ON DELETE CASCADE,
    quiz_id UUID NOT NULL REFERENCES kedge_practice.quizzes (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, position)
);

CREATE INDEX practice_questions_quiz_id_idx ON kedge_practice.practice_questions (quiz_id);

COMMENT ON TABLE kedge_practice.practice_questions IS 'Quizzes of a practice session, in order';

INSERT INTO kedge_practice.practice_questions (session_id, quiz_id, position)
SELECT
    s.id,
    q.quiz_id,
    q.ordinality::INTEGER
FROM kedge_practice.practice_sessions AS s
CROSS JOIN LATERAL unnest(s.quiz_ids) WITH ORDINALITY AS q (quiz_id, ordinality)
WHERE EXISTS (
    SELECT 1
    FROM kedge_practice.quizzes AS z
    WHERE z.id = q.quiz_id
);

ALTER TABLE kedge_practice.practice_sessions DROP COLUMN quiz_ids;
