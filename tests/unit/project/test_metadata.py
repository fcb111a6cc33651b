"""project.metadata: the shipped Kedge metadata directory loads as the Hasura CLI builds it and
writes back byte for byte."""

from __future__ import annotations

from pathlib import Path

from kedge_hasura.project.metadata import dump_yaml, file_value, load_metadata

METADATA = Path(__file__).resolve().parents[3] / "hasura" / "metadata"


def test_the_metadata_json_has_the_version_as_a_number() -> None:
    directory = load_metadata(METADATA)
    assert directory.value["version"] == 3


def test_includes_are_resolved_and_every_table_keeps_its_file_and_line() -> None:
    directory = load_metadata(METADATA)
    (source,) = directory.sources()
    assert source["name"] == "default"
    tables = source["tables"]
    assert len(tables) >= 10
    assert all(isinstance(table["table"], dict) for table in tables)
    location = directory.location(("sources", 0, "tables", 0))
    assert location is not None and location.path.parent.name == "tables"


def test_every_shipped_file_writes_back_byte_for_byte() -> None:
    directory = load_metadata(METADATA)
    files = [path for path in directory.documents if path.suffix == ".yaml"]
    assert len(files) >= 20
    for path in files:
        assert dump_yaml(file_value(directory.documents[path])) == path.read_text(encoding="utf-8"), path


def test_empty_values_and_list_order_do_not_make_metadata_differ() -> None:
    from kedge_hasura.project.metadata import same_metadata

    assert same_metadata({"enums": [], "objects": [], "scalars": []}, None)
    assert same_metadata({"a": [{"role": "x"}, {"role": "y"}]}, {"a": [{"role": "y"}, {"role": "x"}]})
    assert not same_metadata({"payload": [1, 2]}, {"payload": [2, 1]})  # order is meaningful there
    assert not same_metadata({"a": 1}, {"a": 2})
