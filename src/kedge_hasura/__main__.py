"""`python -m kedge_hasura`: the same entry point as the `kedge-hasura` script."""

from kedge_hasura.cli import run

run()
