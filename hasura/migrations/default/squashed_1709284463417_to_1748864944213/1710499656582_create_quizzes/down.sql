-- Undo 1710499656582_create_quizzes.
DROP TABLE kedge_practice.quizzes;
