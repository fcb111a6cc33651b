-- Fold practice_questions into practice_sessions.quiz_ids.
-- A session's question list is fixed when the session starts and is always read as a whole, so
-- an ordered UUID[] on the session is simpler than a join table (one query instead of two, and
-- one table less to track in Hasura). Existing sessions keep their questions in order.

ALTER TABLE kedge_practice.practice_sessions
    ADD COLUMN quiz_ids UUID[] NOT NULL DEFAULT '{}';

UPDATE kedge_practice.practice_sessions AS s
SET quiz_ids = pq.quiz_ids
FROM (
    SELECT
        q.session_id,
        array_agg(q.quiz_id ORDER BY q.position) AS quiz_ids
    FROM kedge_practice.practice_questions AS q
    GROUP BY q.session_id
) AS pq
WHERE pq.session_id = s.id;

DROP TABLE kedge_practice.practice_questions;

COMMENT ON COLUMN kedge_practice.practice_sessions.quiz_ids IS 'Quizzes of the session in presentation order (replaces the practice_questions table)';
