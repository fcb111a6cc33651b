-- Rename student_mistakes.student_id to user_id: the last table still using student_id.

ALTER TABLE kedge_practice.student_mistakes RENAME COLUMN student_id TO user_id;
ALTER TABLE kedge_practice.student_mistakes RENAME CONSTRAINT student_mistakes_student_id_fkey TO student_mistakes_user_id_fkey;
ALTER TABLE kedge_practice.student_mistakes RENAME CONSTRAINT student_mistakes_student_id_quiz_id_key TO student_mistakes_user_id_quiz_id_key;
