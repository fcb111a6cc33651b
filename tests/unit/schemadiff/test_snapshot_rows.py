"""Turning catalog rows into snapshot objects: what the Python side derives from the raw rows."""

from __future__ import annotations

from typing import Any

from kedge_hasura.schemadiff.snapshot import _owned_sequence_placeholder, _Rows


def _column_row(relation: int, attnum: int, name: str, **values: Any) -> list[Any]:
    """A row as queries/columns.sql returns it."""
    row: list[Any] = ["app", f"t{relation}", "r", name, attnum, "integer", False, None, None, "", None, ""]
    row += [None, relation, None, None]
    for index, value in values.items():
        row[int(index.removeprefix("f"))] = value
    return row


def test_positions_are_ranks_among_live_columns_whatever_the_attnum_gaps() -> None:
    rows = [_column_row(1, 5, "c"), _column_row(1, 1, "a"), _column_row(1, 3, "b"), _column_row(2, 2, "x")]
    built = _Rows([], rows)
    positions = {(c.table, c.name): c.position for c in map(built.column, rows)}
    assert positions == {("t1", "a"): 1, ("t1", "b"): 2, ("t1", "c"): 3, ("t2", "x"): 1}


def test_constraint_keys_are_named_in_key_order() -> None:
    built = _Rows([], [_column_row(7, 1, "id"), _column_row(7, 4, "tenant"), _column_row(7, 2, "code")])
    assert built.key_names(7, [4, 1]) == ("tenant", "id")
    assert built.key_names(7, None) == ()
    assert built.key_names(7, [0]) == ()  # an expression in an exclusion constraint has no name


def test_a_serial_default_names_its_sequence_by_placeholder() -> None:
    default = "nextval('app.orders_id_seq'::regclass)"
    assert _owned_sequence_placeholder(default, ["app.orders_id_seq"]) == "nextval(<owned sequence>)"


def test_quotes_in_the_sequence_name_are_matched_as_ruleutils_writes_them() -> None:
    default = """nextval('app."o''clock_seq"'::regclass)"""
    assert _owned_sequence_placeholder(default, ["""app."o'clock_seq\""""]) == "nextval(<owned sequence>)"


def test_only_the_owned_sequence_is_replaced() -> None:
    default = "nextval('app.shared_seq'::regclass)"
    assert _owned_sequence_placeholder(default, ["app.orders_id_seq"]) == default
    assert _owned_sequence_placeholder("42", ["app.orders_id_seq"]) == "42"


def test_of_two_owned_sequences_the_one_in_the_default_is_replaced() -> None:
    default = "nextval('app.second_seq'::regclass)"
    owned = ["app.first_seq", "app.second_seq"]
    assert _owned_sequence_placeholder(default, owned) == "nextval(<owned sequence>)"


def test_a_serial_column_row_gets_the_placeholder_but_a_generated_one_does_not() -> None:
    default = "nextval('app.t1_id_seq'::regclass)"
    serial = _column_row(1, 1, "id", f7=default, f8=["app.t1_id_seq"])
    built = _Rows([], [serial])
    assert built.column(serial).default == "nextval(<owned sequence>)"
    generated = _column_row(1, 1, "id", f7=default, f8=["app.t1_id_seq"], f11="s")
    assert _Rows([], [generated]).column(generated).default == default


def test_the_collector_pause_nests_and_restores_the_callers_setting() -> None:
    import gc
    import threading

    from kedge_hasura.schemadiff.snapshot import collector_paused

    assert gc.isenabled()
    started, release = threading.Event(), threading.Event()

    def other_side() -> None:
        with collector_paused():
            started.set()
            release.wait(5)

    thread = threading.Thread(target=other_side)
    thread.start()
    started.wait(5)
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause still runs
    release.set()
    thread.join(5)
    assert gc.isenabled()

    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # the caller had switched collection off: left off
    finally:
        gc.enable()


def test_identifiers_are_read_as_postgresql_prints_them() -> None:
    from kedge_hasura.schemadiff.snapshot import read_identifier

    assert read_identifier("app.users(id)", 0) == ("app", 3)
    assert read_identifier('"My ""odd"" table".x', 0) == ('My "odd" table', 18)
    assert read_identifier("reader=r/owner", 0, stops="=") == ("reader", 6)


def test_acl_items_name_quoted_roles_and_public() -> None:
    from kedge_hasura.schemadiff.snapshot import parse_acl

    grants = parse_acl(['"app ""reader"""=r*/postgres', "=U/postgres", "postgres=arwd/postgres"], "postgres")
    assert {(g.grantee, g.privilege, g.grantable) for g in grants} == {
        ('app "reader"', "SELECT", True),
        ("PUBLIC", "USAGE", False),
        *{("OWNER", p, False) for p in ("INSERT", "SELECT", "UPDATE", "DELETE")},
    }
