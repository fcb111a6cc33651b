"""Ctrl-C must reach the main thread: every worker pool blocks SIGINT and SIGTERM in its threads,
and no module makes a ThreadPoolExecutor of its own (one that forgot would bring back the hang
seen in CI: SIGINT taken by a worker while the main thread waited in psycopg, never interrupted)."""

from __future__ import annotations

import io
import re
import signal
import threading
from pathlib import Path

from kedge_hasura.render.output import Output
from kedge_hasura.threads import worker_pool

SRC = Path(__file__).resolve().parents[2] / "src" / "kedge_hasura"


def test_worker_threads_block_sigint_and_sigterm_and_the_main_thread_does_not() -> None:
    with worker_pool(2) as pool:
        masks = list(pool.map(lambda _: signal.pthread_sigmask(signal.SIG_BLOCK, []), range(2)))
    for mask in masks:
        assert {signal.SIGINT, signal.SIGTERM} <= set(mask)
    assert threading.current_thread() is threading.main_thread()
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_no_module_makes_a_thread_pool_or_thread_of_its_own() -> None:
    own = re.compile(r"ThreadPoolExecutor\(|threading\.Thread\(|\bThread\(")
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        if path.name != "threads.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if own.search(line)
    ]
    assert offenders == [], "use kedge_hasura.threads.worker_pool"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _blocked_signals(thread: threading.Thread) -> int:
    """The thread's blocked-signal mask, read from /proc (Linux)."""
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)


def test_the_spinner_thread_on_a_terminal_does_not_take_ctrl_c() -> None:
    output = Output(stdout=_Terminal(), stderr=_Terminal())
    before = set(threading.enumerate())
    with output.progress("Squashing"):
        spinners = [t for t in threading.enumerate() if t not in before]
        assert spinners, "no spinner thread: the test no longer tests anything"
        for thread in spinners:
            assert _blocked_signals(thread) & (1 << (signal.SIGINT - 1))
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # restored in the main thread
