-- Undo 1724175845918_add_updated_at_trigger_to_quizzes.
DROP TRIGGER set_quizzes_updated_at ON kedge_practice.quizzes;
