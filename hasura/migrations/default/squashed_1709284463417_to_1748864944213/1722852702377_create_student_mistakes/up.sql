-- Mistake book: one row per student and quiz answered wrongly, scheduled for spaced review.
-- next_review_time() computes the next review date; the API calls it when it records a mistake.

CREATE FUNCTION kedge_practice.next_review_time(mistake_count INTEGER, from_time TIMESTAMPTZ)
RETURNS TIMESTAMPTZ
LANGUAGE sql
STABLE
AS $$
    SELECT from_time + CASE
        WHEN mistake_count IS NULL OR mistake_count <= 1 THEN INTERVAL '1 day'
        WHEN mistake_count = 2 THEN INTERVAL '2 days'
        WHEN mistake_count = 3 THEN INTERVAL '4 days'
        WHEN mistake_count = 4 THEN INTERVAL '7 days'
        ELSE INTERVAL '14 days'
    END;
$$;

COMMENT ON FUNCTION kedge_practice.next_review_time(INTEGER, TIMESTAMPTZ) IS 'Spaced-repetition helper: next review time after the n-th mistake (1, 2, 4, 7, then 14 days). STABLE, not IMMUTABLE: timestamptz + interval depends on the TimeZone setting.';

CREATE TABLE kedge_practice.student_mistakes (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id UUID NOT NULL REFERENCES kedge_practice.users (id) ON DELETE CASCADE,
    quiz_id UUID NOT NULL REFERENCES kedge_practice.quizzes (id) ON DELETE CASCADE,
    session_id UUID REFERENCES kedge_practice.practice_sessions (id) ON DELETE SET NULL,
    last_answer TEXT,
    mistake_count INTEGER NOT NULL DEFAULT 1 CHECK (mistake_count >= 0),
    last_mistake_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_review_at TIMESTAMPTZ,
    resolved BOOLEAN NOT NULL DEFAULT false,
    resolved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (student_id, quiz_id)
);

CREATE INDEX student_mistakes_student_id_idx ON kedge_practice.student_mistakes (student_id);
CREATE INDEX student_mistakes_quiz_id_idx ON kedge_practice.student_mistakes (quiz_id);
CREATE INDEX student_mistakes_session_id_idx ON kedge_practice.student_mistakes (session_id);
-- Review queue: "what is due now" only ever looks at unresolved mistakes.
CREATE INDEX student_mistakes_review_queue_idx ON kedge_practice.student_mistakes (next_review_at) WHERE resolved = false;

CREATE TRIGGER set_student_mistakes_updated_at
    BEFORE UPDATE ON kedge_practice.student_mistakes
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.student_mistakes IS 'Mistake book: quizzes a student got wrong, with review schedule';
COMMENT ON COLUMN kedge_practice.student_mistakes.session_id IS 'Session of the latest mistake';
COMMENT ON COLUMN kedge_practice.student_mistakes.next_review_at IS 'When the quiz is due for review; see next_review_time()';
