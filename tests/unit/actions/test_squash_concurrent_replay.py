"""Which histories may have their second replay run beside the first (actions.squash.steps).

Two replays at once share the server's cluster-wide state (roles, tablespaces, databases, server
settings); a history that touches it is replayed one replay at a time. Over-matching only costs
time; missing a statement could make a replay see the other's role, so look-alikes are listed.
"""

from __future__ import annotations

import pytest

from kedge_hasura.actions.squash.steps import is_cluster_wide


@pytest.mark.parametrize(
    ("sql", "cluster_wide"),
    [
        ("CREATE ROLE app_reader;", True),
        ("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles) THEN create  user bob; END IF; END $$;", True),
        ("CREATE GROUP staff;", True),
        ("ALTER ROLE app SET search_path = app;", True),
        ("DROP USER IF EXISTS bob;", True),
        ("GRANT app_reader TO bob;", True),
        ("GRANT reader, writer TO bob;", True),
        ("CREATE TABLESPACE fast LOCATION '/x';", True),
        ("ALTER DATABASE current SET timezone = 'UTC';", True),
        ("ALTER SYSTEM SET work_mem = '64MB';", True),
        ("REASSIGN OWNED BY a TO b;", True),
        ("COMMENT ON ROLE app IS 'x';", True),
        ("CREATE TABLE app.t (id int);", False),
        ('CREATE TABLE "user" (id int); CREATE TABLE roles (id int);', False),
        ("ALTER TABLE users ADD COLUMN role text;", False),
        ("GRANT SELECT ON app.t TO app_reader;", False),
        ("GRANT SELECT, INSERT ON app.t TO app_reader;", False),
        ("grant all privileges on all tables in schema app to app_reader;", False),
        ("GRANT USAGE ON SCHEMA app TO app_reader;", False),
        ("GRANT EXECUTE ON FUNCTION app.f() TO app_reader;", False),
        ("INSERT INTO app.roles (name) VALUES ('create role');", True),  # in a string: one at a time
        ("CREATE DATABASE other;", True),
    ],
    ids=lambda value: value if isinstance(value, bool) else value[:40],
)
def test_cluster_wide_statements_are_recognised(sql: str, cluster_wide: bool) -> None:
    assert is_cluster_wide(sql) is cluster_wide
