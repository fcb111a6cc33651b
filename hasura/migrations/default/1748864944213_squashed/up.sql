-- Squashed by kedge-hasura 0.1.0 (dump strategy, PostgreSQL 15) from 17 migration(s) of database 'default',
-- versions 1709284463417 to 1748864944213; the originals are archived in squashed_1709284463417_to_1748864944213/.
-- Verified: replaying the originals and applying this file build the same schema and rows.
--
-- Originals (version_name  sha256 of up.sql):
--   1709284463417_init_kedge_practice_schema  d4faee642d234cc04d9c0802a019824a7d6b176ca5df2f175a437809ddf53917
--   1709906571093_create_knowledge_points  45e352c979782a63351afb2c487ead715ab0464ed07e48d29450d586de42c9e6
--   1710499656582_create_quizzes  f53fefdd9506d493c6c3384579351832ff47a95e57e4801b71555fda431f32db
--   1712074869734_create_practice_strategies_and_sessions  6139d248c0b3c19da9293a02e378bd915c314df6661e83cc010614fa93a49c65
--   1713526724206_create_practice_answers  6df17aceb017224b9bd388e1679f01f0d46b6fb5103c89931177bf99291cf67a
--   1715612717851_create_student_weaknesses  3433d50c80dc8f60efcf1991f36b5eaf26ab5584f8321159798b21a24b826dfc
--   1717408350129_create_practice_statistics_view  e2793cc58f2ecc6b0bc2c79ffb174bf08b11f0042f2f5dbc10dac5d2cdd6aaba
--   1719840418640_add_difficulty_columns  7bb55a78abefd3d3d670936852c1aac3b5945618be9a52433ace94abb700e643
--   1722852702377_create_student_mistakes  1c5cf302cdd8a702c3bfd9435dfc12a5cd34e51c8ed969f6d49482e9d7d2a118
--   1724175845918_add_updated_at_trigger_to_quizzes  8022510f90110f1441c6c9b44a8ed7d5ed70d16f9800f640ce1251ab5422969c
--   1726484607265_rename_practice_sessions_student_id_to_user_id  2aab5b82168caa5276d8f6c9491f6cf83cda6ddf141e663244b19855cb131750
--   1728311953502_rename_student_weaknesses_student_id_to_user_id  67f21bca022dd9f74003f853eb3602806b2ac83e336689e62516151bbe90c3f0
--   1730712468731_add_mistake_review_reminders  2e6483708532587ae7689dd43644a624fa902f53ffd0fde500024178b763f2c5
--   1733158701084_rename_student_mistakes_student_id_to_user_id  07f6b8633463ef3a3989105ed5316338083d5c6a25b8f96d58e5d70eb1747cc9
--   1737369296397_fold_practice_questions_into_quiz_ids  93db2dc0d6ad5410b64efc90da3aca2c19a86da5a26de97b60b9a0c3e5d80a50
--   1741619559760_drop_difficulty_columns  c6273628464e1796feafa47a9b97f67d8df8e5f94791a3a58dc5f3255c4aa126
--   1748864944213_create_knowledge_points_metadata_and_attachments  5faef054398329fb9604c7ed8485bcc08f8e580a452f55d3b05b8a55a6e0673f

-- ------------------------------------------------------------------------
-- Schemas
-- ------------------------------------------------------------------------

CREATE SCHEMA kedge_practice;

-- ------------------------------------------------------------------------
-- Functions and procedures
-- ------------------------------------------------------------------------

CREATE FUNCTION kedge_practice.next_review_time(mistake_count integer, from_time timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
    SELECT from_time + CASE
        WHEN mistake_count IS NULL OR mistake_count <= 1 THEN INTERVAL '1 day'
        WHEN mistake_count = 2 THEN INTERVAL '2 days'
        WHEN mistake_count = 3 THEN INTERVAL '4 days'
        WHEN mistake_count = 4 THEN INTERVAL '7 days'
        ELSE INTERVAL '14 days'
    END;
$$;

CREATE FUNCTION kedge_practice.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;

-- ------------------------------------------------------------------------
-- Tables, sequences and views
-- ------------------------------------------------------------------------

CREATE TABLE kedge_practice.attachments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    owner_type text NOT NULL,
    owner_id uuid NOT NULL,
    url text NOT NULL,
    mime_type text NOT NULL,
    size_bytes bigint,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    uploaded_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT attachments_owner_type_check CHECK ((owner_type = ANY (ARRAY['quiz'::text, 'knowledge_point'::text, 'user'::text, 'practice_answer'::text]))),
    CONSTRAINT attachments_size_bytes_check CHECK ((size_bytes >= 0))
);

