-- Answers submitted during a practice session.
-- This table uses user_id rather than student_id: teachers practise too, and the team agreed to
-- standardise on user_id. The older tables keep student_id until they are renamed.

CREATE TABLE kedge_practice.practice_answers (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id UUID NOT NULL REFERENCES kedge_practice.practice_sessions (id) ON DELETE CASCADE,
    quiz_id UUID NOT NULL REFERENCES kedge_practice.quizzes (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES kedge_practice.users (id) ON DELETE CASCADE,
    answer TEXT,
    is_correct BOOLEAN NOT NULL DEFAULT false,
    time_spent_ms INTEGER CHECK (time_spent_ms >= 0),
    answered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Not enforced on purpose: "retry" mode lets a student answer the same quiz more than once in a
-- session, and each attempt is kept.
-- ALTER TABLE kedge_practice.practice_answers
--     ADD CONSTRAINT practice_answers_session_id_quiz_id_key UNIQUE (session_id, quiz_id);

CREATE INDEX practice_answers_session_id_idx ON kedge_practice.practice_answers (session_id);
CREATE INDEX practice_answers_quiz_id_idx ON kedge_practice.practice_answers (quiz_id);
CREATE INDEX practice_answers_user_id_idx ON kedge_practice.practice_answers (user_id);
CREATE INDEX practice_answers_user_id_answered_at_idx ON kedge_practice.practice_answers (user_id, answered_at DESC);

CREATE TRIGGER set_practice_answers_updated_at
    BEFORE UPDATE ON kedge_practice.practice_answers
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.practice_answers IS 'Answers given to quizzes during practice sessions';
COMMENT ON COLUMN kedge_practice.practice_answers.time_spent_ms IS 'Time from showing the quiz to submitting, in milliseconds';
