"""Permission rules that need no database: the admin role, duplicate entries, look-alike role names."""

from __future__ import annotations

import pytest

from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.actions.check.permissions import check_permission_rules
from kedge_hasura.project.metadata_model import Metadata


def _findings(*tables: tuple[str, ...], inherited: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Findings for tables t0, t1, ... each with select permissions for the given roles."""
    metadata = Metadata.model_validate(
        {
            "sources": [
                {
                    "name": "default",
                    "tables": [
                        {
                            "table": f"t{index}",
                            "select_permissions": [
                                {"role": role, "permission": {"columns": [], "filter": {}}} for role in roles
                            ],
                        }
                        for index, roles in enumerate(tables)
                    ],
                }
            ],
            "inherited_roles": [{"role_name": "staff", "role_set": list(inherited)}] if inherited else [],
        }
    )
    metadata.bind(())
    sink = FindingSink()
    check_permission_rules(metadata, sink)
    return [(finding.code, finding.message) for finding in sink.findings]


def _typo(rare: str, common: str, uses: int = 2) -> str:
    return f"role {rare!r} (used 1x) looks like a misspelling of {common!r} (used {uses}x)"


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        ((("student", "teacher"), ("student",)), []),
        ((("student",), ("student", "studnet")), [_typo("studnet", "student")]),
        ((("teacher",), ("teacher", "Teacher")), [_typo("Teacher", "teacher")]),
        ((("editors",), ("editors", "editor")), [_typo("editor", "editors")]),
        ((("dev",), ("dev", "dba")), []),  # short names may differ by one letter on purpose
        ((("manager", "manager_x"), ("manager", "manger")), [_typo("manger", "manager")]),
    ],
    ids=["distinct", "swapped-letters", "case", "plural", "short", "dropped-letter"],
)
def test_look_alike_roles_are_noted_on_the_rarer_spelling(
    tables: tuple[tuple[str, ...], ...], expected: list[str]
) -> None:
    found = _findings(*tables)
    assert [message for code, message in found if code == "role-near-duplicate"] == expected


def test_inherited_roles_count_as_uses() -> None:
    found = _findings(("student",), ("studnet",), inherited=("student",))
    assert found == [("role-near-duplicate", _typo("studnet", "student"))]


def test_admin_and_duplicate_roles_are_errors() -> None:
    found = _findings(("admin", "user", "user"))
    assert [code for code, _ in found] == ["permission-admin-role", "permission-duplicate"]
