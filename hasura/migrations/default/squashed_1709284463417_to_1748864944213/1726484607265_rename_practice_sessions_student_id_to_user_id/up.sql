-- Rename practice_sessions.student_id to user_id, like practice_answers (first of three renames).
-- The FK constraint and the indexes are renamed along with the column. practice_statistics is
-- rebuilt: its student_id column becomes user_id (a view column cannot be renamed with
-- CREATE OR REPLACE VIEW) and it gains an accuracy column for the new dashboard.

DROP VIEW kedge_practice.practice_statistics;

ALTER TABLE kedge_practice.practice_sessions RENAME COLUMN student_id TO user_id;
ALTER TABLE kedge_practice.practice_sessions RENAME CONSTRAINT practice_sessions_student_id_fkey TO practice_sessions_user_id_fkey;
ALTER INDEX kedge_practice.practice_sessions_student_id_idx RENAME TO practice_sessions_user_id_idx;
ALTER INDEX kedge_practice.practice_sessions_student_id_status_idx RENAME TO practice_sessions_user_id_status_idx;

CREATE VIEW kedge_practice.practice_statistics AS
SELECT
    u.id AS user_id,
    COALESCE(ss.sessions_count, 0) AS sessions_count,
    COALESCE(ss.completed_sessions, 0) AS completed_sessions,
    COALESCE(aa.answers_count, 0) AS answers_count,
    COALESCE(aa.correct_answers, 0) AS correct_answers,
    CASE
        WHEN COALESCE(aa.answers_count, 0) = 0 THEN NULL
        ELSE round(aa.correct_answers::NUMERIC / aa.answers_count, 4)
    END AS accuracy,
    GREATEST(ss.last_session_at, aa.last_answer_at) AS last_practice_at
FROM kedge_practice.users AS u
LEFT JOIN (
    SELECT
        s.user_id,
        count(*) AS sessions_count,
        count(*) FILTER (WHERE s.status = 'completed') AS completed_sessions,
        max(COALESCE(s.completed_at, s.started_at)) AS last_session_at
    FROM kedge_practice.practice_sessions AS s
    GROUP BY s.user_id
) AS ss ON ss.user_id = u.id
LEFT JOIN (
    SELECT
        a.user_id,
        count(*) AS answers_count,
        count(*) FILTER (WHERE a.is_correct) AS correct_answers,
        max(a.answered_at) AS last_answer_at
    FROM kedge_practice.practice_answers AS a
    GROUP BY a.user_id
) AS aa ON aa.user_id = u.id;

COMMENT ON VIEW kedge_practice.practice_statistics IS 'Practice statistics per user';
COMMENT ON COLUMN kedge_practice.practice_statistics.accuracy IS 'correct_answers / answers_count (0..1); NULL when there are no answers';
