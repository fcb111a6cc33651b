-- Extra data for the content editor:
-- * knowledge_points_metadata: one JSON document per knowledge point (curriculum mappings,
--   exam weights, ...), kept out of knowledge_points so that the tree stays small.
-- * attachments: uploaded files (images, audio, PDFs) for quizzes, knowledge points, users and
--   answers. owner_id is polymorphic (owner_type says which table), so it has no foreign key.

CREATE TABLE kedge_practice.knowledge_points_metadata (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    knowledge_point_id UUID NOT NULL UNIQUE REFERENCES kedge_practice.knowledge_points (id) ON DELETE CASCADE,
    metadata JSONB NOT NULL DEFAULT '{}'::JSONB,
    source TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX knowledge_points_metadata_metadata_idx ON kedge_practice.knowledge_points_metadata USING GIN (metadata);

CREATE TRIGGER set_knowledge_points_metadata_updated_at
    BEFORE UPDATE ON kedge_practice.knowledge_points_metadata
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.knowledge_points_metadata IS 'Extensible metadata of a knowledge point (one row each)';
COMMENT ON COLUMN kedge_practice.knowledge_points_metadata.source IS 'Where the metadata came from, e.g. curriculum import or editor';

CREATE TABLE kedge_practice.attachments (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_type TEXT NOT NULL CHECK (owner_type IN ('quiz', 'knowledge_point', 'user', 'practice_answer')),
    owner_id UUID NOT NULL,
    url TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT CHECK (size_bytes >= 0),
    metadata JSONB NOT NULL DEFAULT '{}'::JSONB,
    uploaded_by UUID REFERENCES kedge_practice.users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX attachments_owner_type_owner_id_idx ON kedge_practice.attachments (owner_type, owner_id);
CREATE INDEX attachments_uploaded_by_idx ON kedge_practice.attachments (uploaded_by);
CREATE INDEX attachments_metadata_idx ON kedge_practice.attachments USING GIN (metadata);

CREATE TRIGGER set_attachments_updated_at
    BEFORE UPDATE ON kedge_practice.attachments
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.attachments IS 'Uploaded files attached to quizzes, knowledge points, users or answers';
COMMENT ON COLUMN kedge_practice.attachments.owner_id IS 'Id of the owning row in the table named by owner_type (no foreign key)';