CREATE TABLE kedge_practice.knowledge_points (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    code text NOT NULL,
    title text NOT NULL,
    description text,
    subject text NOT NULL,
    grade_level smallint,
    parent_id uuid,
    sort_order integer DEFAULT 0 NOT NULL,
    tags jsonb DEFAULT '[]'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE kedge_practice.knowledge_points_metadata (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    knowledge_point_id uuid NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    source text,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE kedge_practice.practice_answers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    session_id uuid NOT NULL,
    quiz_id uuid NOT NULL,
    user_id uuid NOT NULL,
    answer text,
    is_correct boolean DEFAULT false NOT NULL,
    time_spent_ms integer,
    answered_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT practice_answers_time_spent_ms_check CHECK ((time_spent_ms >= 0))
);

CREATE TABLE kedge_practice.practice_sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    strategy_id uuid,
    knowledge_point_id uuid,
    status text DEFAULT 'in_progress'::text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    score numeric(5,2),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    quiz_ids uuid[] DEFAULT '{}'::uuid[] NOT NULL,
    CONSTRAINT practice_sessions_score_check CHECK (((score >= (0)::numeric) AND (score <= (100)::numeric))),
    CONSTRAINT practice_sessions_status_check CHECK ((status = ANY (ARRAY['in_progress'::text, 'completed'::text, 'abandoned'::text])))
);

CREATE TABLE kedge_practice.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text,
    display_name text NOT NULL,
    role text DEFAULT 'student'::text NOT NULL,
    avatar_url text,
    preferences jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_anonymous boolean DEFAULT false NOT NULL,
    last_login_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['student'::text, 'teacher'::text, 'admin'::text])))
);

CREATE VIEW kedge_practice.practice_statistics AS
 SELECT u.id AS user_id,
    COALESCE(ss.sessions_count, (0)::bigint) AS sessions_count,
    COALESCE(ss.completed_sessions, (0)::bigint) AS completed_sessions,
    COALESCE(aa.answers_count, (0)::bigint) AS answers_count,
    COALESCE(aa.correct_answers, (0)::bigint) AS correct_answers,
        CASE
            WHEN (COALESCE(aa.answers_count, (0)::bigint) = 0) THEN NULL::numeric
            ELSE round(((aa.correct_answers)::numeric / (aa.answers_count)::numeric), 4)
        END AS accuracy,
    GREATEST(ss.last_session_at, aa.last_answer_at) AS last_practice_at
   FROM ((kedge_practice.users u
     LEFT JOIN ( SELECT s.user_id,
            count(*) AS sessions_count,
            count(*) FILTER (WHERE (s.status = 'completed'::text)) AS completed_sessions,
            max(COALESCE(s.completed_at, s.started_at)) AS last_session_at
           FROM kedge_practice.practice_sessions s
          GROUP BY s.user_id) ss ON ((ss.user_id = u.id)))
     LEFT JOIN ( SELECT a.user_id,
            count(*) AS answers_count,
            count(*) FILTER (WHERE a.is_correct) AS correct_answers,
            max(a.answered_at) AS last_answer_at
           FROM kedge_practice.practice_answers a
          GROUP BY a.user_id) aa ON ((aa.user_id = u.id)));

CREATE TABLE kedge_practice.practice_strategies (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    description text,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    sort_order integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE kedge_practice.quizzes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    knowledge_point_id uuid NOT NULL,
    question_type text NOT NULL,
    question text NOT NULL,
    options jsonb DEFAULT '[]'::jsonb NOT NULL,
    answer text NOT NULL,
    explanation text,
    images jsonb DEFAULT '[]'::jsonb NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT quizzes_question_type_check CHECK ((question_type = ANY (ARRAY['single_choice'::text, 'multiple_choice'::text, 'true_false'::text, 'fill_blank'::text, 'short_answer'::text])))
);

