"""Split migration SQL into statements with exact positions, and classify what Hasura cares about.

Splitting uses libpg_query (PostgreSQL's own grammar, version 18) through the `postgast` binding,
so semicolons inside strings, dollar-quoted bodies, comments and `BEGIN ATOMIC` blocks are handled
as the server handles them. libpg_query reports byte offsets into UTF-8; we convert them to
character offsets and 1-based line numbers for messages.

Classification answers three questions for every statement:
- can it run inside a transaction block? Hasura's `run_sql` always opens one (contract §2.3), so
  `CREATE INDEX CONCURRENTLY`, `VACUUM`, `ALTER SYSTEM`, ... fail there with SQLSTATE 25001;
- is it explicit transaction control (`BEGIN`, `COMMIT`, ...)? A `COMMIT` inside a migration ends
  Hasura's transaction early and silently breaks all-or-nothing;
- must its effect be committed before later statements use it (`ALTER TYPE ... ADD VALUE`)?

When our grammar rejects a file (a newer server's syntax, a psql meta-command), the statement
boundaries come from libpg_query's scanner instead and the file carries a `syntax_error`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import postgast
from google.protobuf.json_format import MessageToDict

NO_TRANSACTION_MARKER = "-- hasura:no-transaction"

_SEMICOLON_TOKEN = ord(";")
_COMMENT_TOKENS = {275, 276}  # SQL_COMMENT, C_COMMENT in libpg_query's scanner

# ReindexStmt.kind values for SCHEMA, SYSTEM and DATABASE: these cannot run in a transaction.
_REINDEX_MANY = {3, 4, 5}
_DISCARD_ALL = 1
_ALTER_SUBSCRIPTION_REFRESH = 6
_TRANSACTION_KINDS = {
    1: "BEGIN",
    2: "START TRANSACTION",
    3: "COMMIT",
    4: "ROLLBACK",
    5: "SAVEPOINT",
    6: "RELEASE SAVEPOINT",
    7: "ROLLBACK TO SAVEPOINT",
    8: "PREPARE TRANSACTION",
    9: "COMMIT PREPARED",
    10: "ROLLBACK PREPARED",
}


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a file; offsets are character offsets into the file's text."""

    index: int
    start: int
    end: int
    line: int
    text: str
    node: str | None  # libpg_query node name such as "create_stmt"; None when only scanned
    non_transactional: str | None = None  # e.g. "CREATE INDEX CONCURRENTLY"
    transaction_control: str | None = None  # e.g. "COMMIT"
    commit_before_use: str | None = None  # e.g. "ALTER TYPE ... ADD VALUE"
    copy_from_stdin: bool = False

    def excerpt(self, limit: int = 120) -> str:
        """The statement on one line, shortened for messages."""
        flat = " ".join(self.text.split())
        return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class SqlSyntaxError:
    """Where libpg_query's parser rejected the text (1-based line and column)."""

    message: str
    line: int
    column: int


@dataclass(frozen=True)
class ParsedSql:
    statements: tuple[Statement, ...]
    syntax_error: SqlSyntaxError | None
    has_no_transaction_marker: bool

    def statement_at(self, char_offset: int) -> Statement | None:
        """The statement containing a character offset (e.g. from a server error position)."""
        for statement in self.statements:
            if statement.start <= char_offset < max(statement.end, statement.start + 1):
                return statement
        return None


def has_no_transaction_marker(text: str) -> bool:
    """True when the first line is exactly the CLI's `-- hasura:no-transaction` marker.

    Mirrors the official CLI (cli/migrate/detect_no_transaction_test.go): surrounding whitespace and
    a CRLF ending are allowed; a blank or other line before it, extra text after it, or the marker
    inside a string, block comment or trailing comment do not count.
    """
    first_line = text.split("\n", 1)[0]
    return first_line.strip() == NO_TRANSACTION_MARKER


