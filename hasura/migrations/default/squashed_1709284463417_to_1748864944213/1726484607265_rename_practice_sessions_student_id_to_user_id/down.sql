-- Undo 1726484607265_rename_practice_sessions_student_id_to_user_id: rename back and restore the
-- previous practice_statistics view (student_id, no accuracy column).

DROP VIEW kedge_practice.practice_statistics;

ALTER INDEX kedge_practice.practice_sessions_user_id_status_idx RENAME TO practice_sessions_student_id_status_idx;
ALTER INDEX kedge_practice.practice_sessions_user_id_idx RENAME TO practice_sessions_student_id_idx;
ALTER TABLE kedge_practice.practice_sessions RENAME CONSTRAINT practice_sessions_user_id_fkey TO practice_sessions_student_id_fkey;
ALTER TABLE kedge_practice.practice_sessions RENAME COLUMN user_id TO student_id;

CREATE VIEW kedge_practice.practice_statistics AS
SELECT
    u.id AS student_id,
    COALESCE(ss.sessions_count, 0) AS sessions_count,
    COALESCE(ss.completed_sessions, 0) AS completed_sessions,
    COALESCE(aa.answers_count, 0) AS answers_count,
    COALESCE(aa.correct_answers, 0) AS correct_answers,
    GREATEST(ss.last_session_at, aa.last_answer_at) AS last_practice_at
FROM kedge_practice.users AS u
LEFT JOIN (
    SELECT
        s.student_id,
        count(*) AS sessions_count,
        count(*) FILTER (WHERE s.status = 'completed') AS completed_sessions,
        max(COALESCE(s.completed_at, s.started_at)) AS last_session_at
    FROM kedge_practice.practice_sessions AS s
    GROUP BY s.student_id
) AS ss ON ss.student_id = u.id
LEFT JOIN (
    SELECT
        a.user_id,
        count(*) AS answers_count,
        count(*) FILTER (WHERE a.is_correct) AS correct_answers,
        max(a.answered_at) AS last_answer_at
    FROM kedge_practice.practice_answers AS a
    GROUP BY a.user_id
) AS aa ON aa.user_id = u.id;

COMMENT ON VIEW kedge_practice.practice_statistics IS 'Practice statistics per student';
