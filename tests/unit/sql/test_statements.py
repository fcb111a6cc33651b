"""sql.statements: the no-transaction marker, statement splitting with exact positions, classification."""

from __future__ import annotations

import pytest

from kedge_hasura.sql.statements import NO_TRANSACTION_MARKER, has_no_transaction_marker, parse_sql

# -- the `-- hasura:no-transaction` marker -------------------------------------------------------
# Mirrors the official CLI's table (cli/migrate/detect_no_transaction_test.go): the marker counts
# only as the whole first line, give or take surrounding whitespace and a CRLF ending.

MARKER_CASES = [
    ("-- hasura:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);", True),
    ("    -- hasura:no-transaction\nCREATE TABLE t (id int);", True),
    ("-- hasura:no-transaction    \nCREATE TABLE t (id int);", True),
    ("-- hasura:no-transaction\r\nCREATE TABLE t (id int);", True),
    ("\t-- hasura:no-transaction\t\nSELECT 1;", True),
    ("-- hasura:no-transaction", True),
    ("CREATE TABLE users (id int PRIMARY KEY);", False),
    ("", False),
    ("\n-- hasura:no-transaction\nCREATE TABLE t (id int);", False),
    ("-- created by hand\n-- hasura:no-transaction\nSELECT 1;", False),
    ("-- hasura:no-transac\nSELECT 1;", False),
    ("--hasura:no-transaction\nSELECT 1;", False),
    ("INSERT INTO notes (body) VALUES ('-- hasura:no-transaction');", False),
    ("/* we do not want -- hasura:no-transaction here */ SELECT 1;", False),
    ("/*\n-- hasura:no-transaction\n*/\nSELECT 1;", False),
    ("SELECT 1; -- hasura:no-transaction", False),
    ("-- hasura:no-transaction because of the index\nSELECT 1;", False),
    ("-- HASURA:NO-TRANSACTION\nSELECT 1;", False),
]
MARKER_IDS = [
    "first-line",
    "leading-whitespace",
    "trailing-whitespace",
    "crlf",
    "tabs-around",
    "marker-only-file",
    "no-marker",
    "empty-file",
    "blank-line-before",
    "other-comment-before",
    "partial-marker",
    "no-space-after-dashes",
    "inside-string-literal",
    "inside-block-comment",
    "inside-multiline-block-comment",
    "trailing-comment-on-code-line",
    "extra-text-after",
    "upper-case",
]


@pytest.mark.parametrize(("text", "expected"), MARKER_CASES, ids=MARKER_IDS)
def test_no_transaction_marker(text: str, expected: bool) -> None:
    assert has_no_transaction_marker(text) is expected


@pytest.mark.parametrize(("text", "expected"), MARKER_CASES, ids=MARKER_IDS)
def test_parse_sql_reports_the_marker(text: str, expected: bool) -> None:
    assert parse_sql(text).has_no_transaction_marker is expected


def test_marker_constant_is_the_official_spelling() -> None:
    assert NO_TRANSACTION_MARKER == "-- hasura:no-transaction"


# -- splitting: exact positions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1;\nSELECT 2;", [("SELECT 1", 1), ("SELECT 2", 2)]),
        ("-- é\nSELECT 'é';\nSELECT 2;", [("SELECT 'é'", 2), ("SELECT 2", 3)]),
        (
            "-- 中文注释\nCREATE TABLE 表 (名 text);\nSELECT '中文';",
            [("CREATE TABLE 表 (名 text)", 2), ("SELECT '中文'", 3)],
        ),
        ("-- 🎉🚀\nSELECT '🎉';\n\nSELECT 3;", [("SELECT '🎉'", 2), ("SELECT 3", 4)]),
        ("-- é 中文 🎉\nSELECT 'é中🎉'; SELECT 'x';\n", [("SELECT 'é中🎉'", 2), ("SELECT 'x'", 2)]),
        ("  SELECT 1  ;  \n", [("SELECT 1", 1)]),
        ("SELECT 1", [("SELECT 1", 1)]),
    ],
    ids=["ascii", "latin-accent", "cjk", "emoji", "mixed-same-line", "padded", "no-final-semicolon"],
)
def test_statement_positions_are_character_offsets(text: str, expected: list[tuple[str, int]]) -> None:
    parsed = parse_sql(text)

    assert parsed.syntax_error is None
    assert [(s.text, s.line) for s in parsed.statements] == expected
    search_from = 0
    for index, statement in enumerate(parsed.statements):
        start = text.index(statement.text, search_from)
        assert (statement.index, statement.start, statement.end) == (
            index,
            start,
            start + len(statement.text),
        )
        assert text[statement.start : statement.end] == statement.text
        search_from = statement.end


