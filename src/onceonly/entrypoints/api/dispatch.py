"""Where the API runs a blocking use case: on the event loop or in the thread pool."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

Run = Callable[[Callable[[], T]], Awaitable[T]]


async def _on_the_loop(work: Callable[[], T]) -> T:
    return work()


def blocking_runner(embedded_database: bool) -> Run:
    """With an embedded database (SQLite) a use case is CPU work in this process: running it
    on the event loop spares the hand-off to a worker thread and the wait for the interpreter
    lock between threads, which under load cost more than the work (BENCHMARKS.md section 2).
    With a server database it mostly waits on the network: the thread pool lets other
    requests run meanwhile."""
    return _on_the_loop if embedded_database else run_in_threadpool
