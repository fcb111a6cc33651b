-- Practice sessions and the strategies that pick their questions.
-- A session belongs to a student and lists its questions in practice_questions
-- (session_id, quiz_id, position). The three built-in strategies are seeded with fixed ids
-- because the frontend refers to them by id.

CREATE TABLE kedge_practice.practice_strategies (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    config JSONB NOT NULL DEFAULT '{}'::JSONB,
    is_active BOOLEAN NOT NULL DEFAULT true,
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX practice_strategies_is_active_sort_order_idx ON kedge_practice.practice_strategies (is_active, sort_order);

CREATE TRIGGER set_practice_strategies_updated_at
    BEFORE UPDATE ON kedge_practice.practice_strategies
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.practice_strategies IS 'How a practice session picks its questions';
COMMENT ON COLUMN kedge_practice.practice_strategies.config IS 'Strategy parameters read by the session builder';

INSERT INTO kedge_practice.practice_strategies (id, code, name, description, config, is_active, sort_order, created_at, updated_at)
VALUES
    (
        '10000000-0000-4000-8000-000000000001',
        'random',
        'Random practice',
        'Random active quizzes from the chosen knowledge point and its children.',
        '{"question_count": 10, "shuffle_options": true}',
        true,
        1,
        '2024-04-02T00:00:00Z',
        '2024-04-02T00:00:00Z'
    ),
    (
        '10000000-0000-4000-8000-000000000002',
        'weakness_focus',
        'Focus on weaknesses',
        'Quizzes from the knowledge points with the highest weakness score.',
        '{"question_count": 10, "max_knowledge_points": 3, "min_weakness_score": 0.4}',
        true,
        2,
        '2024-04-02T00:00:00Z',
        '2024-04-02T00:00:00Z'
    ),
    (
        '10000000-0000-4000-8000-000000000003',
        'spaced_review',
        'Spaced review',
        'Previously missed quizzes that are due for review.',
        '{"question_count": 15, "include_unresolved_only": true}',
        true,
        3,
        '2024-04-02T00:00:00Z',
        '2024-04-02T00:00:00Z'
    );

CREATE TABLE kedge_practice.practice_sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    student_id UUID NOT NULL REFERENCES kedge_practice.users (id) ON DELETE CASCADE,
    strategy_id UUID REFERENCES kedge_practice.practice_strategies (id) ON DELETE SET NULL,
    knowledge_point_id UUID REFERENCES kedge_practice.knowledge_points (id) ON DELETE SET NULL,
    status TEXT NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed', 'abandoned')),
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at TIMESTAMPTZ,
    score NUMERIC(5, 2) CHECK (score >= 0 AND score <= 100),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX practice_sessions_student_id_idx ON kedge_practice.practice_sessions (student_id);
CREATE INDEX practice_sessions_student_id_status_idx ON kedge_practice.practice_sessions (student_id, status);
CREATE INDEX practice_sessions_strategy_id_idx ON kedge_practice.practice_sessions (strategy_id);
CREATE INDEX practice_sessions_knowledge_point_id_idx ON kedge_practice.practice_sessions (knowledge_point_id);
CREATE INDEX practice_sessions_started_at_idx ON kedge_practice.practice_sessions (started_at);

CREATE TRIGGER set_practice_sessions_updated_at
    BEFORE UPDATE ON kedge_practice.practice_sessions
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.practice_sessions IS 'One practice run of a student';
COMMENT ON COLUMN kedge_practice.practice_sessions.score IS 'Percentage of correct answers, set when the session completes';

CREATE TABLE kedge_practice.practice_questions (
    session_id UUID NOT NULL REFERENCES kedge_practice.practice_sessions (id) ON DELETE CASCADE,
    quiz_id UUID NOT NULL REFERENCES kedge_practice.quizzes (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, position)
);

CREATE INDEX practice_questions_quiz_id_idx ON kedge_practice.practice_questions (quiz_id);

COMMENT ON TABLE kedge_practice.practice_questions IS 'Quizzes of a practice session, in order';