def test_exact_offsets_after_multibyte_characters() -> None:
    # "-- é 中 🎉\n" is 9 characters but 16 bytes: offsets must count characters.
    text = "-- é 中 🎉\nSELECT 1;\nSELECT 'é';"
    first, second = parse_sql(text).statements

    assert (first.start, first.end, first.line) == (9, 17, 2)
    assert (second.start, second.end, second.line) == (19, 29, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 'a;b'; SELECT 2;", ["SELECT 'a;b'", "SELECT 2"]),
        ("SELECT E'it\\'s; fine'; SELECT 2;", ["SELECT E'it\\'s; fine'", "SELECT 2"]),
        ('SELECT 1 AS "odd;name"; SELECT 2;', ['SELECT 1 AS "odd;name"', "SELECT 2"]),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nSELECT 2;",
            ["CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$", "SELECT 2"],
        ),
        (
            "CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n  PERFORM 1; PERFORM 2;\n"
            "END\n$body$;\nSELECT 3;",
            [
                "CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $body$\n"
                "BEGIN\n  PERFORM 1; PERFORM 2;\nEND\n$body$",
                "SELECT 3",
            ],
        ),
        (
            "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; SELECT 2; END;\nSELECT 3;",
            ["CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"],
        ),
        ("SELECT 1; -- a; b\nSELECT 2; /* c; d */", ["SELECT 1", "SELECT 2"]),
        ("/* a /* nested; */ still; comment */ SELECT 1;", ["SELECT 1"]),
        ("SELECT 1;\n-- between; statements\nSELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT 1;;;SELECT 2;", ["SELECT 1", "SELECT 2"]),
    ],
    ids=[
        "semicolon-in-string",
        "semicolon-in-escape-string",
        "semicolon-in-quoted-identifier",
        "semicolon-in-dollar-quotes",
        "semicolon-in-tagged-dollar-quotes",
        "begin-atomic-body",
        "semicolon-in-comments",
        "nested-block-comment",
        "comment-between-statements",
        "empty-statements",
    ],
)
def test_splitting_respects_quotes_and_comments(text: str, expected: list[str]) -> None:
    parsed = parse_sql(text)

    assert parsed.syntax_error is None
    assert [s.text for s in parsed.statements] == expected
    assert all(text[s.start : s.end] == s.text for s in parsed.statements)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n",
        "-- nothing here\n",
        "/* only a block */",
        "-- a;\n/* b; */\n-- c\n",
        ";;",
        "-- é 中文 🎉\n",
    ],
    ids=[
        "empty",
        "whitespace",
        "line-comment",
        "block-comment",
        "mixed-comments",
        "bare-semicolons",
        "non-ascii",
    ],
)
def test_comment_only_text_has_no_statements(text: str) -> None:
    parsed = parse_sql(text)

    assert parsed.statements == ()
    assert parsed.syntax_error is None


def test_crlf_line_numbers() -> None:
    text = "SELECT 1;\r\nSELECT 2;\r\n\r\n-- c\r\nSELECT 3;\r\n"
    parsed = parse_sql(text)

    assert [(s.text, s.line) for s in parsed.statements] == [
        ("SELECT 1", 1),
        ("SELECT 2", 2),
        ("SELECT 3", 5),
    ]
    assert all(text[s.start : s.end] == s.text for s in parsed.statements)


def test_statement_at_finds_the_statement_holding_an_offset() -> None:
    text = "SELECT 1;\nSELECT 2;"
    parsed = parse_sql(text)

    assert parsed.statement_at(text.index("2")) is parsed.statements[1]
    assert parsed.statement_at(0) is parsed.statements[0]
    assert parsed.statement_at(len(text) + 10) is None


