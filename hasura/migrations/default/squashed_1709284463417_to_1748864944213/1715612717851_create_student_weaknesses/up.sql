-- Per-student weakness score for each knowledge point, recomputed by the analytics job after
-- every completed session. Drives the weakness_focus strategy.

CREATE TABLE kedge_practice.student_weaknesses (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id UUID NOT NULL REFERENCES kedge_practice.users (id) ON DELETE CASCADE,
    knowledge_point_id UUID NOT NULL REFERENCES kedge_practice.knowledge_points (id) ON DELETE CASCADE,
    weakness_score NUMERIC(4, 3) NOT NULL DEFAULT 0 CHECK (weakness_score >= 0 AND weakness_score <= 1),
    attempts_count INTEGER NOT NULL DEFAULT 0,
    wrong_count INTEGER NOT NULL DEFAULT 0,
    last_practiced_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (student_id, knowledge_point_id)
);

CREATE INDEX student_weaknesses_knowledge_point_id_idx ON kedge_practice.student_weaknesses (knowledge_point_id);
CREATE INDEX student_weaknesses_student_id_score_idx ON kedge_practice.student_weaknesses (student_id, weakness_score DESC);

CREATE TRIGGER set_student_weaknesses_updated_at
    BEFORE UPDATE ON kedge_practice.student_weaknesses
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.student_weaknesses IS 'How weak each student is on each knowledge point';
COMMENT ON COLUMN kedge_practice.student_weaknesses.weakness_score IS '0 = mastered, 1 = always wrong';
