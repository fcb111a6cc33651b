-- Quizzes: the questions students practise, each attached to one knowledge point.
-- options / images are JSON arrays so the editor can store rich content without extra tables.

CREATE TABLE kedge_practice.quizzes (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    knowledge_point_id UUID NOT NULL REFERENCES kedge_practice.knowledge_points (id) ON DELETE CASCADE,
    question_type TEXT NOT NULL CHECK (question_type IN ('single_choice', 'multiple_choice', 'true_false', 'fill_blank', 'short_answer')),
    question TEXT NOT NULL,
    options JSONB NOT NULL DEFAULT '[]'::JSONB,
    answer TEXT NOT NULL,
    explanation TEXT,
    images JSONB NOT NULL DEFAULT '[]'::JSONB,
    is_active BOOLEAN NOT NULL DEFAULT true,
    created_by UUID REFERENCES kedge_practice.users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    -- Choice questions should have at least two options. Disabled for now: the legacy question
    -- bank import still has single-option rows that the content team is cleaning up.
    -- , CONSTRAINT quizzes_choice_options_check CHECK (
    --     question_type NOT IN ('single_choice', 'multiple_choice') OR jsonb_array_length(options) >= 2
    -- )
);

CREATE INDEX quizzes_knowledge_point_id_idx ON kedge_practice.quizzes (knowledge_point_id);
CREATE INDEX quizzes_question_type_idx ON kedge_practice.quizzes (question_type);
CREATE INDEX quizzes_created_by_idx ON kedge_practice.quizzes (created_by);

COMMENT ON TABLE kedge_practice.quizzes IS 'Practice questions, one knowledge point each';
COMMENT ON COLUMN kedge_practice.quizzes.options IS 'Answer options for choice questions: [{"key": "A", "text": "..."}]';
COMMENT ON COLUMN kedge_practice.quizzes.answer IS 'Correct answer (option keys joined by commas for multiple_choice)';