CREATE TABLE kedge_practice.student_mistakes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    quiz_id uuid NOT NULL,
    session_id uuid,
    last_answer text,
    mistake_count integer DEFAULT 1 NOT NULL,
    last_mistake_at timestamp with time zone DEFAULT now() NOT NULL,
    next_review_at timestamp with time zone,
    resolved boolean DEFAULT false NOT NULL,
    resolved_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT student_mistakes_mistake_count_check CHECK ((mistake_count >= 0))
);

CREATE TABLE kedge_practice.student_weaknesses (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    knowledge_point_id uuid NOT NULL,
    weakness_score numeric(4,3) DEFAULT 0 NOT NULL,
    attempts_count integer DEFAULT 0 NOT NULL,
    wrong_count integer DEFAULT 0 NOT NULL,
    last_practiced_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT student_weaknesses_weakness_score_check CHECK (((weakness_score >= (0)::numeric) AND (weakness_score <= (1)::numeric)))
);

-- ------------------------------------------------------------------------
-- Data
-- ------------------------------------------------------------------------

-- 4 rows of kedge_practice.practice_strategies
INSERT INTO kedge_practice.practice_strategies (id, code, name, description, config, is_active, sort_order, created_at, updated_at) VALUES
	('10000000-0000-4000-8000-000000000001', 'random', 'Random practice', 'Random active quizzes from the chosen knowledge point and its children.', '{"question_count": 10, "shuffle_options": true}', true, 1, '2024-04-02 00:00:00+00', '2024-04-02 00:00:00+00'),
	('10000000-0000-4000-8000-000000000002', 'weakness_focus', 'Focus on weaknesses', 'Quizzes from the knowledge points with the highest weakness score.', '{"question_count": 10, "min_weakness_score": 0.4, "max_knowledge_points": 3}', true, 2, '2024-04-02 00:00:00+00', '2024-04-02 00:00:00+00'),
	('10000000-0000-4000-8000-000000000003', 'spaced_review', 'Spaced review', 'Previously missed quizzes that are due for review.', '{"question_count": 15, "include_unresolved_only": true}', true, 3, '2024-04-02 00:00:00+00', '2024-04-02 00:00:00+00'),
	('10000000-0000-4000-8000-000000000004', 'exam_simulation', 'Exam simulation', 'A timed, exam-like paper with a fixed difficulty mix and no feedback until the end.', '{"show_feedback": false, "difficulty_mix": {"easy": 0.3, "hard": 0.2, "medium": 0.5}, "question_count": 40, "time_limit_minutes": 90}', true, 4, '2025-03-10 00:00:00+00', '2025-03-10 00:00:00+00');

-- 1 row of kedge_practice.users
INSERT INTO kedge_practice.users (id, email, display_name, role, avatar_url, preferences, is_anonymous, last_login_at, created_at, updated_at) VALUES
	('00000000-0000-0000-0000-000000000000', NULL, 'Anonymous', 'student', NULL, '{}', true, NULL, '2024-03-01 00:00:00+00', '2024-03-01 00:00:00+00');

-- ------------------------------------------------------------------------
-- Constraints
-- ------------------------------------------------------------------------

ALTER TABLE ONLY kedge_practice.attachments
    ADD CONSTRAINT attachments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.knowledge_points
    ADD CONSTRAINT knowledge_points_code_key UNIQUE (code);

ALTER TABLE ONLY kedge_practice.knowledge_points_metadata
    ADD CONSTRAINT knowledge_points_metadata_knowledge_point_id_key UNIQUE (knowledge_point_id);

ALTER TABLE ONLY kedge_practice.knowledge_points_metadata
    ADD CONSTRAINT knowledge_points_metadata_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.knowledge_points
    ADD CONSTRAINT knowledge_points_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.practice_answers
    ADD CONSTRAINT practice_answers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.practice_sessions
    ADD CONSTRAINT practice_sessions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.practice_strategies
    ADD CONSTRAINT practice_strategies_code_key UNIQUE (code);

ALTER TABLE ONLY kedge_practice.practice_strategies
    ADD CONSTRAINT practice_strategies_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.quizzes
    ADD CONSTRAINT quizzes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.student_mistakes
    ADD CONSTRAINT student_mistakes_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.student_mistakes
    ADD CONSTRAINT student_mistakes_user_id_quiz_id_key UNIQUE (user_id, quiz_id);

