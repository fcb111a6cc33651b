-- Undo 1713526724206_create_practice_answers.
DROP TABLE kedge_practice.practice_answers;
