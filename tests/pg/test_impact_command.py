"""`kedge-hasura impact` end to end on the shipped project: git export of the base, two replays, SDL."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import build_schema

from kedge_hasura.graphql.changes import ChangeClass

KEDGE_PROJECT = Path(__file__).resolve().parents[2] / "hasura"


@pytest.fixture(autouse=True)
def _session_server(use_session_server: str) -> None:
    """Scratch databases on the test session's server."""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the shipped project under hasura/, committed on main."""
    root = tmp_path / "repo"
    shutil.copytree(KEDGE_PROJECT, root / "hasura")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def test_print_schema_gives_sdl_with_each_roles_root_fields(run_cli, repo: Path) -> None:
    sdl = {}
    for role in ("student", "teacher"):  # admin's SDL is checked through --sdl-dir below
        result = run_cli("impact", "--print-schema", role, cwd=repo / "hasura")
        assert result.exit_code == 0, result.stderr
        sdl[role] = build_schema(result.stdout)  # parses with graphql-core
    # The shipped permissions: teachers insert quizzes, students only update their own user row.
    assert "insert_kedge_practice_quizzes" in sdl["teacher"].mutation_type.fields
    assert "insert_kedge_practice_quizzes" not in sdl["student"].mutation_type.fields
    assert "update_kedge_practice_users_by_pk" in sdl["student"].mutation_type.fields
    assert "kedge_practice_users_aggregate" not in sdl["student"].query_type.fields
    # Students do not see last_login_at; teachers do.
    assert "last_login_at" not in sdl["student"].type_map["kedge_practice_users"].fields
    assert "last_login_at" in sdl["teacher"].type_map["kedge_practice_users"].fields
    unknown = run_cli("impact", "--print-schema", "nobody", cwd=repo / "hasura")
    assert unknown.exit_code == 2 and "nobody" in unknown.stderr


def test_impact_against_the_committed_base_reports_a_planted_change_with_its_cause(
    run_cli, repo: Path
) -> None:
    users = repo / "hasura" / "metadata" / "databases" / "default" / "tables" / "kedge_practice_users.yaml"
    text = users.read_text()
    text = text.replace("        - display_name\n        - email\n", "        - display_name\n", 1)
    users.write_text(
        text.replace(
            "      filter:\n        id:\n          _eq: X-Hasura-User-Id\n  - role: teacher",
            "      filter: {}\n  - role: teacher",
        )
    )
    # A migration drops a column teachers could select, and their permission drops it too.
    migration = repo / "hasura" / "migrations" / "default" / "1800000000000_drop_last_login"
    migration.mkdir()
    (migration / "up.sql").write_text(
        "-- no longer tracked\nALTER TABLE kedge_practice.users DROP COLUMN last_login_at;\n"
    )
    users.write_text(users.read_text().replace("        - last_login_at\n", "", 1))
    before = _git(repo, "status", "--porcelain")
    sdl = repo.parent / "sdl"
    result = run_cli(
        "--output", "json", "impact", "--base", "main", "--sdl-dir", str(sdl), cwd=repo / "hasura"
    )
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    roles = {role["role"]: role for role in document["result"]["roles"]}
    breaking = {c["coordinate"]: c for c in roles["student"]["breaking"]}
    assert "kedge_practice_users.email: String" in breaking
    cause = breaking["kedge_practice_users.email: String"]["causes"][0]
    assert cause["path"] == "metadata/databases/default/tables/kedge_practice_users.yaml"
    assert cause["line"] == users.read_text().splitlines().index("  - role: student") + 1
    exposure = roles["student"]["exposure"]
    assert [(c["code"], c["coordinate"]) for c in exposure] == [
        ("FILTER_WIDENED", "query_root.kedge_practice_users")
    ]
    assert roles["teacher"]["exposure"] == []
    dropped = {c["coordinate"]: c for c in roles["teacher"]["breaking"]}[
        "kedge_practice_users.last_login_at: timestamptz"
    ]
    assert {(c["path"], c["line"]) for c in dropped["causes"]} == {
        (
            "metadata/databases/default/tables/kedge_practice_users.yaml",
            users.read_text().splitlines().index("  - role: teacher") + 1,
        ),
        ("migrations/default/1800000000000_drop_last_login/up.sql", 2),
    }
    assert document["result"]["fail_on"] == [ChangeClass.BREAKING.value, ChangeClass.EXPOSURE.value]
    assert _git(repo, "status", "--porcelain") == before  # nothing written in the user's tree
    assert sorted(p.relative_to(sdl).as_posix() for p in sdl.rglob("*.graphql")) == [
        f"{side}/{role}.graphql" for side in ("base", "head") for role in ("admin", "student", "teacher")
    ]
    admin = build_schema((sdl / "head" / "admin.graphql").read_text())
    admin_roots = set(admin.query_type.fields)
    assert {
        "kedge_practice_users",
        "kedge_practice_users_by_pk",
        "kedge_practice_users_aggregate",
    } <= admin_roots
    assert "insert_kedge_practice_quizzes_one" in admin.mutation_type.fields
    assert "kedge_practice_users_stream" in admin.subscription_type.fields
    student_type = "type kedge_practice_users {"
    base_sdl, head_sdl = (
        build_schema((sdl / side / "student.graphql").read_text()) for side in ("base", "head")
    )
    assert "email" in base_sdl.type_map["kedge_practice_users"].fields
    assert "email" not in head_sdl.type_map["kedge_practice_users"].fields
    assert student_type in (sdl / "head" / "student.graphql").read_text()