# Parsed texts by digest: a squash parses the same text more than once (its up.sql for the replay
# spans and for the statement counts; an original for the replay and for the report), and a
# 40,000-line up.sql takes a second. ParsedSql is immutable, so sharing one is safe.
_PARSED: dict[bytes, ParsedSql] = {}
_PARSED_LOCK = threading.Lock()
_PARSED_LIMIT = 8192


def parse_sql(text: str) -> ParsedSql:
    """Split and classify `text`. Never raises for bad SQL: see `ParsedSql.syntax_error`."""
    encoded = text.encode("utf-8")
    digest = hashlib.sha256(encoded).digest()
    with _PARSED_LOCK:
        known = _PARSED.get(digest)
    if known is not None:
        return known
    parsed = _parse(text, encoded)
    with _PARSED_LOCK:
        if len(_PARSED) >= _PARSED_LIMIT:
            _PARSED.pop(next(iter(_PARSED)))  # the oldest
        _PARSED[digest] = parsed
    return parsed


def _parse(text: str, encoded: bytes) -> ParsedSql:
    marker = has_no_transaction_marker(text)
    positions = _Positions(text, encoded)
    try:
        tree = postgast.parse(text)
    except postgast.PgQueryError as exc:
        # libpg_query's cursorpos is 1-based and counts characters, not bytes.
        cursor = min(max(int(getattr(exc, "cursorpos", 0) or 0) - 1, 0), len(text))
        line = text.count("\n", 0, cursor) + 1
        column = cursor - (text.rfind("\n", 0, cursor) + 1) + 1
        error = SqlSyntaxError(message=str(getattr(exc, "message", exc)), line=line, column=column)
        return ParsedSql(_scan_statements(text, encoded, positions), error, marker)

    statements = []
    for index, raw in enumerate(tree.stmts):
        start = raw.stmt_location
        end = len(encoded) if raw.stmt_len == 0 else start + raw.stmt_len
        body = encoded[start:end].decode("utf-8").rstrip()
        char_start = positions.char_offset(start)
        node_name = raw.stmt.WhichOneof("node")
        statements.append(
            Statement(
                index=index,
                start=char_start,
                end=char_start + len(body),
                line=positions.line_of(char_start),
                text=body,
                node=node_name,
                **_classify(node_name, getattr(raw.stmt, node_name) if node_name else None),
            )
        )
    return ParsedSql(tuple(statements), None, marker)


def _classify(node_name: str | None, node: Any) -> dict[str, Any]:
    """Transaction-related facts about one parsed statement (see the module docstring)."""
    if node is None:
        return {}
    facts: dict[str, Any] = {}
    non_tx: str | None = None
    match node_name:
        case "index_stmt" if node.concurrent:
            non_tx = "CREATE INDEX CONCURRENTLY"
        case "drop_stmt" if node.concurrent:
            non_tx = "DROP INDEX CONCURRENTLY"
        case "reindex_stmt":
            if any(_is_true_option(param.def_elem, "concurrently") for param in node.params):
                non_tx = "REINDEX CONCURRENTLY"
            elif node.kind in _REINDEX_MANY:
                non_tx = "REINDEX SCHEMA/SYSTEM/DATABASE"
        case "vacuum_stmt" if node.is_vacuumcmd:
            non_tx = "VACUUM"
        case "alter_system_stmt":
            non_tx = "ALTER SYSTEM"
        case "createdb_stmt":
            non_tx = "CREATE DATABASE"
        case "dropdb_stmt":
            non_tx = "DROP DATABASE"
        case "create_table_space_stmt":
            non_tx = "CREATE TABLESPACE"
        case "drop_table_space_stmt":
            non_tx = "DROP TABLESPACE"
        case "create_subscription_stmt":
            non_tx = "CREATE SUBSCRIPTION"
        case "drop_subscription_stmt":
            non_tx = "DROP SUBSCRIPTION"
        case "alter_subscription_stmt" if node.kind == _ALTER_SUBSCRIPTION_REFRESH:
            non_tx = "ALTER SUBSCRIPTION ... REFRESH PUBLICATION"
        case "discard_stmt" if node.target == _DISCARD_ALL:
            non_tx = "DISCARD ALL"
        case "cluster_stmt" if not node.HasField("relation"):
            non_tx = "CLUSTER (all tables)"
        case "alter_table_stmt" if any(_detaches_concurrently(cmd.alter_table_cmd) for cmd in node.cmds):
            non_tx = "DETACH PARTITION CONCURRENTLY"
        case "transaction_stmt":
            facts["transaction_control"] = _TRANSACTION_KINDS.get(node.kind, "transaction control")
        case "alter_enum_stmt" if node.new_val and not node.old_val:
            # PostgreSQL 12+ runs it in a transaction, but the new label cannot be used before commit.
            facts["commit_before_use"] = "ALTER TYPE ... ADD VALUE"
        case "copy_stmt" if node.is_from and not node.filename:
            facts["copy_from_stdin"] = True
    if non_tx:
        facts["non_transactional"] = non_tx
    return facts


