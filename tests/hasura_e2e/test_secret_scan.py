"""Failing operations over real HTTP never reveal the admin secret in anything they produce:
stdout, stderr, every log record (httpx, httpcore, uvicorn at DEBUG), exception texts, the
rendered error as the CLI would print it (without its own masking)."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from kedge_hasura.errors import HasuraError
from kedge_hasura.hasura import HasuraClient, RunSQLArgs
from kedge_hasura.render.output import Output

from ..hasura_double import HasuraDouble

pytestmark = pytest.mark.pg


def _report(error: HasuraError) -> str:
    Output(verbosity=2).error("test", error)  # to the captured stderr, with no secret to mask
    return "\n".join(
        [
            str(error),
            repr(error),
            error.hint or "",
            json.dumps(error.details, default=str),
            repr(error.__cause__),
        ]
    )


def test_failing_calls_never_show_the_admin_secret(
    hasura_double: HasuraDouble, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = hasura_double.admin_secret
    assert secret is not None
    wrong = f"{secret}-but-wrong"

    def log(line: str) -> None:
        print(line, file=sys.stderr)  # as `-v` would show it

    texts: list[str] = []
    with HasuraClient(base_url=hasura_double.url, admin_secret=secret, log=log, retry_backoff=0.0) as hasura:
        print(repr(hasura))
        for failing in (
            lambda: hasura.run_sql("SELECT * FROM no_such_table"),
            lambda: hasura.bulk([RunSQLArgs(sql="SELECT 1"), RunSQLArgs(sql="SELEC 2")]),
            lambda: hasura.replace_metadata(
                {
                    "version": 3,
                    "sources": [{"name": "default", "kind": "postgres", "tables": [{"table": "ghost"}]}],
                }
            ),
        ):
            with pytest.raises(HasuraError) as caught:
                failing()
            texts.append(_report(caught.value))
        hasura_double.faults.drop_connection_after("run_sql")
        with pytest.raises(HasuraError) as caught:
            hasura.run_sql("CREATE TABLE t (id int)")
        texts.append(_report(caught.value))
    with HasuraClient(base_url=hasura_double.url, admin_secret=wrong, log=log) as hasura:
        with pytest.raises(HasuraError) as caught:
            hasura.get_catalog_state()
        texts.append(_report(caught.value))

    captured = capsys.readouterr()
    everything = "\n".join([captured.out, captured.err, caplog.text, *texts])
    assert "POST /v2/query 400" in captured.err  # the -v lines were there to scan
    assert "postgres-error" in everything
    assert secret not in everything
    assert wrong not in everything
