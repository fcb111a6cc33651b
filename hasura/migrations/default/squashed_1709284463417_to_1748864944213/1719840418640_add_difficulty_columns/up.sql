-- Difficulty for adaptive practice: a 1-5 rating per quiz, and the level a student picked when
-- starting a session (used to filter quizzes by rating).

ALTER TABLE kedge_practice.quizzes
    ADD COLUMN difficulty SMALLINT,
    ADD CONSTRAINT quizzes_difficulty_check CHECK (difficulty BETWEEN 1 AND 5);

CREATE INDEX quizzes_difficulty_idx ON kedge_practice.quizzes (difficulty);

COMMENT ON COLUMN kedge_practice.quizzes.difficulty IS '1 (easy) to 5 (hard); NULL = not rated yet';

ALTER TABLE kedge_practice.practice_sessions
    ADD COLUMN difficulty_level TEXT,
    ADD CONSTRAINT practice_sessions_difficulty_level_check CHECK (difficulty_level IN ('easy', 'medium', 'hard'));

CREATE INDEX practice_sessions_difficulty_level_idx ON kedge_practice.practice_sessions (difficulty_level);

COMMENT ON COLUMN kedge_practice.practice_sessions.difficulty_level IS 'Difficulty chosen by the student; NULL = mixed';
