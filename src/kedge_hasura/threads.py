"""Worker threads that leave Ctrl-C to the main thread.

The kernel delivers a process-wide SIGINT to any thread that does not block it. When that is a
worker, Python only sets a flag, and a main thread blocked in C (psycopg waiting for a long
statement) never looks at it: Ctrl-C then did nothing until the statement ended (seen in CI: a
squash interrupted during `pg_sleep(600)` hung). Every pool of ours blocks SIGINT and SIGTERM in
its threads, so the signal reaches the main thread, interrupts its wait, and becomes the
KeyboardInterrupt the commands handle. Imports nothing of ours: every layer may use it.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

_LEFT_TO_THE_MAIN_THREAD = {signal.SIGINT, signal.SIGTERM}


def worker_pool(max_workers: int, name: str = "kedge-worker") -> ThreadPoolExecutor:
    """A ThreadPoolExecutor whose threads never receive SIGINT or SIGTERM."""
    return ThreadPoolExecutor(
        max_workers=max_workers, thread_name_prefix=name, initializer=_leave_signals_to_the_main_thread
    )


def _leave_signals_to_the_main_thread() -> None:
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, where signals go to the main thread anyway
        signal.pthread_sigmask(signal.SIG_BLOCK, _LEFT_TO_THE_MAIN_THREAD)


@contextmanager
def signals_blocked() -> Iterator[None]:
    """Block SIGINT and SIGTERM in this thread for the block: a thread started inside it (rich's
    spinner, which we do not create ourselves) inherits the mask and so never takes Ctrl-C. A
    signal that arrives meanwhile stays pending and is raised when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _LEFT_TO_THE_MAIN_THREAD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