def test_parsed_statements_carry_the_node_name() -> None:
    parsed = parse_sql("CREATE TABLE t (a int);\nSELECT 1;")

    assert [s.node for s in parsed.statements] == ["create_stmt", "select_stmt"]


# -- classification ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE INDEX CONCURRENTLY i ON t (x)", "CREATE INDEX CONCURRENTLY"),
        ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x)", "CREATE INDEX CONCURRENTLY"),
        ("DROP INDEX CONCURRENTLY i", "DROP INDEX CONCURRENTLY"),
        ("DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY"),
        ("REINDEX INDEX CONCURRENTLY i", "REINDEX CONCURRENTLY"),
        ("REINDEX TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY"),
        ("REINDEX (CONCURRENTLY) TABLE t", "REINDEX CONCURRENTLY"),
        ("REINDEX DATABASE", "REINDEX SCHEMA/SYSTEM/DATABASE"),
        ("REINDEX DATABASE app", "REINDEX SCHEMA/SYSTEM/DATABASE"),
        ("REINDEX SCHEMA public", "REINDEX SCHEMA/SYSTEM/DATABASE"),
        ("REINDEX SYSTEM", "REINDEX SCHEMA/SYSTEM/DATABASE"),
        ("VACUUM", "VACUUM"),
        ("VACUUM t", "VACUUM"),
        ("VACUUM FULL t", "VACUUM"),
        ("VACUUM (ANALYZE) t", "VACUUM"),
        ("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM"),
        ("ALTER SYSTEM RESET ALL", "ALTER SYSTEM"),
        ("CREATE DATABASE app", "CREATE DATABASE"),
        ("DROP DATABASE app", "DROP DATABASE"),
        ("DROP DATABASE IF EXISTS app WITH (FORCE)", "DROP DATABASE"),
        ("CREATE TABLESPACE fast LOCATION '/ssd'", "CREATE TABLESPACE"),
        ("DROP TABLESPACE fast", "DROP TABLESPACE"),
        ("CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p", "CREATE SUBSCRIPTION"),
        ("DROP SUBSCRIPTION s", "DROP SUBSCRIPTION"),
        ("ALTER SUBSCRIPTION s REFRESH PUBLICATION", "ALTER SUBSCRIPTION ... REFRESH PUBLICATION"),
        ("DISCARD ALL", "DISCARD ALL"),
        ("CLUSTER", "CLUSTER (all tables)"),
        ("CLUSTER VERBOSE", "CLUSTER (all tables)"),
        ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", "DETACH PARTITION CONCURRENTLY"),
    ],
    ids=[
        "create-index-concurrently",
        "create-unique-index-concurrently-if-not-exists",
        "drop-index-concurrently",
        "drop-index-concurrently-if-exists",
        "reindex-index-concurrently",
        "reindex-table-concurrently",
        "reindex-option-concurrently",
        "reindex-database-current",
        "reindex-database-named",
        "reindex-schema",
        "reindex-system",
        "vacuum",
        "vacuum-table",
        "vacuum-full",
        "vacuum-analyze",
        "alter-system-set",
        "alter-system-reset",
        "create-database",
        "drop-database",
        "drop-database-force",
        "create-tablespace",
        "drop-tablespace",
        "create-subscription",
        "drop-subscription",
        "alter-subscription-refresh",
        "discard-all",
        "cluster-all",
        "cluster-verbose-all",
        "detach-partition-concurrently",
    ],
)
def test_non_transactional_statements(sql: str, expected: str) -> None:
    (statement,) = parse_sql(sql + ";").statements

    assert statement.non_transactional == expected
    assert statement.transaction_control is None


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX concurrently_idx ON t (x)",
        "CREATE INDEX i ON t (x)",
        "DROP INDEX i",
        "DROP TABLE concurrently",
        "REINDEX TABLE t",
        "REINDEX INDEX i",
        "REINDEX (VERBOSE) TABLE t",
        pytest.param(
            "REINDEX (CONCURRENTLY false) TABLE t",
        ),
        "ANALYZE",
        "ANALYZE t",
        "DISCARD PLANS",
        "DISCARD TEMP",
        "DISCARD SEQUENCES",
        "CLUSTER t",
        "CLUSTER t USING t_pkey",
        "ALTER TABLE p DETACH PARTITION c",
        "ALTER TABLE p DETACH PARTITION c FINALIZE",
        "ALTER SUBSCRIPTION s DISABLE",
        "SELECT 'VACUUM'",
        "SELECT 'CREATE INDEX CONCURRENTLY i ON t (x)'",
        "-- VACUUM;\nSELECT 1",
        "/* ALTER SYSTEM SET x = 1; */ SELECT 1",
        "CREATE TABLE vacuum (a int)",
    ],
    ids=[
        "index-named-concurrently_idx",
        "plain-create-index",
        "plain-drop-index",
        "table-named-concurrently",
        "reindex-table",
        "reindex-index",
        "reindex-verbose",
        "reindex-concurrently-false",
        "analyze-alone",
        "analyze-table",
        "discard-plans",
        "discard-temp",
        "discard-sequences",
        "cluster-one-table",
        "cluster-table-using",
        "detach-partition",
        "detach-partition-finalize",
        "alter-subscription-disable",
        "vacuum-in-string",
        "create-index-concurrently-in-string",
        "vacuum-in-line-comment",
        "alter-system-in-block-comment",
        "table-named-vacuum",
    ],
)
def test_transactional_look_alikes_are_not_flagged(sql: str) -> None:
    (statement,) = parse_sql(sql + ";").statements

    assert statement.non_transactional is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("BEGIN", "BEGIN"),
        ("BEGIN TRANSACTION", "BEGIN"),
        ("BEGIN WORK", "BEGIN"),
        ("START TRANSACTION", "START TRANSACTION"),
        ("START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION"),
        ("COMMIT", "COMMIT"),
        ("COMMIT WORK", "COMMIT"),
        ("END", "COMMIT"),
        ("END TRANSACTION", "COMMIT"),
        ("ROLLBACK", "ROLLBACK"),
        ("ABORT", "ROLLBACK"),
        ("SAVEPOINT s", "SAVEPOINT"),
        ("RELEASE SAVEPOINT s", "RELEASE SAVEPOINT"),
        ("ROLLBACK TO SAVEPOINT s", "ROLLBACK TO SAVEPOINT"),
        ("PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"),
    ],
    ids=[
        "begin",
        "begin-transaction",
        "begin-work",
        "start-transaction",
        "start-transaction-isolation",
        "commit",
        "commit-work",
        "end",
        "end-transaction",
        "rollback",
        "abort",
        "savepoint",
        "release-savepoint",
        "rollback-to-savepoint",
        "prepare-transaction",
    ],
)
def test_transaction_control(sql: str, expected: str) -> None:
    (statement,) = parse_sql(sql + ";").statements

    assert statement.transaction_control == expected
    assert statement.non_transactional is None


