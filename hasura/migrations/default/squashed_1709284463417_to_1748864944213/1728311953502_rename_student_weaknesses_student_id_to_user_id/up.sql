-- Rename student_weaknesses.student_id to user_id (second of three renames), together with the
-- FK constraint, the unique constraint (and so its index) and the score index.

ALTER TABLE kedge_practice.student_weaknesses RENAME COLUMN student_id TO user_id;
ALTER TABLE kedge_practice.student_weaknesses RENAME CONSTRAINT student_weaknesses_student_id_fkey TO student_weaknesses_user_id_fkey;
ALTER TABLE kedge_practice.student_weaknesses RENAME CONSTRAINT student_weaknesses_student_id_knowledge_point_id_key TO student_weaknesses_user_id_knowledge_point_id_key;
ALTER INDEX kedge_practice.student_weaknesses_student_id_score_idx RENAME TO student_weaknesses_user_id_score_idx;
