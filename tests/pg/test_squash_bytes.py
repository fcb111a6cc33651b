"""Every byte PostgreSQL stores from the migrations survives the squash (issue 11, item 2).

The history is written here byte by byte (escapes, not a fixture folder, so no editor or git
setting can normalise it): a whole file with CRLF line endings, a file with lone CRs, tabs,
trailing spaces, backslashes and E'' escapes, control characters, non-BMP characters, and lines
inside bodies that look like pg_dump's own session lines or psql meta-commands. It goes through
the CLI, and the result is checked with psql, independently of kedge-hasura's comparator: the
originals replayed one file at a time and the squashed up.sql replayed on its own must give the
same md5 for every stored text (prosrc, pg_get_functiondef, comments, defaults, constraints,
views, rows).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import SQUASH_FIXTURES, fresh_database, migrations_dir, tree_digest

# Characters str.splitlines() treats as line breaks (and newline translation changes), with the
# control characters and non-BMP text a literal may hold.
ODD = "cr\r lf\n crlf\r\n vt\x0b ff\x0c fs\x1c gs\x1d rs\x1e nel\x85 ls\u2028 ps\u2029 ctl\x01\x7f tab\t end "
ODD_SQL = ODD.replace("'", "''")
EMOJI = "\U0001f600 \U00010348"

CRLF_FILE = (
    "CREATE SCHEMA bytes;\r\n"
    "CREATE FUNCTION bytes.crlf_body(a text) RETURNS text LANGUAGE plpgsql AS $$\r\n"
    "BEGIN\r\n"
    "\tIF a = 'x\r\ny' THEN   \r\n"
    "\t\tRETURN E'tab\\there\\nnewline\\\\backslash';  \r\n"
    "\tEND IF;\r\n"
    "\tRETURN a || '" + EMOJI + "';\r\n"
    "END\r\n"
    "$$;\r\n"
    "COMMENT ON FUNCTION bytes.crlf_body(text) IS 'first line\r\nsecond line   \r\n';\r\n"
    "CREATE TABLE bytes.notes (\r\n"
    "  id int PRIMARY KEY,\r\n"
    "  body text NOT NULL DEFAULT 'a\r\nb\rc\td\\e   ',\r\n"
    "  tag text DEFAULT E'esc\\r\\n\\t\\\\\\x01' CHECK (tag <> 'bad\r\n'),\r\n"
    "  label text DEFAULT '" + ODD_SQL + "'\r\n"
    ");\r\n"
    "COMMENT ON TABLE bytes.notes IS 'table\rcomment with lone CR';\r\n"
    "COMMENT ON COLUMN bytes.notes.body IS '" + ODD_SQL + "';\r\n"
    "INSERT INTO bytes.notes (id, body, tag) VALUES (1, 'row\r\none', E'\\\\n is not a newline');\r\n"
)

LONE_CR_FILE = (
    "CREATE FUNCTION bytes.lone_cr() RETURNS text LANGUAGE sql IMMUTABLE AS $$\r"
    "SELECT 'mac\rline endings'::text\r"
    "$$;\n"
    "CREATE FUNCTION bytes.atomic_body() RETURNS text LANGUAGE sql IMMUTABLE\n"
    "BEGIN ATOMIC\n"
    "  SELECT '" + ODD_SQL + "' || E'\\u00e9\\U0001F600';\n"
    "END;\n"
    "CREATE VIEW bytes.shown AS\n"
    "  SELECT id, body || 'view\r\nliteral\t' || E'\\\\' AS shown, '" + EMOJI + "'::text AS wide\n"
    "  FROM bytes.notes;\n"
    "COMMENT ON VIEW bytes.shown IS 'trailing spaces   ';\n"
    "INSERT INTO bytes.notes (id, label) VALUES (2, '" + ODD_SQL + "');\n"
)

# Lines inside bodies and literals that pg_dump could itself have written between entries.
LOOKALIKE_FILE = (
    "CREATE FUNCTION bytes.lookalikes() RETURNS void LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "SET search_path = public;\n"
    "SET default_table_access_method = heap;\n"
    "PERFORM 1;\n"
    "END\n"
    "$$;\n"
    "COMMENT ON FUNCTION bytes.lookalikes() IS '\n"
    "\\restrict not a meta-command\n"
    "\\connect neither\n"
    "--\n"
    "-- PostgreSQL database dump complete\n"
    "--\n"
    "\n"
    "';\n"
)

HISTORY = [
    ("1700000000000_crlf_file", CRLF_FILE),
    ("1700000100000_lone_cr_and_views", LONE_CR_FILE),
    ("1700000200000_lookalike_lines", LOOKALIKE_FILE),
]

# The stored texts, one md5 per object: what must be byte-identical after the squash.
ORACLE = """
SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' '
       || md5(pg_get_functiondef(p.oid))
  FROM pg_proc p WHERE p.pronamespace = 'bytes'::regnamespace