@pytest.mark.parametrize(
    "text",
    [
        "-- COMMIT;\nSELECT 1;",
        "/* BEGIN; ... COMMIT; */ SELECT 1;",
        "SELECT 'COMMIT';",
        "DO $$ BEGIN COMMIT; END $$;",
        "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;",
        "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  RETURN NEW;\nEND\n$fn$;",
        "SET LOCAL statement_timeout = 0;",
    ],
    ids=[
        "commit-in-line-comment",
        "begin-commit-in-block-comment",
        "commit-in-string",
        "commit-in-do-block",
        "commit-in-procedure-body",
        "begin-end-in-function-body",
        "set-local",
    ],
)
def test_transaction_control_look_alikes_are_not_flagged(text: str) -> None:
    statements = parse_sql(text).statements

    assert len(statements) == 1
    assert statements[0].transaction_control is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TYPE mood ADD VALUE 'meh'", "ALTER TYPE ... ADD VALUE"),
        ("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'sad'", "ALTER TYPE ... ADD VALUE"),
        ("ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", None),
        ("ALTER TYPE mood RENAME TO feeling", None),
        ("ALTER TYPE point3 ADD ATTRIBUTE z int", None),
    ],
    ids=["add-value", "add-value-if-not-exists", "rename-value", "rename-type", "add-attribute"],
)
def test_commit_before_use(sql: str, expected: str | None) -> None:
    (statement,) = parse_sql(sql + ";").statements

    assert statement.commit_before_use == expected
    assert statement.non_transactional is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("COPY t FROM STDIN", True),
        ("COPY t (a, b) FROM STDIN WITH (FORMAT csv)", True),
        ("COPY t FROM '/data/file.csv'", False),
        ("COPY t FROM PROGRAM 'cat file'", False),
        ("COPY t TO STDOUT", False),
        ("COPY (SELECT 1) TO STDOUT", False),
        ("SELECT 'COPY t FROM STDIN'", False),
    ],
    ids=[
        "from-stdin",
        "columns-from-stdin-csv",
        "from-file",
        "from-program",
        "to-stdout",
        "query-to-stdout",
        "in-string",
    ],
)
def test_copy_from_stdin(sql: str, expected: bool) -> None:
    (statement,) = parse_sql(sql + ";").statements

    assert statement.copy_from_stdin is expected


