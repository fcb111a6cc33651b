"""Turn pg_dump's plain output into a migration Hasura's run_sql accepts: entries, sections, SQL.

pg_dump's plain format is a sequence of entries, each announced by a header comment
(`-- Name: users; Type: TABLE; Schema: app; Owner: -`), in an order pg_dump has already sorted by
dependency. We keep that order, with two safe exceptions: comments and grants move to the end
(they only need their object to exist). Everything a migration must not contain goes: the
session `SET` lines and `set_config('search_path', ...)` (they would leak into the caller's
transaction), `\\restrict`/`\\unrestrict` (psql meta-commands with a random key), the version
banners. Rows come as multi-row INSERTs with column lists (pg_dump --column-inserts
--rows-per-insert), never COPY ... FROM stdin, which run_sql cannot feed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kedge_hasura.errors import ToolError
from kedge_hasura.sql.statements import parse_sql, sql_function_body_relations

_HEADER = re.compile(
    r"^--\n-- (?:Data for )?Name: (?P<name>.*); Type: (?P<type>[A-Z ]+); Schema: (?P<schema>.*); "
    r"Owner: (?P<owner>.*)\n--\n",
    re.MULTILINE,
)
# Lines between entries that only set the session for the rest of pg_dump's own script.
_SESSION_LINE = re.compile(
    r"^(SET [a-z_]+ = .*;|SELECT pg_catalog\.set_config\('search_path', '', false\);)$"
)
_BANNER = re.compile(r"^-- (Dumped (from|by)|PostgreSQL database dump).*$")
_META_COMMAND = re.compile(r"^\\\S+")
_DEFAULT_ACCESS_METHOD = re.compile(r"^SET default_table_access_method = (\w+);$")


@dataclass(frozen=True)
class DumpEntry:
    """One pg_dump TOC entry: what it is, and its SQL."""

    type: str  # pg_dump's TOC type: TABLE, FK CONSTRAINT, TABLE DATA, COMMENT, ACL, ...
    name: str  # as pg_dump names it ("users", "users users_pkey", "f(integer)", "SCHEMA app")
    schema: str | None
    sql: str
    access_method: str | None = None  # a table's non-default access method (pg_dump SETs it)

    @property
    def identity(self) -> tuple[str, str | None, str]:
        return (self.type, self.schema, self.name)

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


# Sections in the order they are written, and the pg_dump entry types that belong to each.
SECTIONS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Schemas", frozenset({"SCHEMA"})),
    ("Extensions", frozenset({"EXTENSION"})),
    ("Types, domains and other definitions", frozenset({
        "TYPE", "DOMAIN", "SHELL TYPE", "COLLATION", "CAST", "OPERATOR", "OPERATOR CLASS",
        "OPERATOR FAMILY", "CONVERSION", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
        "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "ACCESS METHOD",
    })),
    ("Functions and procedures", frozenset({"FUNCTION", "PROCEDURE", "AGGREGATE"})),
    ("Tables, sequences and views", frozenset({
        "TABLE", "SEQUENCE", "SEQUENCE OWNED BY", "DEFAULT", "VIEW", "MATERIALIZED VIEW",
        "FOREIGN TABLE", "TABLE ATTACH",
    })),
    ("Data", frozenset({"TABLE DATA", "SEQUENCE SET"})),
    ("Constraints", frozenset({"CONSTRAINT", "CHECK CONSTRAINT"})),
    ("Indexes", frozenset({"INDEX", "INDEX ATTACH", "STATISTICS"})),
    ("Foreign keys", frozenset({"FK CONSTRAINT"})),
    ("Triggers and rules", frozenset({"TRIGGER", "RULE"})),
    ("Row-level security", frozenset({"POLICY", "ROW SECURITY"})),
    ("Event triggers", frozenset({"EVENT TRIGGER"})),
    ("Materialized view data", frozenset({"MATERIALIZED VIEW DATA"})),
    ("Publications", frozenset({"PUBLICATION", "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA"})),
    ("Comments", frozenset({"COMMENT"})),
    ("Grants", frozenset({"ACL", "DEFAULT ACL"})),
)  # fmt: skip
_MOVED_TO_END = ("Comments", "Grants")


def section_of(entry_type: str) -> str:
    for title, types in SECTIONS:
        if entry_type in types:
            return title
    return "Other definitions"


def parse_dump(text: str) -> list[DumpEntry]:
    """Split a plain pg_dump into entries (empty ones, like a table without rows, are dropped).

    Raises:
        ToolError: the text contains a psql meta-command other than \\restrict/\\unrestrict.
    """
    headers = list(_HEADER.finditer(text))
    entries = []
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        body, access_method = _clean(text[header.end() : end])
        if not body:
            continue
        schema = header["schema"] if header["schema"] != "-" else None
        entries.append(DumpEntry(header["type"].strip(), header["name"], schema, body, access_method))
    return entries


def _clean(body: str) -> tuple[str, str | None]:
    """The entry's SQL without pg_dump's own lines around it, every byte in between kept.

    Session lines, banners and meta-commands only ever stand between entries (pg_dump writes the
    SETs for an entry before its header), so only the lines before and after the SQL are looked
    at: a line inside a function body or a string literal that looks like one (`SET x = 1;`, a
    line starting with a backslash) is the user's and stays. Lines are split on LF alone, so a CR
    (a CRLF file's function body, a literal) reaches the migration unchanged.
    """
    lines = body.split("\n")
    access_method = None
    start, end = 0, len(lines)
    while start < end and _between_entries(lines[start]):
        start += 1
    while end > start and _between_entries(lines[end - 1]):
        end -= 1
    for line in (*lines[:start], *lines[end:]):
        method = _DEFAULT_ACCESS_METHOD.match(line)
        if method:
            access_method = method.group(1) if method.group(1) != "heap" else None
        elif _META_COMMAND.match(line) and not line.startswith(("\\restrict", "\\unrestrict")):
            raise ToolError(
                f"pg_dump wrote the psql meta-command {line.split()[0]!r}, which run_sql cannot run"
            )
    return "\n".join(lines[start:end]), access_method


def _between_entries(line: str) -> bool:
    """A line pg_dump writes between entries: blank, a session SET, a banner, a meta-command."""
    return (
        not line.strip(" ")
        or line == "--"
        or bool(_SESSION_LINE.match(line) or _BANNER.match(line) or _META_COMMAND.match(line))
        or bool(_DEFAULT_ACCESS_METHOD.match(line))
    )


def without_baseline(
    entries: Iterable[DumpEntry], baseline: Iterable[DumpEntry]
) -> tuple[list[DumpEntry], list[DumpEntry]]:
    """Entries not already in the baseline dump (the scratch template and --pre-sql).

    Returns (kept, changed): `changed` are baseline objects whose SQL the migrations altered;
    they cannot be reproduced by re-creating them and are left out (the caller warns).
    """
    before = {entry.identity: entry.sql for entry in baseline}
    kept, changed = [], []
    for entry in entries:
        previous = before.get(entry.identity)
        if previous is None:
            kept.append(entry)
        elif previous != entry.sql:
            changed.append(entry)
    return kept, changed


@dataclass(frozen=True)
class SourceMigration:
    """A squashed original, for the header."""

    version: int
    name: str
    up_sha256: str


def render_up(
    entries: list[DumpEntry],
    *,
    header: list[str],
    idempotent: bool = False,
    roles: Sequence[str] = (),
) -> str:
    """The squashed up.sql: header comment, then the entries grouped into commented sections.

    `roles` are CREATE ROLE statements of the originals: roles are cluster-wide, so pg_dump of a
    database leaves them out. They come first, each skipped when the role exists (a cluster where
    the originals ran, or another database of the same cluster).
    """
    main = [e for e in entries if section_of(e.type) not in _MOVED_TO_END]
    tail = [e for title in _MOVED_TO_END for e in entries if section_of(e.type) == title]
    parts = ["\n".join(f"-- {line}".rstrip() for line in header)]
    if roles:
        parts.append(_section_banner("Roles (cluster-wide: created when missing, never dropped by down.sql)"))
        parts += [
            _skip_if_exists(statement.rstrip().rstrip(";"), ["duplicate_object"]) + ";" for statement in roles
        ]
    current = None
    for entry in (*main, *tail):
        section = section_of(entry.type)
        if section != current:
            parts.append(_section_banner(section))
            current = section
        parts.append(_entry_sql(entry, idempotent=idempotent))
    return "\n\n".join(parts).rstrip() + "\n"


def _section_banner(title: str) -> str:
    rule = "-- " + "-" * 72
    return f"{rule}\n-- {title}\n{rule}"


def _entry_sql(entry: DumpEntry, *, idempotent: bool) -> str:
    sql = make_idempotent(entry.sql) if idempotent else entry.sql
    if entry.type in ("FUNCTION", "PROCEDURE") and sql_function_body_relations(entry.sql) is not None:
        # pg_dump puts functions before tables and sequences and relies on check_function_bodies =
        # off; a LANGUAGE sql string body is checked at creation and would fail here as soon as it
        # names anything created later (a table, nextval('a_sequence')). SET LOCAL keeps the change
        # inside this transaction, and the next line restores the default.
        sql = f"SET LOCAL check_function_bodies = off;\n{sql}\nSET LOCAL check_function_bodies = on;"
    if entry.access_method:
        # pg_dump relies on SET default_table_access_method; SET LOCAL keeps it inside this
        # migration's transaction, and the next line restores the default for what follows.
        sql = (
            f"SET LOCAL default_table_access_method = {entry.access_method};\n{sql}\n"
            "SET LOCAL default_table_access_method = heap;"
        )
    if entry.type in ("TABLE DATA",):
        rows = sum(1 for line in entry.sql.split("\n") if line.startswith("\t("))
        return f"-- {rows} row{'s' if rows != 1 else ''} of {entry.label}\n{sql}"
    return sql


# Statement prefixes that have an idempotent form, as pg_dump writes them (upper case, one space).
_IDEMPOTENT_FORMS = (
    (re.compile(r"^CREATE SCHEMA (?!IF NOT EXISTS)"), "CREATE SCHEMA IF NOT EXISTS "),
    (re.compile(r"^CREATE (UNLOGGED )?TABLE (?!IF NOT EXISTS)"), r"CREATE \1TABLE IF NOT EXISTS "),
    (re.compile(r"^CREATE SEQUENCE (?!IF NOT EXISTS)"), "CREATE SEQUENCE IF NOT EXISTS "),
    (re.compile(r"^CREATE (UNIQUE )?INDEX (?!IF NOT EXISTS)"), r"CREATE \1INDEX IF NOT EXISTS "),
    (re.compile(r"^CREATE MATERIALIZED VIEW (?!IF NOT EXISTS)"), "CREATE MATERIALIZED VIEW IF NOT EXISTS "),
    (re.compile(r"^CREATE FUNCTION "), "CREATE OR REPLACE FUNCTION "),
    (re.compile(r"^CREATE PROCEDURE "), "CREATE OR REPLACE PROCEDURE "),
    (re.compile(r"^CREATE VIEW "), "CREATE OR REPLACE VIEW "),
    (re.compile(r"^CREATE (CONSTRAINT )?TRIGGER "), r"CREATE OR REPLACE \1TRIGGER "),
)


def make_idempotent(sql: str) -> str:
    """Rewrite statements so that running the script twice changes nothing the second time.

    Statements get their IF NOT EXISTS / OR REPLACE forms where PostgreSQL has one, INSERTs get ON
    CONFLICT DO NOTHING, and statements without such a form (CREATE TYPE / DOMAIN / POLICY /
    EVENT TRIGGER, ALTER TABLE ... ADD CONSTRAINT or ADD GENERATED ... AS IDENTITY) run in a DO
    block that skips them when their object already exists. Like IF NOT EXISTS, this skips an
    existing object even if it is defined differently.
    """
    parsed = parse_sql(sql)
    if parsed.syntax_error:
        return sql
    pieces = []
    position = 0
    for statement in parsed.statements:
        text = statement.text
        if statement.node == "insert_stmt":
            text = f"{text} ON CONFLICT DO NOTHING"
        elif (conditions := _existing_object_errors(statement.node, text)) is not None:
            text = _skip_if_exists(text, conditions)
        else:
            for pattern, replacement in _IDEMPOTENT_FORMS:
                text, count = pattern.subn(replacement, text, count=1)
                if count:
                    break
        pieces.append(sql[position : statement.start])
        pieces.append(text)
        position = statement.end
    pieces.append(sql[position:])
    return "".join(pieces)


# Statements without an IF NOT EXISTS form, and the errors that mean "it exists already":
# duplicate_object (types, domains, policies, named constraints), duplicate_table (the index of a
# primary key or unique constraint, an identity's sequence), and, for a primary key only,
# invalid_table_definition ("multiple primary keys for table ... are not allowed").
_WITHOUT_FORM = {
    "create_enum_stmt", "composite_type_stmt", "create_range_stmt", "define_stmt",
    "create_domain_stmt", "create_policy_stmt", "create_event_trig_stmt",
}  # fmt: skip
_ADDS_CONSTRAINT = re.compile(r"^ALTER TABLE .*\bADD (CONSTRAINT|GENERATED)\b", re.DOTALL)
_ADDS_PRIMARY_KEY = re.compile(r"\bPRIMARY KEY\b")


def _existing_object_errors(node: str | None, text: str) -> list[str] | None:
    """The error conditions that mean the statement's object exists; None for other statements."""
    if node in _WITHOUT_FORM:
        return ["duplicate_object"]
    if node == "alter_table_stmt" and _ADDS_CONSTRAINT.match(text):
        conditions = ["duplicate_object", "duplicate_table"]
        if _ADDS_PRIMARY_KEY.search(text):
            conditions.append("invalid_table_definition")
        return conditions
    return None


def _skip_if_exists(statement: str, conditions: list[str]) -> str:
    """The statement in a DO block that ignores the errors meaning its object exists already."""
    tag = "$idempotent$"
    while tag in statement:
        tag = tag[:-1] + "_$"
    return f"DO {tag} BEGIN\n{statement};\nEXCEPTION WHEN {' OR '.join(conditions)} THEN NULL;\nEND {tag}"


def non_idempotent_kinds(entries: Iterable[DumpEntry]) -> list[str]:
    """Entry types without an IF NOT EXISTS / OR REPLACE form (reported with --idempotent)."""
    without_form = {"TYPE", "DOMAIN", "CONSTRAINT", "FK CONSTRAINT", "CHECK CONSTRAINT", "POLICY"}
    return sorted({entry.type for entry in entries if entry.type in without_form})
