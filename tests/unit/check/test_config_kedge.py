"""The `kedge:` key of config.yaml: check's ignore lists, validated with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.config import CheckConfig, KedgeConfig, load_config


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("version: 3\nendpoint: http://localhost:8080\n" + text, encoding="utf-8")
    return path


def test_the_check_ignore_lists_are_read(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "kedge:\n  check:\n    ignore_untracked:\n      - audit.*\n      - public.spatial_ref_sys\n"
        "    ignore: [role-near-duplicate]\n",
    )
    assert load_config(path).kedge == KedgeConfig(
        check=CheckConfig(
            ignore_untracked=("audit.*", "public.spatial_ref_sys"), ignore=("role-near-duplicate",)
        )
    )


@pytest.mark.parametrize("text", ["", "kedge:\n", "kedge:\n  check:\n", "kedge:\n  check: {}\n"])
def test_no_or_empty_kedge_key_means_no_ignores(tmp_path: Path, text: str) -> None:
    assert load_config(_config(tmp_path, text)).kedge == KedgeConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kedge:\n  chek: {}\n", ":4: unknown key 'chek' under kedge"),
        (
            "kedge:\n  check:\n    ignore_untraked: []\n",
            ":5: unknown key 'ignore_untraked' under kedge.check",
        ),
        ("kedge:\n  check:\n    ignore: missing-down\n", ":5: kedge.check.ignore must be a list of names"),
        ("kedge:\n  check:\n    ignore: [1]\n", ":5: kedge.check.ignore must be a list of names"),
        ("kedge: [check]\n", ":3: kedge must be a mapping"),
        (
            "kedge:\n  check:\n    ignore_untracked:\n      - audit_log\n",
            ":6: 'audit_log' is not schema.table",
        ),
    ],
    ids=["unknown-section", "unknown-check-key", "not-a-list", "not-strings", "not-a-mapping", "no-schema"],
)
def test_a_bad_kedge_key_is_an_error_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(ProjectError) as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path}{message}")


def test_kedge_is_a_known_key_beside_the_clis_own(tmp_path: Path) -> None:
    path = _config(tmp_path, "kedge:\n  check: {}\nactions:\n  kind: synchronous\n")
    assert load_config(path).version == 3
