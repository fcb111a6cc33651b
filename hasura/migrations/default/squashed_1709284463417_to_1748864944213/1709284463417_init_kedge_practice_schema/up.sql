-- Initial schema for Kedge Self-Practice.
-- Everything lives in its own schema (kedge_practice) so that Hasura can track it apart from
-- public. Primary keys use gen_random_uuid(), built into PostgreSQL since 13, so neither
-- pgcrypto nor uuid-ossp is needed.

CREATE SCHEMA IF NOT EXISTS kedge_practice;

COMMENT ON SCHEMA kedge_practice IS 'Kedge Self-Practice learning platform';

-- Shared trigger function: every table gets a BEFORE UPDATE trigger calling it.
CREATE OR REPLACE FUNCTION kedge_practice.set_updated_at()
RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION kedge_practice.set_updated_at() IS 'Trigger function: sets updated_at to now() on every UPDATE.';

CREATE TABLE kedge_practice.users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'student' CHECK (role IN ('student', 'teacher', 'admin')),
    avatar_url TEXT,
    preferences JSONB NOT NULL DEFAULT '{}'::JSONB,
    is_anonymous BOOLEAN NOT NULL DEFAULT false,
    last_login_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX users_role_idx ON kedge_practice.users (role);
CREATE INDEX users_preferences_idx ON kedge_practice.users USING GIN (preferences);

CREATE TRIGGER set_users_updated_at
    BEFORE UPDATE ON kedge_practice.users
    FOR EACH ROW
    EXECUTE FUNCTION kedge_practice.set_updated_at();

COMMENT ON TABLE kedge_practice.users IS 'Platform users: students, teachers and admins';
COMMENT ON COLUMN kedge_practice.users.email IS 'Login e-mail; NULL for anonymous users';
COMMENT ON COLUMN kedge_practice.users.preferences IS 'UI and practice preferences (language, daily goal, ...)';
COMMENT ON COLUMN kedge_practice.users.is_anonymous IS 'True for the shared guest account used before sign-up';

-- The shared anonymous (guest) user. Its id is hard-coded in the frontend.
INSERT INTO kedge_practice.users (id, email, display_name, role, preferences, is_anonymous, created_at, updated_at)
VALUES (
    '00000000-0000-0000-0000-000000000000',
    NULL,
    'Anonymous',
    'student',
    '{}',
    true,
    '2024-03-01T00:00:00Z',
    '2024-03-01T00:00:00Z'
);
