-- Drop the difficulty columns added in 1719840418640_add_difficulty_columns.
-- quizzes.difficulty was never rated consistently (most rows are NULL), and session difficulty
-- is now part of the strategy config, starting with the new exam_simulation strategy.

DROP INDEX kedge_practice.quizzes_difficulty_idx;
ALTER TABLE kedge_practice.quizzes DROP CONSTRAINT quizzes_difficulty_check;
ALTER TABLE kedge_practice.quizzes DROP COLUMN difficulty;

DROP INDEX kedge_practice.practice_sessions_difficulty_level_idx;
ALTER TABLE kedge_practice.practice_sessions DROP CONSTRAINT practice_sessions_difficulty_level_check;
ALTER TABLE kedge_practice.practice_sessions DROP COLUMN difficulty_level;

INSERT INTO kedge_practice.practice_strategies (id, code, name, description, config, is_active, sort_order, created_at, updated_at)
VALUES (
    '10000000-0000-4000-8000-000000000004',
    'exam_simulation',
    'Exam simulation',
    'A timed, exam-like paper with a fixed difficulty mix and no feedback until the end.',
    '{"question_count": 40, "time_limit_minutes": 90, "show_feedback": false, "difficulty_mix": {"easy": 0.3, "medium": 0.5, "hard": 0.2}}',
    true,
    4,
    '2025-03-10T00:00:00Z',
    '2025-03-10T00:00:00Z'
);
