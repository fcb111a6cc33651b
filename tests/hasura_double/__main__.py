"""Run the Hasura test double on its own: prints its URL when ready, stops on Ctrl-C or SIGTERM.

    python -m tests.hasura_double --port 8089 [--database-url URL] [--admin-secret S] [--version V]

Without --database-url it starts a private scratch PostgreSQL (kedge_hasura.pg.scratch) and
removes it on exit.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import ExitStack

from kedge_hasura.pg.scratch import ScratchCluster

from .api import DoubleConfig
from .server import HasuraDouble


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.hasura_double", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--database-url", help="the `default` source and metadata database (conninfo or URL)")
    parser.add_argument("--admin-secret", help="require this admin secret")
    parser.add_argument("--version", default="v2.48.5", help="what GET /v1/version reports (gates features)")
    options = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with ExitStack() as stack:
        database_url = options.database_url
        if database_url is None:
            cluster = stack.enter_context(ScratchCluster())
            database_url = stack.enter_context(cluster.database("hasura")).conninfo
        config = DoubleConfig(
            database_url=database_url, admin_secret=options.admin_secret, version=options.version
        )
        double = stack.enter_context(HasuraDouble(config, port=options.port))
        print(double.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