def _is_true_option(option: Any, name: str) -> bool:
    """`(NAME)` or `(NAME true|on|1)` in an option list such as REINDEX (CONCURRENTLY false)."""
    if option.defname != name:
        return False
    if not option.HasField("arg"):
        return True
    argument = option.arg  # the grammar gives option values as a string or an integer node
    if argument.HasField("integer"):
        return bool(argument.integer.ival)
    if argument.HasField("string"):
        return argument.string.sval.lower() in ("true", "on", "1", "yes")
    return True


def _detaches_concurrently(command: Any) -> bool:
    # The protobuf field is called `def`, a Python keyword, hence getattr.
    if not command.HasField("def"):
        return False
    definition = getattr(command, "def")
    return bool(definition.HasField("partition_cmd") and definition.partition_cmd.concurrent)


def _scan_statements(text: str, encoded: bytes, positions: _Positions) -> tuple[Statement, ...]:
    """Statement boundaries from the scanner alone, for text the parser rejects."""
    try:
        tokens = list(postgast.scan(text).tokens)
    except postgast.PgQueryError:
        stripped = text.strip()
        if not stripped:
            return ()
        start = text.index(stripped[0])
        return (Statement(0, start, start + len(stripped), positions.line_of(start), stripped, None),)
    statements: list[Statement] = []
    current: list[Any] = []

    def flush() -> None:
        meaningful = [token for token in current if token.token not in _COMMENT_TOKENS]
        if meaningful:
            start_byte, end_byte = meaningful[0].start, meaningful[-1].end
            start = positions.char_offset(start_byte)
            body = encoded[start_byte:end_byte].decode("utf-8")
            statements.append(
                Statement(len(statements), start, start + len(body), positions.line_of(start), body, None)
            )
        current.clear()

    for token in tokens:
        if token.token == _SEMICOLON_TOKEN:
            flush()
        else:
            current.append(token)
    flush()
    return tuple(statements)


class _Positions:
    """Byte offset → character offset → line, for monotonically increasing lookups (O(n) total)."""

    def __init__(self, text: str, encoded: bytes):
        self._text = text
        self._encoded = encoded
        self._ascii = len(text) == len(encoded)
        self._byte = 0
        self._char = 0
        self._line_char = 0
        self._line = 1

    def char_offset(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        if byte_offset < self._byte:
            self._byte = self._char = 0
        self._char += len(self._encoded[self._byte : byte_offset].decode("utf-8", errors="replace"))
        self._byte = byte_offset
        return self._char

    def line_of(self, char_offset: int) -> int:
        if char_offset < self._line_char:
            self._line_char, self._line = 0, 1
        self._line += self._text.count("\n", self._line_char, char_offset)
        self._line_char = char_offset
        return self._line


def line_of_offset(text: str, char_offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, char_offset) + 1


# Keys that record where something was written, not what it means.
_POSITION_KEYS = frozenset({"location", "list_start", "list_end", "stmt_location", "stmt_len", "version"})


def equivalence_key(sql: str, *, ignore_qualifiers: bool = False) -> str | None:
    """A canonical form of SQL text for "probably equivalent" checks; None when it does not parse.

    Two texts with the same key have the same parse tree once positions, parentheses (the tree
    has none) and type casts are ignored; with `ignore_qualifiers`, column references also lose
    their table qualifier (PostgreSQL 16 stopped printing unneeded ones in view definitions).
    This is deliberately a heuristic, reported as "text differs, probably equivalent", never
    as "equal": dropping casts can hide a real change of type.
    """
    try:
        tree = postgast.parse(sql)
    except postgast.PgQueryError:
        return None
    canonical = _canonical(MessageToDict(tree, preserving_proto_field_name=True), ignore_qualifiers)
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))


