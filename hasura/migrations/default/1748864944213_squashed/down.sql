-- Undoes 1748864944213_squashed: drops what its up.sql creates, dependents
-- first. Extensions and schemas that existed before are left alone; nothing is dropped with CASCADE.

DROP VIEW kedge_practice.practice_statistics;
DROP TABLE kedge_practice.attachments, kedge_practice.knowledge_points, kedge_practice.knowledge_points_metadata, kedge_practice.practice_answers, kedge_practice.practice_sessions, kedge_practice.practice_strategies, kedge_practice.quizzes, kedge_practice.student_mistakes, kedge_practice.student_weaknesses, kedge_practice.users;
DROP FUNCTION kedge_practice.next_review_time(mistake_count integer, from_time timestamp with time zone), kedge_practice.set_updated_at();
DROP SCHEMA kedge_practice;
