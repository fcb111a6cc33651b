-- Undo 1741619559760_drop_difficulty_columns: remove the exam_simulation strategy and re-add the
-- difficulty columns with their constraints, indexes and comments. The old values are not
-- restored (the columns come back empty).

DELETE FROM kedge_practice.practice_strategies
WHERE id = '10000000-0000-4000-8000-000000000004';

ALTER TABLE kedge_practice.practice_sessions
    ADD COLUMN difficulty_level TEXT,
    ADD CONSTRAINT practice_sessions_difficulty_level_check CHECK (difficulty_level IN ('easy', 'medium', 'hard'));

CREATE INDEX practice_sessions_difficulty_level_idx ON kedge_practice.practice_sessions (difficulty_level);

COMMENT ON COLUMN kedge_practice.practice_sessions.difficulty_level IS 'Difficulty chosen by the student; NULL = mixed';

ALTER TABLE kedge_practice.quizzes
    ADD COLUMN difficulty SMALLINT,
    ADD CONSTRAINT quizzes_difficulty_check CHECK (difficulty BETWEEN 1 AND 5);

CREATE INDEX quizzes_difficulty_idx ON kedge_practice.quizzes (difficulty);

COMMENT ON COLUMN kedge_practice.quizzes.difficulty IS '1 (easy) to 5 (hard); NULL = not rated yet';
