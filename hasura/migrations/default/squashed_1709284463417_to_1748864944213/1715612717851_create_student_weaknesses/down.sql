-- Undo 1715612717851_create_student_weaknesses.
DROP TABLE kedge_practice.student_weaknesses;
