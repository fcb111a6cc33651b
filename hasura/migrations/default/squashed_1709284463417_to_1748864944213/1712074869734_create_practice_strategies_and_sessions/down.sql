-- Undo 1712074869734_create_practice_strategies_and_sessions.
DROP TABLE kedge_practice.practice_questions;
DROP TABLE kedge_practice.practice_sessions;
DROP TABLE kedge_practice.practice_strategies;
