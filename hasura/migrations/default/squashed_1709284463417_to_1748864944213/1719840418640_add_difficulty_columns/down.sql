-- Undo 1719840418640_add_difficulty_columns.
DROP INDEX kedge_practice.practice_sessions_difficulty_level_idx;
ALTER TABLE kedge_practice.practice_sessions DROP CONSTRAINT practice_sessions_difficulty_level_check;
ALTER TABLE kedge_practice.practice_sessions DROP COLUMN difficulty_level;

DROP INDEX kedge_practice.quizzes_difficulty_idx;
ALTER TABLE kedge_practice.quizzes DROP CONSTRAINT quizzes_difficulty_check;
ALTER TABLE kedge_practice.quizzes DROP COLUMN difficulty;
