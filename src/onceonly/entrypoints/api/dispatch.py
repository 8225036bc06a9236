"""Where the API runs a blocking use case: on the event loop or in the thread pool."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from onceonly.services.ports.unit_of_work import Durability

T = TypeVar("T")

Run = Callable[[Callable[[], T]], Awaitable[T]]

# As many as anyio's default thread limiter allows Starlette's run_in_threadpool.
WORKERS = 40


class WorkerThreads:
    """Blocking work on a worker thread, in the caller's context variables (the request's
    log fields), as Starlette's run_in_threadpool does, but through the standard library's
    executor: its queue is C's, where anyio's workers take each call through a Python queue
    and condition, a capacity limiter and a cancel scope, which cost the loop more than the
    round trip the thread waits on (BENCHMARKS.md section 13). The threads start on first
    use and live with the process."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def __call__(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool(), contextvars.copy_context().run, work)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self.workers, "onceonly-blocking")
        return self._executor


_THREADS = WorkerThreads()  # one pool a process, shared by its apps


def blocking_runner(embedded_database: bool, durability: Durability) -> Run:
    """With an embedded database (SQLite) a use case is CPU work in this process: running it
    on the event loop spares the hand-off to a worker thread and the wait for the interpreter
    lock between threads, which under load cost more than the work (BENCHMARKS.md section 2);
    there its answer waits on the loop for its commits' sync, shared with the answers
    committed beside it (adapters/db/group_commit.py). With a server database it mostly
    waits on the network: worker threads let other requests run meanwhile, and a commit is
    durable when it returns."""
    return durability.run if embedded_database else _THREADS