UNION ALL
SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' ' || md5(d.description)
  FROM pg_description d WHERE d.objoid >= 16384
UNION ALL
SELECT 'default ' || pg_describe_object('pg_attrdef'::regclass, a.oid, 0) || ' '
       || md5(pg_get_expr(a.adbin, a.adrelid))
  FROM pg_attrdef a
 WHERE a.adrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'bytes'::regnamespace)
UNION ALL
SELECT 'constraint ' || c.conname || ' ' || md5(pg_get_constraintdef(c.oid))
  FROM pg_constraint c WHERE c.connamespace = 'bytes'::regnamespace
UNION ALL
SELECT 'view ' || c.oid::regclass::text || ' ' || md5(pg_get_viewdef(c.oid))
  FROM pg_class c WHERE c.relnamespace = 'bytes'::regnamespace AND c.relkind = 'v'
UNION ALL
SELECT 'rows bytes.notes ' || md5(string_agg(n::text, '|' ORDER BY n.id)) FROM bytes.notes n
ORDER BY 1
"""


def _psql(pg_cluster: ScratchCluster, conninfo: str, *args: str) -> bytes:
    psql = pg_cluster.client_installation().binary("psql")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    environment |= {"PGCLIENTENCODING": "UTF8", "LC_ALL": "C"}
    result = subprocess.run(
        [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, *args],
        capture_output=True,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def _replay_with_psql(pg_cluster: ScratchCluster, conninfo: str, files: list[Path]) -> None:
    """Each file as one transaction, as Hasura runs a migration."""
    for path in files:
        _psql(pg_cluster, conninfo, "-1", "-f", str(path))


def _oracle(pg_cluster: ScratchCluster, conninfo: str) -> list[str]:
    return _psql(pg_cluster, conninfo, "-A", "-t", "-c", ORACLE).decode().splitlines()


def _stored(pg_cluster: ScratchCluster, conninfo: str, sql: str) -> bytes:
    return _psql(pg_cluster, conninfo, "-A", "-t", "-c", sql)


@pytest.fixture
def bytes_project(tmp_path: Path) -> Path:
    root = tmp_path / "bytes"
    shutil.copytree(SQUASH_FIXTURES / "functions_and_triggers", root)
    shutil.rmtree(migrations_dir(root))
    for folder, text in HISTORY:
        (migrations_dir(root) / folder).mkdir(parents=True)
        (migrations_dir(root) / folder / "up.sql").write_bytes(text.encode("utf-8"))
    return root


@pytest.mark.parametrize("strategy", ["dump", "concat"])
def test_every_stored_byte_survives_the_squash(
    bytes_project: Path, pg_cluster: ScratchCluster, use_session_server: str, run_cli: Any, strategy: str
) -> None:
    originals = [migrations_dir(bytes_project) / folder / "up.sql" for folder, _ in HISTORY]
    with fresh_database(pg_cluster, "bytes_originals") as database:
        _replay_with_psql(pg_cluster, database.conninfo, originals)
        expected = _oracle(pg_cluster, database.conninfo)
    kinds = {line.split(" ", 1)[0] for line in expected}
    assert kinds == {"function", "comment", "default", "constraint", "view", "rows"}, expected

    result = run_cli("--project", str(bytes_project), "squash", "--strategy", strategy, "--no-archive")

    assert result.exit_code == 0, result.stdout + result.stderr
    up_sql = migrations_dir(bytes_project) / "1700000200000_squashed" / "up.sql"
    assert b"\tIF a = 'x\r\ny' THEN   \r\n" in up_sql.read_bytes()
    with fresh_database(pg_cluster, "bytes_squashed") as database:
        _replay_with_psql(pg_cluster, database.conninfo, [up_sql])
        assert _oracle(pg_cluster, database.conninfo) == expected
        # And the bytes are the ones the migrations wrote, not just equal on both sides.
        body = _stored(
            pg_cluster, database.conninfo, "SELECT prosrc FROM pg_proc WHERE proname = 'crlf_body'"
        )
        assert body.startswith(b"\r\nBEGIN\r\n\tIF a = 'x\r\ny' THEN   \r\n")
        label = _stored(pg_cluster, database.conninfo, "SELECT label FROM bytes.notes WHERE id = 2")
        assert label == ODD.encode() + b"\n"


def test_a_file_that_is_not_utf8_is_still_refused(
    bytes_project: Path, use_session_server: str, run_cli: Any
) -> None:
    folder = migrations_dir(bytes_project) / "1700000300000_latin1"
    folder.mkdir()
    (folder / "up.sql").write_bytes("COMMENT ON SCHEMA bytes IS 'caf\u00e9';\r\n".encode("latin-1"))
    before = tree_digest(bytes_project)

    result = run_cli("--project", str(bytes_project), "squash")

    assert result.exit_code == 3, result.stdout + result.stderr
    assert "not valid UTF-8" in result.stderr
    assert tree_digest(bytes_project) == before
