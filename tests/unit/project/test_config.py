"""project.config (config.yaml, parse_dotenv) and project.yamlfile (values with line numbers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kedge_hasura.errors import ProjectError
from kedge_hasura.findings import Severity
from kedge_hasura.project.config import load_config, parse_dotenv
from kedge_hasura.project.yamlfile import IncludeTag, read_yaml

WriteConfig = Callable[[str | bytes], Path]


@pytest.fixture
def config_file(tmp_path: Path) -> WriteConfig:
    """Write config.yaml with the given text (or bytes) and return its path."""

    def write(content: str | bytes) -> Path:
        path = tmp_path / "config.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


# -- config.yaml -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "line", "guess"),
    [
        ("version: 3\nendpont: http://localhost:8080\n", "endpont", 2, "endpoint"),
        (
            "version: 3\nendpoint: http://x\n\n# the secret\nadmin_secert: x\n",
            "admin_secert",
            5,
            "admin_secret",
        ),
        ("migration_directory: m\nversion: 3\n", "migration_directory", 1, "migrations_directory"),
        ("version: 3\nservices:\n  hasura:\n    port: 8080\n", "services", 2, None),
    ],
    ids=["typo-of-endpoint", "after-blank-and-comment", "before-version", "nhost-services"],
)
def test_unknown_key_is_a_warning_naming_file_and_line(
    config_file: WriteConfig, text: str, key: str, line: int, guess: str | None
) -> None:
    path = config_file(text)

    config = load_config(path)

    assert config.version == 3
    [finding] = config.findings
    assert (finding.code, finding.severity, finding.path, finding.line) == (
        "config-unknown-key",
        Severity.WARNING,
        path,
        line,
    )
    assert finding.message.startswith(f"unknown key {key!r} in config.yaml: the Hasura CLI ignores it")
    if guess is None:
        assert "did you mean" not in finding.message
    else:
        assert finding.message.endswith(f"did you mean {guess!r}?")
        assert finding.hint == f"rename it to {guess!r}"


def test_a_typo_is_not_read_as_the_key_it_resembles(config_file: WriteConfig) -> None:
    config = load_config(config_file("version: 3\nendpont: http://typo.example\n"))

    assert config.endpoint is None
    assert "endpoint" not in config.settings_values()


def test_known_keys_and_our_own_section_give_no_warning(config_file: WriteConfig) -> None:
    config = load_config(
        config_file(
            "version: 3\nendpoint: http://x\nmetadata_directory: metadata\nactions:\n  kind: synchronous\n"
            "kedge:\n  check:\n    ignore: [missing-down]\n"
        )
    )

    assert config.findings == ()


def test_keys_match_whatever_their_case_as_in_the_cli(config_file: WriteConfig) -> None:
    config = load_config(
        config_file("Version: 3\nENDPOINT: https://hasura.example.com\napi_paths:\n  GraphQL: v1/graphql\n")
    )

    assert (config.version, config.endpoint) == (3, "https://hasura.example.com")
    assert config.api_paths == {"graphql": "v1/graphql"}
    assert config.findings == ()


def test_a_key_twice_in_different_case_is_refused(config_file: WriteConfig) -> None:
    path = config_file("version: 3\nendpoint: http://a\nEndpoint: http://b\n")

    with pytest.raises(ProjectError) as caught:
        load_config(path)

    assert caught.value.message.startswith(f"{path}:3: 'Endpoint' is 'endpoint' again (line 2)")


def test_unknown_api_paths_key_is_a_warning_naming_its_line(config_file: WriteConfig) -> None:
    path = config_file("version: 3\napi_paths:\n  v1_query: v1/query\n  v9_query: v9/query\n")

    config = load_config(path)

    assert config.api_paths == {"v1_query": "v1/query"}
    [finding] = config.findings
    assert (finding.code, finding.line) == ("config-unknown-key", 4)
    assert finding.message.startswith("unknown key 'v9_query' in api_paths")


@pytest.mark.parametrize(
    "text",
    ["version: 1\nendpoint: http://x\n", "endpoint: http://x\n", "version: 4\n", "version: '3'\n", ""],
    ids=["version-1", "no-version-means-1", "version-4", "version-as-string", "empty-file"],
)
def test_unsupported_version_is_refused_with_a_hint(config_file: WriteConfig, text: str) -> None:
    with pytest.raises(ProjectError) as caught:
        load_config(config_file(text))

    assert "not supported" in caught.value.message
    assert caught.value.hint is not None
    assert "update-project-v3" in caught.value.hint


@pytest.mark.parametrize("version", [2, 3], ids=["v2", "v3"])
def test_supported_versions_load(config_file: WriteConfig, version: int) -> None:
    assert load_config(config_file(f"version: {version}\n")).version == version


def test_version_error_names_the_version_line(config_file: WriteConfig) -> None:
    path = config_file("endpoint: http://x\nversion: 1\n")

    with pytest.raises(ProjectError, match=r":2: config version 1 is not supported"):
        load_config(path)


def test_defaults_and_values(config_file: WriteConfig) -> None:
    config = load_config(
        config_file(
            "version: 3\nendpoint: https://hasura.example.com\nmetadata_directory: md\n"
            "migrations_directory: mig\ncertificate_authority: ca.pem\n"
            "api_paths:\n  v1_query: /v1/query\n"
            "actions:\n  kind: synchronous\nseeds_directory: seeds\ndisable_interactive: true\n"
        )
    )

    assert config.endpoint == "https://hasura.example.com"
    assert (config.metadata_directory, config.migrations_directory) == ("md", "mig")
    assert config.api_paths == {"v1_query": "v1/query"}
    assert config.settings_values()["certificate_authority"] == config.path.parent / "ca.pem"


def test_admin_secrets_list_uses_the_first(config_file: WriteConfig) -> None:
    config = load_config(config_file("version: 3\nadmin_secrets:\n  - current-one\n  - previous-one\n"))

    assert config.admin_secret == "current-one"


def test_admin_secret_stays_out_of_repr(config_file: WriteConfig) -> None:
    config = load_config(config_file("version: 3\nadmin_secret: s3cr3t-value\n"))

    assert config.admin_secret == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(config)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("true", True),
        ("false", True),
        ("'true'", False),
        ("yes please", False),
        ("1", False),
        ("[true]", False),
    ],
    ids=["true", "false", "quoted-string", "text", "integer", "list"],
)
def test_insecure_skip_tls_verify_must_be_a_bool(config_file: WriteConfig, value: str, ok: bool) -> None:
    path = config_file(f"version: 3\n\ninsecure_skip_tls_verify: {value}\n")

    if ok:
        assert isinstance(load_config(path).insecure_skip_tls_verify, bool)
        return
    with pytest.raises(ProjectError, match=r":3: insecure_skip_tls_verify must be true or false"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 3\nendpoint: [a, b]\n", ":2: endpoint must be a string"),
        ("version: 3\napi_paths: v1/query\n", ":2: api_paths must be a mapping"),
        ("- version: 3\n", ":1: config.yaml must be a mapping"),
        ("version: 3\napi_paths:\n  graphql: [v1, graphql]\n", ":3: api_paths.graphql must be a string"),
    ],
    ids=["endpoint-list", "api-paths-string", "top-level-list", "api-path-list"],
)
def test_wrong_types_name_the_line(config_file: WriteConfig, text: str, message: str) -> None:
    with pytest.raises(ProjectError, match=message):
        load_config(config_file(text))


# -- yamlfile ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("version: 3\nendpoint: x\n  bad: indent\n", 3),
        ("a: 1\nb: [1, 2\nc: 3\n", 3),
        ("a: 'unterminated\n", 2),
        ("a: 1\n\tb: 2\n", 2),
    ],
    ids=["bad-indent", "unclosed-flow-list", "unterminated-quote", "tab-indent"],
)
def test_invalid_yaml_names_the_line(config_file: WriteConfig, text: str, line: int) -> None:
    path = config_file(text)

    with pytest.raises(ProjectError) as caught:
        read_yaml(path)

    assert caught.value.message.startswith(f"{path}:{line}: invalid YAML")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("version: 3\nendpoint: a\nendpoint: b\n", 3, "endpoint"),
        ("api_paths:\n  graphql: a\n  query: b\n  graphql: c\n", 4, "graphql"),
        ("- name: x\n  kind: pg\n  name: y\n", 3, "name"),
    ],
    ids=["top-level", "nested-mapping", "inside-list-item"],
)
def test_duplicate_key_names_the_line(config_file: WriteConfig, text: str, line: int, key: str) -> None:
    path = config_file(text)

    with pytest.raises(ProjectError) as caught:
        read_yaml(path)

    assert caught.value.message == f"{path}:{line}: duplicate key {key!r}"


def test_non_utf8_yaml_names_the_line(config_file: WriteConfig) -> None:
    path = config_file(b"version: 3\n# comment\nendpoint: http://caf\xe9/\n")

    with pytest.raises(ProjectError) as caught:
        load_config(path)

    assert caught.value.message == f"{path}:3: not valid UTF-8 (byte 0xe9)"


def test_include_tag_becomes_include_tag(config_file: WriteConfig) -> None:
    document = read_yaml(config_file("tables: !include default/tables/tables.yaml\n"))

    assert document.value == {"tables": IncludeTag("default/tables/tables.yaml")}


def test_include_as_string_stays_a_string(config_file: WriteConfig) -> None:
    document = read_yaml(config_file('tables: "!include default/tables/tables.yaml"\n'))

    assert document.value == {"tables": "!include default/tables/tables.yaml"}


def test_include_tags_inside_lists(config_file: WriteConfig) -> None:
    document = read_yaml(config_file("- !include a.yaml\n- !include 'b c.yaml'\n"))

    assert document.value == [IncludeTag("a.yaml"), IncludeTag("b c.yaml")]


def test_unknown_tag_is_refused(config_file: WriteConfig) -> None:
    path = config_file("a: 1\nb: !env HOME\n")

    with pytest.raises(ProjectError, match=r":2: unknown YAML tag !env"):
        read_yaml(path)


def test_line_of_every_value(config_file: WriteConfig) -> None:
    document = read_yaml(
        config_file("# header\nversion: 3\napi_paths:\n  graphql: v1/graphql\nlist:\n  - a\n  - b\n")
    )

    assert document.line_of(("version",)) == 2
    assert document.line_of(("api_paths", "graphql")) == 4
    assert document.line_of(("list", 1)) == 7
    assert document.line_of(("api_paths", "missing", "deeper")) == 3


def test_empty_yaml_is_none(config_file: WriteConfig) -> None:
    assert read_yaml(config_file("# only a comment\n")).value is None


# -- .env ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KEY=value", {"KEY": "value"}),
        ("# a comment\nKEY=value\n  # indented comment", {"KEY": "value"}),
        ("export KEY=value", {"KEY": "value"}),
        ("export   KEY=value", {"KEY": "value"}),
        ("KEY='a \\n b $HOME # x'", {"KEY": "a \\n b $HOME # x"}),
        ('KEY="line1\\nline2"', {"KEY": "line1\nline2"}),
        ('KEY="say \\"hi\\""', {"KEY": 'say "hi"'}),
        ('KEY="a # b"', {"KEY": "a # b"}),
        ("KEY=value # a comment", {"KEY": "value"}),
        ("KEY=value#not-a-comment", {"KEY": "value#not-a-comment"}),
        ("KEY=", {"KEY": ""}),
        ('KEY=""', {"KEY": ""}),
        ("KEY=''", {"KEY": ""}),
        ("KEY = value", {"KEY": "value"}),
        ("KEY=a=b", {"KEY": "a=b"}),
        ("JUST_A_WORD\nKEY=value", {"KEY": "value"}),
        ("=value", {}),
        ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ("KEY=first\nKEY=second", {"KEY": "second"}),
        pytest.param(
            'KEY="value" # a comment',
            {"KEY": "value"},
        ),
        pytest.param(
            "KEY='value' # a comment",
            {"KEY": "value"},
        ),
    ],
    ids=[
        "plain",
        "comments",
        "export-prefix",
        "export-extra-spaces",
        "single-quotes-literal",
        "double-quotes-newline-escape",
        "double-quotes-quote-escape",
        "hash-inside-double-quotes",
        "trailing-comment-unquoted",
        "hash-without-space",
        "empty-value",
        "empty-double-quotes",
        "empty-single-quotes",
        "spaces-around-equals",
        "equals-in-value",
        "line-without-equals-ignored",
        "empty-key-ignored",
        "crlf",
        "last-wins",
        "double-quoted-then-comment",
        "single-quoted-then-comment",
    ],
)
def test_parse_dotenv(text: str, expected: dict[str, str]) -> None:
    assert parse_dotenv(text) == expected


# -- kedge.databases.<db>.preconditions ------------------------------------------------------------


def test_preconditions_are_read_per_database_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "preconditions").mkdir()
    (tmp_path / "preconditions" / "auth.sql").write_text("CREATE SCHEMA auth;\n")
    (tmp_path / "config.yaml").write_text(
        "version: 3\n"
        "kedge:\n"
        "  databases:\n"
        "    default:\n"
        "      preconditions:\n"
        "        sql: [preconditions/auth.sql]\n"
    )

    config = load_config(tmp_path / "config.yaml")

    assert config.kedge.preconditions_for("default").sql == (tmp_path / "preconditions" / "auth.sql",)
    assert config.kedge.preconditions_for("other").sql == ()


def test_a_missing_precondition_file_is_an_error_naming_its_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "version: 3\n"
        "kedge:\n"
        "  databases:\n"
        "    default:\n"
        "      preconditions:\n"
        "        sql:\n"
        "          - preconditions/auth.sql\n"
    )

    with pytest.raises(ProjectError) as caught:
        load_config(tmp_path / "config.yaml")

    assert f"{tmp_path / 'config.yaml'}:7:" in str(caught.value)
    assert "preconditions/auth.sql" in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_an_unknown_precondition_key_is_an_error_naming_its_line(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "version: 3\nkedge:\n  databases:\n    default:\n      preconditions:\n        sqll: [a.sql]\n"
    )

    with pytest.raises(ProjectError) as caught:
        load_config(tmp_path / "config.yaml")

    assert f"{tmp_path / 'config.yaml'}:6: unknown key 'sqll'" in str(caught.value)