def test_check_base_reports_impact_changes_as_findings(run_cli, repo: Path) -> None:
    users = repo / "hasura" / "metadata" / "databases" / "default" / "tables" / "kedge_practice_users.yaml"
    text = users.read_text()
    widened = text.replace(
        "      filter:\n        id:\n          _eq: X-Hasura-User-Id\n  - role: teacher",
        "      filter: {}\n  - role: teacher",
    )
    assert widened != text
    narrowed = widened.replace("        - display_name\n        - email\n", "        - display_name\n", 1)
    assert narrowed != widened
    users.write_text(narrowed)
    # Teachers insert quizzes without setting this column: their inserts start to fail (dangerous).
    migration = repo / "hasura" / "migrations" / "default" / "1800000000002_quiz_topic"
    migration.mkdir()
    (migration / "up.sql").write_text("ALTER TABLE kedge_practice.quizzes ADD COLUMN topic text NOT NULL;\n")
    result = run_cli("--output", "json", "check", "--base", "main", cwd=repo / "hasura")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)["result"]
    impact_findings = [f for f in report["findings"] if f["check"] == "graphql-impact"]
    student_line = narrowed.splitlines().index("  - role: student") + 1
    by_code = {f["code"]: f for f in impact_findings if f["code"] != "graphql-breaking"}
    breaking = [f for f in impact_findings if f["code"] == "graphql-breaking"]
    assert set(by_code) == {"graphql-exposure", "graphql-dangerous"}, impact_findings
    assert (by_code["graphql-exposure"]["severity"], by_code["graphql-exposure"]["line"]) == (
        "error",
        student_line,
    )
    assert by_code["graphql-exposure"]["message"].startswith(
        "role student: query_root.kedge_practice_users: "
    )
    assert {(f["severity"], f["line"]) for f in breaking} == {("error", student_line)}
    assert any(f["message"].startswith("role student: kedge_practice_users.email: ") for f in breaking)
    assert by_code["graphql-dangerous"]["severity"] == "warning"
    assert by_code["graphql-dangerous"]["message"].startswith("role teacher: ")
    assert by_code["graphql-dangerous"]["path"].endswith("1800000000002_quiz_topic/up.sql")
    assert {c["name"]: c["status"] for c in report["checks"]}["graphql-impact"] == "failed"
    # Without --base the check is not part of the report.
    plain = json.loads(run_cli("--output", "json", "check", cwd=repo / "hasura").stdout)["result"]
    assert "graphql-impact" not in {c["name"] for c in plain["checks"]}