ALTER TABLE ONLY kedge_practice.student_weaknesses
    ADD CONSTRAINT student_weaknesses_pkey PRIMARY KEY (id);

ALTER TABLE ONLY kedge_practice.student_weaknesses
    ADD CONSTRAINT student_weaknesses_user_id_knowledge_point_id_key UNIQUE (user_id, knowledge_point_id);

ALTER TABLE ONLY kedge_practice.users
    ADD CONSTRAINT users_email_key UNIQUE (email);

ALTER TABLE ONLY kedge_practice.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

-- ------------------------------------------------------------------------
-- Indexes
-- ------------------------------------------------------------------------

CREATE INDEX attachments_metadata_idx ON kedge_practice.attachments USING gin (metadata);

CREATE INDEX attachments_owner_type_owner_id_idx ON kedge_practice.attachments USING btree (owner_type, owner_id);

CREATE INDEX attachments_uploaded_by_idx ON kedge_practice.attachments USING btree (uploaded_by);

CREATE INDEX knowledge_points_metadata_metadata_idx ON kedge_practice.knowledge_points_metadata USING gin (metadata);

CREATE INDEX knowledge_points_parent_id_idx ON kedge_practice.knowledge_points USING btree (parent_id);

CREATE INDEX knowledge_points_subject_grade_level_idx ON kedge_practice.knowledge_points USING btree (subject, grade_level);

CREATE INDEX knowledge_points_tags_idx ON kedge_practice.knowledge_points USING gin (tags);

CREATE INDEX practice_answers_quiz_id_idx ON kedge_practice.practice_answers USING btree (quiz_id);

CREATE INDEX practice_answers_session_id_idx ON kedge_practice.practice_answers USING btree (session_id);

CREATE INDEX practice_answers_user_id_answered_at_idx ON kedge_practice.practice_answers USING btree (user_id, answered_at DESC);

CREATE INDEX practice_answers_user_id_idx ON kedge_practice.practice_answers USING btree (user_id);

CREATE INDEX practice_sessions_knowledge_point_id_idx ON kedge_practice.practice_sessions USING btree (knowledge_point_id);

CREATE INDEX practice_sessions_started_at_idx ON kedge_practice.practice_sessions USING btree (started_at);

CREATE INDEX practice_sessions_strategy_id_idx ON kedge_practice.practice_sessions USING btree (strategy_id);

CREATE INDEX practice_sessions_user_id_idx ON kedge_practice.practice_sessions USING btree (user_id);

CREATE INDEX practice_sessions_user_id_status_idx ON kedge_practice.practice_sessions USING btree (user_id, status);

CREATE INDEX practice_strategies_is_active_sort_order_idx ON kedge_practice.practice_strategies USING btree (is_active, sort_order);

CREATE INDEX quizzes_created_by_idx ON kedge_practice.quizzes USING btree (created_by);

CREATE INDEX quizzes_knowledge_point_id_idx ON kedge_practice.quizzes USING btree (knowledge_point_id);

CREATE INDEX quizzes_question_type_idx ON kedge_practice.quizzes USING btree (question_type);

CREATE INDEX student_mistakes_quiz_id_idx ON kedge_practice.student_mistakes USING btree (quiz_id);

CREATE INDEX student_mistakes_review_queue_idx ON kedge_practice.student_mistakes USING btree (next_review_at) WHERE (resolved = false);

CREATE INDEX student_mistakes_session_id_idx ON kedge_practice.student_mistakes USING btree (session_id);

CREATE INDEX student_mistakes_student_id_idx ON kedge_practice.student_mistakes USING btree (user_id);

CREATE INDEX student_weaknesses_knowledge_point_id_idx ON kedge_practice.student_weaknesses USING btree (knowledge_point_id);

CREATE INDEX student_weaknesses_user_id_score_idx ON kedge_practice.student_weaknesses USING btree (user_id, weakness_score DESC);

CREATE INDEX users_preferences_idx ON kedge_practice.users USING gin (preferences);

CREATE INDEX users_role_idx ON kedge_practice.users USING btree (role);

-- ------------------------------------------------------------------------
-- Triggers and rules
-- ------------------------------------------------------------------------

