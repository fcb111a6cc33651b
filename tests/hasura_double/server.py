"""HasuraDouble: the double served by uvicorn in a background thread on 127.0.0.1.

The socket is bound before uvicorn starts (port 0 picks a free one), so there is no race for
the port; `start()` returns once uvicorn serves, `stop()` returns once the thread has ended.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn

from .api import DoubleConfig, HasuraAPI
from .app import DoubleApp
from .faults import Faults

_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 10.0


class HasuraDouble:
    """A running test double; `url`, `admin_secret`, `faults`, `config` for tests."""

    def __init__(self, config: DoubleConfig, *, host: str = "127.0.0.1", port: int = 0):
        self.config = config
        self.faults = Faults()
        self._host = host
        self._port = port
        self._stopping = threading.Event()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.api = HasuraAPI(config)
        self.url = ""

    @property
    def admin_secret(self) -> str | None:
        return self.config.admin_secret

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        self.api.install()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self._host, self._port))
        port = self._socket.getsockname()[1]
        self.url = f"http://{self._host}:{port}"
        app = DoubleApp(self.api, self.faults, self._stopping)
        config = uvicorn.Config(
            app,
            http="h11",  # the connection-drop fault needs h11's cycle object (app.py)
            ws="none",
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"hasura-double-{port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:  # poll with a deadline: the one wait the tests allow
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Hasura test double did not start on {self.url}")
            time.sleep(0.002)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        self._stopping.set()
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(_STOP_TIMEOUT)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(_STOP_TIMEOUT)
            if self._thread.is_alive():
                raise RuntimeError(f"the Hasura test double on {self.url} did not stop")
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