# -- syntax errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("SELEC 1;", 1, 1),
        ("SELECT 1;\nSELEC 2;", 2, 1),
        ("SELECT 1;\n\nCREATE TABLE t (\n  a int,\n  b intt x\n);", 5, 10),
        ("SELECT 1;\r\nSELEC 2;", 2, 1),
        pytest.param("SELECT 'é';\nSELEC 2;", 2, 1),
        pytest.param(
            "-- 中文中文\nSELECT 1;\n  SELEC 2;",
            3,
            3,
        ),
    ],
    ids=["first-token", "second-line", "inside-statement", "crlf", "after-accent", "after-cjk"],
)
def test_syntax_error_position(text: str, line: int, column: int) -> None:
    error = parse_sql(text).syntax_error

    assert error is not None
    assert (error.line, error.column) == (line, column)


def test_syntax_error_message_names_the_token() -> None:
    error = parse_sql("SELECT 1;\nSELEC 2;").syntax_error

    assert error is not None
    assert "SELEC" in error.message


def test_scanner_fallback_still_returns_statements() -> None:
    # pg_dump 17.6+ writes a psql `\restrict` line, which no SQL grammar accepts.
    text = "\\restrict abc\nCREATE TABLE t (a int);\nSELECT 1;\n"
    parsed = parse_sql(text)

    assert parsed.syntax_error is not None
    assert (parsed.syntax_error.line, parsed.syntax_error.column) == (1, 1)
    assert len(parsed.statements) == 2
    assert parsed.statements[1].text == "SELECT 1"
    assert parsed.statements[1].line == 3
    assert all(s.node is None for s in parsed.statements)
    assert all(text[s.start : s.end] == s.text for s in parsed.statements)


def test_scanner_fallback_splits_on_semicolons() -> None:
    text = "SELECT 1;\nSELEC 2;\nSELECT 'a;b';"
    parsed = parse_sql(text)

    assert [(s.text, s.line) for s in parsed.statements] == [
        ("SELECT 1", 1),
        ("SELEC 2", 2),
        ("SELECT 'a;b'", 3),
    ]


def test_scanner_fallback_positions_after_multibyte_characters() -> None:
    text = "-- é 中文 🎉\n\\restrict abc\nSELECT 'é🎉';\nSELECT 2;"
    parsed = parse_sql(text)

    assert parsed.syntax_error is not None
    assert [s.line for s in parsed.statements] == [2, 4]
    assert all(text[s.start : s.end] == s.text for s in parsed.statements)


def test_unscannable_text_becomes_one_statement() -> None:
    parsed = parse_sql("  SELECT 'unterminated\n")

    assert parsed.syntax_error is not None
    assert [(s.text, s.line, s.start) for s in parsed.statements] == [("SELECT 'unterminated", 1, 2)]


def test_postgresql_18_virtual_generated_column_parses() -> None:
    parsed = parse_sql("CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a * 2) VIRTUAL);")

    assert parsed.syntax_error is None
    assert [s.node for s in parsed.statements] == ["create_stmt"]
