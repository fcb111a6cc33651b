"""cli: main(argv) in-process: exit codes, stdout vs stderr, the JSON envelope, global options, secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura import __version__
from kedge_hasura.actions import status as status_action
from kedge_hasura.cli import hoist_global_options
from kedge_hasura.cli.context import AppContext, GlobalOptions

RunCli = Callable[..., Any]  # tests/conftest.py run_cli: (*args, cwd=, env=) -> CliResult
BuildTree = Callable[..., Path]  # tests/unit/conftest.py make_project

SECRET = "s3cr3t-value"
ENVELOPE_KEYS = {"schema", "command", "ok", "exit_code", "result", "error", "warnings"}
DUPLICATE_VERSIONS = {
    "migrations/default/1_a/up.sql": "CREATE TABLE a (id int);\n",
    "migrations/default/01_b/up.sql": "CREATE TABLE b (id int);\n",
}


def _versions(project: Path) -> list[int]:
    return sorted(int(p.name.split("_", 1)[0]) for p in (project / "migrations" / "default").iterdir())


def _envelope(stdout: str) -> dict[str, Any]:
    document = json.loads(stdout)  # fails on anything but exactly one JSON document
    assert isinstance(document, dict)
    return document


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """A folder with no Hasura project in it or above it."""
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


@pytest.fixture
def boom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the status action fail with an unexpected exception."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(status_action, "local_status", fail)


# -- status -------------------------------------------------------------------------------------------


def test_status_lists_every_migration(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", "--project", str(kedge_project))

    assert result.exit_code == 0
    assert "Database default: 17 migrations" in result.stdout
    for version in _versions(kedge_project):
        assert str(version) in result.stdout
    assert "status: ok" in result.stdout


def test_status_runs_from_inside_the_project(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", cwd=kedge_project / "migrations" / "default")

    assert result.exit_code == 0
    assert "17 migrations" in result.stdout


def test_status_json_is_one_envelope(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("--output", "json", "status", "--project", str(kedge_project))
    envelope = _envelope(result.stdout)

    assert result.exit_code == 0
    assert set(envelope) == ENVELOPE_KEYS
    assert (envelope["schema"], envelope["command"], envelope["ok"], envelope["exit_code"]) == (
        1,
        "status",
        True,
        0,
    )
    assert (envelope["error"], envelope["warnings"]) == (None, [])
    (database,) = envelope["result"]["databases"]
    assert [m["version"] for m in database["migrations"]] == _versions(kedge_project)


def test_kedge_output_variable_selects_json(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", "--project", str(kedge_project), env={"KEDGE_OUTPUT": "json"})

    assert _envelope(result.stdout)["ok"] is True


def test_error_finding_exits_1(run_cli: RunCli, make_project: BuildTree) -> None:
    result = run_cli("status", "--project", str(make_project(DUPLICATE_VERSIONS)))

    assert result.exit_code == 1
    assert "error " in result.stdout
    assert "version 1 is defined more than once" in result.stdout
    assert "status: errors found" in result.stdout


def test_human_findings_show_their_code(run_cli: RunCli, make_project: BuildTree) -> None:
    result = run_cli("status", "--project", str(make_project(DUPLICATE_VERSIONS)))

    assert "[duplicate-version]" in result.stdout


def test_error_finding_json_is_not_ok(run_cli: RunCli, make_project: BuildTree) -> None:
    result = run_cli("-o", "json", "status", "--project", str(make_project(DUPLICATE_VERSIONS)))
    envelope = _envelope(result.stdout)

    assert result.exit_code == 1
    assert (envelope["ok"], envelope["exit_code"], envelope["error"]) == (False, 1, None)
    assert "duplicate-version" in [f["code"] for f in envelope["result"]["findings"]]


def test_database_option_reaches_the_action(
    run_cli: RunCli, kedge_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    real = status_action.local_status

    def spy(project: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(project, **kwargs)

    monkeypatch.setattr(status_action, "local_status", spy)
    result = run_cli("status", "--database", "default", "--project", str(kedge_project))

    assert result.exit_code == 0
    assert calls == [{"database": "default"}]


def test_unknown_database_is_a_usage_error(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", "--project", str(kedge_project), env={"KEDGE_DATABASE": "analytics"})

    assert result.exit_code == 2
    assert "error: no migrations for database 'analytics'" in result.stderr
    assert result.stdout == ""


# -- errors and exit codes ----------------------------------------------------------------------------


def test_no_project_exits_3_with_error_and_hint(run_cli: RunCli, empty_dir: Path) -> None:
    result = run_cli("status", cwd=empty_dir)

    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("error: no Hasura project found")
    assert "\nhint: " in result.stderr


def test_no_project_json_puts_the_error_in_the_envelope(run_cli: RunCli, empty_dir: Path) -> None:
    result = run_cli("--output", "json", "status", cwd=empty_dir)
    envelope = _envelope(result.stdout)

    assert result.exit_code == 3
    assert set(envelope) == ENVELOPE_KEYS
    assert (envelope["ok"], envelope["exit_code"], envelope["result"]) == (False, 3, None)
    assert envelope["error"]["type"] == "ProjectError"
    assert envelope["error"]["message"].startswith("no Hasura project found")
    assert envelope["error"]["hint"]


def test_explicit_project_without_config_exits_3(run_cli: RunCli, empty_dir: Path) -> None:
    result = run_cli("status", "--project", str(empty_dir))

    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: no config.yaml in {empty_dir}")


def test_invalid_config_exits_3_naming_file_and_line(run_cli: RunCli, make_project: BuildTree) -> None:
    root = make_project({"config.yaml": "version: 3\nendpoint: [http://x]\n"})

    result = run_cli("status", "--project", str(root))

    assert result.exit_code == 3
    assert f"error: {root / 'config.yaml'}:2: endpoint must be a string" in result.stderr


def test_unknown_config_key_is_a_status_warning_and_exits_0(run_cli: RunCli, make_project: BuildTree) -> None:
    root = make_project({"config.yaml": "version: 3\nendpont: http://x\nservices:\n  hasura: {}\n"})

    result = run_cli("status", "--project", str(root))

    assert result.exit_code == 0, result.stderr
    assert (
        f"warning [config-unknown-key] {root / 'config.yaml'}:2: unknown key 'endpont' in config.yaml: "
        "the Hasura CLI ignores it, and so does kedge-hasura; did you mean 'endpoint'?"
    ) in result.stdout
    assert "unknown key 'services' in config.yaml" in result.stdout
    assert "status: ok" in result.stdout


def test_other_commands_warn_about_unknown_config_keys_on_stderr(
    run_cli: RunCli, make_project: BuildTree
) -> None:
    root = make_project({"config.yaml": "version: 3\nservices:\n  hasura: {}\n"})

    result = run_cli("archive", "list", "--project", str(root))

    assert result.exit_code == 0
    assert result.stderr.count("warning: ") == 1
    assert f"warning: {root / 'config.yaml'}:2: unknown key 'services' in config.yaml" in result.stderr
    assert "services" not in result.stdout


def test_unknown_config_key_is_in_the_status_json(run_cli: RunCli, make_project: BuildTree) -> None:
    root = make_project({"config.yaml": "version: 3\nservices:\n  hasura: {}\n"})

    result = run_cli("status", "--project", str(root), "-o", "json")

    assert result.exit_code == 0
    envelope = json.loads(result.stdout)
    [finding] = envelope["result"]["findings"]
    assert (finding["code"], finding["severity"], finding["line"]) == ("config-unknown-key", "warning", 2)
    assert finding["path"] == str(root / "config.yaml")
    assert envelope["ok"] is True


@pytest.mark.parametrize(
    "args",
    [("status", "--bogus"), ("--bogus", "status"), ("nosuch",), ("status", "extra-argument")],
    ids=["after-command", "before-command", "unknown-command", "extra-argument"],
)
def test_usage_errors_exit_2(run_cli: RunCli, kedge_project: Path, args: tuple[str, ...]) -> None:
    result = run_cli(*args, cwd=kedge_project)

    assert result.exit_code == 2
    assert result.stdout == ""
    # our own words, as for every other error: no Click "Error:" or "Usage:" block beside them
    assert result.stderr.startswith("error: ") and "\nhint: see 'kedge-hasura" in result.stderr
    assert "Error:" not in result.stderr and "Usage:" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [("-o", "json", "status", "--bogus"), ("status", "--output=json", "extra"), ("-ojson", "nosuch")],
)
def test_usage_errors_are_one_json_document_when_json_is_asked_for(
    run_cli: RunCli, kedge_project: Path, args: tuple[str, ...]
) -> None:
    result = run_cli(*args, cwd=kedge_project)

    assert result.exit_code == 2
    envelope = json.loads(result.stdout)
    assert (envelope["ok"], envelope["exit_code"], envelope["error"]["type"]) == (False, 2, "UsageError")


def test_junit_output_is_a_usage_error_for_status(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", "--output", "junit", "--project", str(kedge_project))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: --output junit is not available for status" in result.stderr


def test_bad_setting_with_json_output_writes_an_envelope(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("-o", "json", "status", "--project", str(kedge_project), env={"KEDGE_TIMEOUT": "soon"})

    assert result.exit_code == 2
    assert _envelope(result.stdout)["error"]["type"] == "UsageError"


def test_bad_setting_exits_2_naming_its_source(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", "--project", str(kedge_project), env={"KEDGE_TIMEOUT": "soon"})

    assert result.exit_code == 2
    assert "invalid value for timeout (from environment)" in result.stderr


def test_internal_error_exits_4_with_a_hint(run_cli: RunCli, kedge_project: Path, boom: None) -> None:
    result = run_cli("status", "--project", str(kedge_project))

    assert result.exit_code == 4
    assert result.stdout == ""
    assert "internal error: RuntimeError: boom" in result.stderr
    assert "hint:" in result.stderr
    assert "--debug" in result.stderr


def test_internal_error_json_envelope(run_cli: RunCli, kedge_project: Path, boom: None) -> None:
    result = run_cli("-o", "json", "status", "--project", str(kedge_project))
    envelope = _envelope(result.stdout)

    assert result.exit_code == 4
    assert (envelope["exit_code"], envelope["error"]["type"]) == (4, "InternalError")


@pytest.mark.parametrize(
    "args",
    [("--debug", "status"), ("status", "--debug")],
    ids=["before-command", "after-command"],
)
def test_debug_reraises_internal_errors(
    run_cli: RunCli, kedge_project: Path, boom: None, args: tuple[str, ...]
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        run_cli(*args, "--project", str(kedge_project))


def test_version(run_cli: RunCli) -> None:
    result = run_cli("--version")

    assert result.exit_code == 0
    assert result.stdout == f"kedge-hasura {__version__}\n"


# -- global options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        ("--project", "{p}", "--output", "json", "status"),
        ("status", "--project", "{p}", "--output", "json"),
        ("status", "--project={p}", "--output=json"),
        ("-o", "json", "status", "--project", "{p}"),
        ("--project", "{p}", "status", "-o", "json", "-q"),
    ],
    ids=["before", "after", "after-with-equals", "split", "after-with-flag"],
)
def test_global_options_before_or_after_the_command(
    run_cli: RunCli, kedge_project: Path, template: tuple[str, ...]
) -> None:
    result = run_cli(*(part.format(p=kedge_project) for part in template))

    assert result.exit_code == 0
    assert _envelope(result.stdout)["command"] == "status"


@pytest.fixture
def seen_flags(monkeypatch: pytest.MonkeyPatch) -> list[GlobalOptions]:
    """The global options each run hands to AppContext.create."""
    seen: list[GlobalOptions] = []
    real_create = AppContext.create

    def create(options: GlobalOptions, environ: dict[str, str] | None = None) -> AppContext:
        seen.append(options)
        return real_create(options, environ)

    monkeypatch.setattr(AppContext, "create", staticmethod(create))
    return seen


@pytest.mark.parametrize(
    ("args", "verbosity"),
    [
        (("status", "-v"), 1),
        (("status", "-v", "-v"), 2),
        (("-v", "status", "--verbose"), 2),
        (("status", "-v", "-v", "-v"), 2),
        (("status", "-q"), -1),
        pytest.param(
            ("status", "-vv"),
            2,
        ),
    ],
    ids=["one-v", "two-v", "both-sides", "capped-at-two", "quiet", "combined-vv"],
)
def test_verbosity_is_counted(
    run_cli: RunCli,
    kedge_project: Path,
    seen_flags: list[GlobalOptions],
    args: tuple[str, ...],
    verbosity: int,
) -> None:
    result = run_cli(*args, "--project", str(kedge_project))

    assert result.exit_code == 0
    assert [options.verbosity for options in seen_flags] == [verbosity]


OPTIONS = {
    "--project": True,
    "--output": True,
    "-o": True,
    "--admin-secret": True,
    "-v": False,
    "--verbose": False,
    "-q": False,
    "--quiet": False,
    "--debug": False,
    "--hasura-preconditions": False,
    "--no-hasura-preconditions": False,
    "-h": False,
    "--help": False,
}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], []),
        (["--project", "p", "status"], ["--project", "p", "status"]),
        (["status", "--project", "p"], ["--project", "p", "status"]),
        (["status", "--project=p"], ["--project=p", "status"]),
        (["status", "--admin-secret", "a=b=c"], ["--admin-secret", "a=b=c", "status"]),
        (["status", "--admin-secret=a=b"], ["--admin-secret=a=b", "status"]),
        (["status", "-o", "json"], ["-o", "json", "status"]),
        (["status", "--admin-secret", "-v"], ["--admin-secret", "-v", "status"]),
        (["status", "-o", "json", "--project", "p"], ["-o", "json", "--project", "p", "status"]),
        (["--project", "p", "status", "-o", "json"], ["--project", "p", "-o", "json", "status"]),
        (["status", "--", "--project", "p"], ["status", "--", "--project", "p"]),
        (["status", "-q", "--", "-v"], ["-q", "status", "--", "-v"]),
        (["status", "-v", "-v"], ["-v", "-v", "status"]),
        (["-v", "status", "-v"], ["-v", "-v", "status"]),
        (["status", "--no-hasura-preconditions"], ["--no-hasura-preconditions", "status"]),
        (["status", "--help"], ["status", "--help"]),
        (["status", "-h"], ["status", "-h"]),
        (["status", "--bogus", "x"], ["status", "--bogus", "x"]),
        (
            ["migrate", "squash", "--from", "1", "--project", "p"],
            ["--project", "p", "migrate", "squash", "--from", "1"],
        ),
        pytest.param(
            ["status", "-vv"],
            ["-vv", "status"],
        ),
        pytest.param(
            ["status", "-ojson"],
            ["-ojson", "status"],
        ),
    ],
    ids=[
        "empty",
        "already-in-front",
        "value-as-next-token",
        "value-with-equals",
        "value-containing-equals",
        "equals-value-containing-equals",
        "short-option-value",
        "value-that-looks-like-an-option",
        "order-kept",
        "leading-and-trailing",
        "double-dash-stops",
        "double-dash-after-hoisted",
        "v-counted",
        "v-on-both-sides",
        "secondary-flag-spelling",
        "help-stays",
        "short-help-stays",
        "unknown-option-stays",
        "subcommand-options-stay",
        "combined-short-flags",
        "attached-short-value",
    ],
)
def test_hoist_global_options(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv, OPTIONS) == expected


# -- the admin secret never reaches stdout or stderr --------------------------------------------------


@dataclass(frozen=True)
class SecretRun:
    args: tuple[str, ...]  # "{good}", "{bad_version}", "{bad_key}", "{with_secret}" are project folders
    env: dict[str, str] = field(default_factory=dict)
    in_empty_dir: bool = False
    echoes: bool = False  # an error message repeats the secret: it must show up masked
    stream: str = "stderr"  # where it is repeated


ADMIN_ENV = {"HASURA_GRAPHQL_ADMIN_SECRET": SECRET}
SECRET_RUNS = {
    "status-flag": SecretRun(("status", "--project", "{good}", "--admin-secret", SECRET)),
    "status-json-env": SecretRun(("-o", "json", "status", "--project", "{good}"), ADMIN_ENV),
    "secret-from-dotenv-and-config-json": SecretRun(("-o", "json", "status", "--project", "{with_secret}")),
    "error-findings-flag": SecretRun(("status", "--project", "{errors}", "--admin-secret", SECRET)),
    "no-project-flag": SecretRun(("status", "--admin-secret", SECRET), in_empty_dir=True),
    "no-project-json-env": SecretRun(("--output", "json", "status"), ADMIN_ENV, in_empty_dir=True),
    "config-echoes-it-flag": SecretRun(
        ("status", "--project", "{bad_version}", f"--admin-secret={SECRET}"), echoes=True
    ),
    "config-echoes-it-json-env": SecretRun(
        ("-o", "json", "status", "--project", "{bad_version}"), ADMIN_ENV, echoes=True
    ),
    "config-echoes-it-legacy-env": SecretRun(
        ("status", "--project", "{bad_version}"), {"HASURA_GRAPHQL_ACCESS_KEY": SECRET}, echoes=True
    ),
    "unknown-key-warning-echoes-it": SecretRun(
        ("status", "--project", "{bad_key}", "--admin-secret", SECRET), echoes=True, stream="stdout"
    ),
    "unknown-option": SecretRun(("status", "--admin-secret", SECRET, "--bogus")),
    "junit-usage-error": SecretRun(("status", "-o", "junit", "--project", "{good}"), ADMIN_ENV),
}


@pytest.fixture
def secret_projects(make_project: BuildTree, kedge_project: Path, tmp_path: Path) -> dict[str, Path]:
    return {
        "good": kedge_project,
        "errors": make_project(DUPLICATE_VERSIONS, root=tmp_path / "errors"),
        "bad_version": make_project({"config.yaml": f"version: {SECRET}\n"}, root=tmp_path / "bad_version"),
        "bad_key": make_project({"config.yaml": f"version: 3\n{SECRET}: 1\n"}, root=tmp_path / "bad_key"),
        "with_secret": make_project(
            {
                "config.yaml": f"version: 3\nadmin_secret: {SECRET}\n",
                ".env": f"HASURA_GRAPHQL_ADMIN_SECRET={SECRET}\n",
            },
            root=tmp_path / "with_secret",
        ),
    }


@pytest.mark.parametrize("case", list(SECRET_RUNS.values()), ids=list(SECRET_RUNS))
def test_secret_never_printed(
    run_cli: RunCli, secret_projects: dict[str, Path], empty_dir: Path, case: SecretRun
) -> None:
    args = [part.format(**secret_projects) for part in case.args]
    result = run_cli(*args, cwd=empty_dir if case.in_empty_dir else None, env=case.env)

    assert SECRET not in result.stdout
    assert SECRET not in result.stderr
    if case.echoes:
        assert "***" in getattr(result, case.stream)


def test_secret_masked_in_settings_errors(run_cli: RunCli, kedge_project: Path) -> None:
    # A bad value that happens to be the secret (e.g. variables swapped in a CI file) is echoed.
    result = run_cli(
        "status",
        "--project",
        str(kedge_project),
        "--admin-secret",
        SECRET,
        env={"HASURA_GRAPHQL_INSECURE_SKIP_TLS_VERIFY": SECRET},
    )

    assert result.exit_code == 2
    assert SECRET not in result.stderr


def test_secret_masked_in_internal_errors(
    run_cli: RunCli, kedge_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"request with secret {SECRET} failed")

    monkeypatch.setattr(status_action, "local_status", fail)
    result = run_cli("status", "--project", str(kedge_project), env=ADMIN_ENV)

    assert result.exit_code == 4
    assert SECRET not in result.stderr
    assert "request with secret *** failed" in result.stderr