def _canonical(node: Any, ignore_qualifiers: bool) -> Any:
    if isinstance(node, list):
        return [_canonical(item, ignore_qualifiers) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"type_cast"}:
        return _canonical(node["type_cast"].get("arg"), ignore_qualifiers)
    result = {}
    for key, value in node.items():
        if key in _POSITION_KEYS:
            continue
        if key == "column_ref" and ignore_qualifiers and isinstance(value, dict):
            result[key] = _canonical({**value, "fields": (value.get("fields") or [])[-1:]}, ignore_qualifiers)
        else:
            result[key] = _canonical(value, ignore_qualifiers)
    return result


def sql_function_body_relations(statement: str) -> list[str] | None:
    """Relations read by the string body of a LANGUAGE sql CREATE FUNCTION/PROCEDURE.

    None when the statement is not such a function (another language, or a BEGIN ATOMIC body,
    whose references PostgreSQL tracks as dependencies). PostgreSQL validates a string SQL body
    when the function is created, so these relations must exist by then.
    """
    try:
        tree = postgast.parse(statement)
    except postgast.PgQueryError:
        return None
    if len(tree.stmts) != 1 or tree.stmts[0].stmt.WhichOneof("node") != "create_function_stmt":
        return None
    function = tree.stmts[0].stmt.create_function_stmt
    if function.HasField("sql_body"):
        return None
    options = {option.def_elem.defname: option.def_elem.arg for option in function.options}
    language = options.get("language")
    body = options.get("as")
    if language is None or language.string.sval.lower() != "sql" or body is None:
        return None
    text = "".join(item.string.sval for item in body.list.items)
    try:
        return sorted(set(postgast.extract_tables(postgast.parse(text))))
    except postgast.PgQueryError:
        return []


def created_schemas(sql: str) -> set[str]:
    """Schemas a script creates objects in: CREATE SCHEMA, and the schema of each CREATE TABLE,
    VIEW or MATERIALIZED VIEW (`public` when unqualified). Unparsable text gives an empty set."""
    try:
        tree = postgast.parse(sql)
    except postgast.PgQueryError:
        return set()
    schemas: set[str] = set()
    for raw in tree.stmts:
        kind = raw.stmt.WhichOneof("node")
        node: Any = getattr(raw.stmt, kind) if kind else None
        if kind == "create_schema_stmt":
            schemas.add(node.schemaname)
        elif kind == "create_stmt":
            schemas.add(node.relation.schemaname or "public")
        elif kind == "view_stmt":
            schemas.add(node.view.schemaname or "public")
        elif kind == "create_table_as_stmt":
            schemas.add(node.into.rel.schemaname or "public")
    return {schema for schema in schemas if schema}


def created_roles(sql: str) -> list[tuple[str, str]]:
    """(role name, statement text) of each CREATE ROLE / USER / GROUP in a script, in order."""
    roles = []
    for statement in parse_sql(sql).statements:
        if statement.node != "create_role_stmt":
            continue
        try:
            tree = postgast.parse(statement.text)
        except postgast.PgQueryError:
            continue
        roles.append((tree.stmts[0].stmt.create_role_stmt.role, statement.text))
    return roles
