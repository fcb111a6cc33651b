-- quizzes was created (1710499656582_create_quizzes) without its updated_at trigger, so edits in
-- the question editor never bumped updated_at and the content sync missed them.

CREATE TRIGGER set_quizzes_updated_at
    BEFORE UPDATE ON kedge_practice.quizzes
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();