def test_a_change_that_only_adds_is_safe_and_exits_0(run_cli, repo: Path) -> None:
    # A new column is in no permission: only admin's API grows (a field added), which breaks nobody.
    migration = repo / "hasura" / "migrations" / "default" / "1800000000001_add_nickname"
    migration.mkdir()
    (migration / "up.sql").write_text("ALTER TABLE kedge_practice.users ADD COLUMN nickname text;\n")

    result = run_cli("--output", "json", "impact", "--base", "main", cwd=repo / "hasura")

    assert result.exit_code == 0, result.stderr
    roles = {role["role"]: role for role in json.loads(result.stdout)["result"]["roles"]}
    assert roles["admin"]["breaking"] == roles["admin"]["exposure"] == []
    assert roles["admin"]["safe"] > 0
    assert all(roles[r]["safe"] == 0 for r in ("student", "teacher"))


def _track_function(repo: Path) -> Path:
    """A migration creating kedge_practice.search_quizzes, and metadata tracking it."""
    migration = repo / "hasura" / "migrations" / "default" / "1800000000001_search_quizzes"
    migration.mkdir()
    (migration / "up.sql").write_text(
        "CREATE FUNCTION kedge_practice.search_quizzes(search text, max_rows integer DEFAULT 10)\n"
        "    RETURNS SETOF kedge_practice.quizzes LANGUAGE sql STABLE\n"
        "    AS $$ SELECT * FROM kedge_practice.quizzes LIMIT max_rows $$;\n"
    )
    databases = repo / "hasura" / "metadata" / "databases" / "databases.yaml"
    databases.write_text(databases.read_text() + '  functions: "!include default/functions/functions.yaml"\n')
    functions = repo / "hasura" / "metadata" / "databases" / "default" / "functions" / "functions.yaml"
    functions.parent.mkdir()
    functions.write_text("- function:\n    schema: kedge_practice\n    name: search_quizzes\n")
    return functions


def test_a_tracked_function_is_a_root_field_and_untracking_it_is_breaking_with_its_cause(
    run_cli, repo: Path
) -> None:
    functions = _track_function(repo)
    added = run_cli("--output", "json", "impact", "--base", "main", cwd=repo / "hasura")
    assert added.exit_code == 0, added.stderr  # a new root field: safe
    teacher = run_cli("impact", "--print-schema", "teacher", cwd=repo / "hasura")
    schema = build_schema(teacher.stdout)
    field = schema.query_type.fields["kedge_practice_search_quizzes"]
    assert str(field.type) == "[kedge_practice_quizzes!]!"
    assert str(field.args["args"].type) == "kedge_practice_search_quizzes_args!"  # `search` has no default
    assert set(schema.type_map["kedge_practice_search_quizzes_args"].fields) == {"search", "max_rows"}
    assert "kedge_practice_search_quizzes" in schema.subscription_type.fields

    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "track search_quizzes")
    functions.write_text("[]\n")  # untracked again

    result = run_cli("--output", "json", "impact", "--base", "main", cwd=repo / "hasura")
    assert result.exit_code == 1, result.stderr
    roles = {role["role"]: role for role in json.loads(result.stdout)["result"]["roles"]}
    for role in ("admin", "teacher", "student"):
        breaking = {c["coordinate"].split(":")[0]: c for c in roles[role]["breaking"]}
        removed = breaking["query_root.kedge_practice_search_quizzes"]
        assert removed["causes"] == [
            {
                "path": "metadata/databases/default/functions/functions.yaml",
                "line": 1,
                "note": "function untracked; the line is on the base side",
                "side": "base",
            }
        ], role


def test_a_base_that_does_not_replay_is_named_by_its_revision_and_project_path(run_cli, repo: Path) -> None:
    broken = repo / "hasura" / "migrations" / "default" / "1800000000002_broken"
    broken.mkdir()
    (broken / "up.sql").write_text("-- a type the base never created\nCREATE TABLE t (g geography);\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "broken")
    (broken / "up.sql").write_text("CREATE TABLE t (g text);\n")  # fixed in the working tree

    result = run_cli("--output", "json", "impact", "--base", "main", cwd=repo / "hasura")

    assert result.exit_code == 3, result.stderr
    error = json.loads(result.stdout)["error"]
    commit = _git(repo, "rev-parse", "main").strip()[:12]
    assert error["message"].startswith(
        f"base {commit}: migration 1800000000002_broken failed at "
        'migrations/default/1800000000002_broken/up.sql:2: type "geography" does not exist'
    ), error
    assert error["details"]["file"] == "migrations/default/1800000000002_broken/up.sql"
    assert "tmp" not in json.dumps(error)  # nothing points into the deleted export