CREATE TRIGGER set_attachments_updated_at BEFORE UPDATE ON kedge_practice.attachments FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_knowledge_points_metadata_updated_at BEFORE UPDATE ON kedge_practice.knowledge_points_metadata FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_knowledge_points_updated_at BEFORE UPDATE ON kedge_practice.knowledge_points FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_practice_answers_updated_at BEFORE UPDATE ON kedge_practice.practice_answers FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_practice_sessions_updated_at BEFORE UPDATE ON kedge_practice.practice_sessions FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_practice_strategies_updated_at BEFORE UPDATE ON kedge_practice.practice_strategies FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_quizzes_updated_at BEFORE UPDATE ON kedge_practice.quizzes FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_student_mistakes_updated_at BEFORE UPDATE ON kedge_practice.student_mistakes FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_student_weaknesses_updated_at BEFORE UPDATE ON kedge_practice.student_weaknesses FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

CREATE TRIGGER set_users_updated_at BEFORE UPDATE ON kedge_practice.users FOR EACH ROW EXECUTE FUNCTION kedge_practice.set_updated_at();

-- ------------------------------------------------------------------------
-- Foreign keys
-- ------------------------------------------------------------------------

ALTER TABLE ONLY kedge_practice.attachments
    ADD CONSTRAINT attachments_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES kedge_practice.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY kedge_practice.knowledge_points_metadata
    ADD CONSTRAINT knowledge_points_metadata_knowledge_point_id_fkey FOREIGN KEY (knowledge_point_id) REFERENCES kedge_practice.knowledge_points(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.knowledge_points
    ADD CONSTRAINT knowledge_points_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES kedge_practice.knowledge_points(id) ON DELETE SET NULL;

ALTER TABLE ONLY kedge_practice.practice_answers
    ADD CONSTRAINT practice_answers_quiz_id_fkey FOREIGN KEY (quiz_id) REFERENCES kedge_practice.quizzes(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.practice_answers
    ADD CONSTRAINT practice_answers_session_id_fkey FOREIGN KEY (session_id) REFERENCES kedge_practice.practice_sessions(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.practice_answers
    ADD CONSTRAINT practice_answers_user_id_fkey FOREIGN KEY (user_id) REFERENCES kedge_practice.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.practice_sessions
    ADD CONSTRAINT practice_sessions_knowledge_point_id_fkey FOREIGN KEY (knowledge_point_id) REFERENCES kedge_practice.knowledge_points(id) ON DELETE SET NULL;

ALTER TABLE ONLY kedge_practice.practice_sessions
    ADD CONSTRAINT practice_sessions_strategy_id_fkey FOREIGN KEY (strategy_id) REFERENCES kedge_practice.practice_strategies(id) ON DELETE SET NULL;

ALTER TABLE ONLY kedge_practice.practice_sessions
    ADD CONSTRAINT practice_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES kedge_practice.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.quizzes
    ADD CONSTRAINT quizzes_created_by_fkey FOREIGN KEY (created_by) REFERENCES kedge_practice.users(id) ON DELETE SET NULL;

ALTER TABLE ONLY kedge_practice.quizzes
    ADD CONSTRAINT quizzes_knowledge_point_id_fkey FOREIGN KEY (knowledge_point_id) REFERENCES kedge_practice.knowledge_points(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.student_mistakes
    ADD CONSTRAINT student_mistakes_quiz_id_fkey FOREIGN KEY (quiz_id) REFERENCES kedge_practice.quizzes(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.student_mistakes
    ADD CONSTRAINT student_mistakes_session_id_fkey FOREIGN KEY (session_id) REFERENCES kedge_practice.practice_sessions(id) ON DELETE SET NULL;

ALTER TABLE ONLY kedge_practice.student_mistakes
    ADD CONSTRAINT student_mistakes_user_id_fkey FOREIGN KEY (user_id) REFERENCES kedge_practice.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.student_weaknesses
    ADD CONSTRAINT student_weaknesses_knowledge_point_id_fkey FOREIGN KEY (knowledge_point_id) REFERENCES kedge_practice.knowledge_points(id) ON DELETE CASCADE;

ALTER TABLE ONLY kedge_practice.student_weaknesses
    ADD CONSTRAINT student_weaknesses_user_id_fkey FOREIGN KEY (user_id) REFERENCES kedge_practice.users(id) ON DELETE CASCADE;

-- ------------------------------------------------------------------------
-- Comments
-- ------------------------------------------------------------------------

COMMENT ON SCHEMA kedge_practice IS 'Kedge Self-Practice learning platform';

COMMENT ON FUNCTION kedge_practice.next_review_time(mistake_count integer, from_time timestamp with time zone) IS 'Spaced-repetition helper: next review time after the n-th mistake (1, 2, 4, 7, then 14 days). STABLE, not IMMUTABLE: timestamptz + interval depends on the TimeZone setting.';

COMMENT ON FUNCTION kedge_practice.set_updated_at() IS 'Trigger function: sets updated_at to now() on every UPDATE.';

COMMENT ON TABLE kedge_practice.attachments IS 'Uploaded files attached to quizzes, knowledge points, users or answers';

COMMENT ON COLUMN kedge_practice.attachments.owner_id IS 'Id of the owning row in the table named by owner_type (no foreign key)';

COMMENT ON TABLE kedge_practice.knowledge_points IS 'Knowledge points (syllabus tree) that quizzes are attached to';

COMMENT ON COLUMN kedge_practice.knowledge_points.code IS 'Stable curriculum code, e.g. MATH-07-ALG-03';

COMMENT ON COLUMN kedge_practice.knowledge_points.parent_id IS 'Parent knowledge point; NULL for a subject root';

COMMENT ON TABLE kedge_practice.knowledge_points_metadata IS 'Extensible metadata of a knowledge point (one row each)';

COMMENT ON COLUMN kedge_practice.knowledge_points_metadata.source IS 'Where the metadata came from, e.g. curriculum import or editor';

COMMENT ON TABLE kedge_practice.practice_answers IS 'Answers given to quizzes during practice sessions';

COMMENT ON COLUMN kedge_practice.practice_answers.time_spent_ms IS 'Time from showing the quiz to submitting, in milliseconds';

COMMENT ON TABLE kedge_practice.practice_sessions IS 'One practice run of a student';

COMMENT ON COLUMN kedge_practice.practice_sessions.score IS 'Percentage of correct answers, set when the session completes';

COMMENT ON COLUMN kedge_practice.practice_sessions.quiz_ids IS 'Quizzes of the session in presentation order (replaces the practice_questions table)';

COMMENT ON TABLE kedge_practice.users IS 'Platform users: students, teachers and admins';

COMMENT ON COLUMN kedge_practice.users.email IS 'Login e-mail; NULL for anonymous users';

COMMENT ON COLUMN kedge_practice.users.preferences IS 'UI and practice preferences (language, daily goal, ...)';

COMMENT ON COLUMN kedge_practice.users.is_anonymous IS 'True for the shared guest account used before sign-up';

COMMENT ON VIEW kedge_practice.practice_statistics IS 'Practice statistics per user';

COMMENT ON COLUMN kedge_practice.practice_statistics.accuracy IS 'correct_answers / answers_count (0..1); NULL when there are no answers';

COMMENT ON TABLE kedge_practice.practice_strategies IS 'How a practice session picks its questions';

COMMENT ON COLUMN kedge_practice.practice_strategies.config IS 'Strategy parameters read by the session builder';

COMMENT ON TABLE kedge_practice.quizzes IS 'Practice questions, one knowledge point each';

COMMENT ON COLUMN kedge_practice.quizzes.options IS 'Answer options for choice questions: [{"key": "A", "text": "..."}]';

COMMENT ON COLUMN kedge_practice.quizzes.answer IS 'Correct answer (option keys joined by commas for multiple_choice)';

COMMENT ON TABLE kedge_practice.student_mistakes IS 'Mistake book: quizzes a student got wrong, with review schedule';

COMMENT ON COLUMN kedge_practice.student_mistakes.session_id IS 'Session of the latest mistake';

COMMENT ON COLUMN kedge_practice.student_mistakes.next_review_at IS 'When the quiz is due for review; see next_review_time()';

COMMENT ON TABLE kedge_practice.student_weaknesses IS 'How weak each student is on each knowledge point';

COMMENT ON COLUMN kedge_practice.student_weaknesses.weakness_score IS '0 = mastered, 1 = always wrong';
