-- Knowledge points: the syllabus tree (subject > chapter > topic) that quizzes hang off.
-- parent_id builds the tree; tags is a free-form JSON array used by the content team.

CREATE TABLE kedge_practice.knowledge_points (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    description TEXT,
    subject TEXT NOT NULL,
    grade_level SMALLINT,
    parent_id UUID REFERENCES kedge_practice.knowledge_points (id) ON DELETE SET NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    tags JSONB NOT NULL DEFAULT '[]'::JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX knowledge_points_parent_id_idx ON kedge_practice.knowledge_points (parent_id);
CREATE INDEX knowledge_points_subject_grade_level_idx ON kedge_practice.knowledge_points (subject, grade_level);
CREATE INDEX knowledge_points_tags_idx ON kedge_practice.knowledge_points USING GIN (tags);

CREATE TRIGGER set_knowledge_points_updated_at
    BEFORE UPDATE ON kedge_practice.knowledge_points
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.knowledge_points IS 'Knowledge points (syllabus tree) that quizzes are attached to';
COMMENT ON COLUMN kedge_practice.knowledge_points.code IS 'Stable curriculum code, e.g. MATH-07-ALG-03';
COMMENT ON COLUMN kedge_practice.knowledge_points.parent_id IS 'Parent knowledge point; NULL for a subject root';
