-- Undo 1722852702377_create_student_mistakes.
DROP TABLE kedge_practice.student_mistakes;
DROP FUNCTION kedge_practice.next_review_time(INTEGER, TIMESTAMPTZ);
