"""Where the API runs a blocking use case: on the event loop or in the thread pool."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from onceonly.services.ports.unit_of_work import Durability

T = TypeVar("T")

Run = Callable[[Callable[[], T]], Awaitable[T]]


def blocking_runner(embedded_database: bool, durability: Durability) -> Run:
    """With an embedded database (SQLite) a use case is CPU work in this process: running it
    on the event loop spares the hand-off to a worker thread and the wait for the interpreter
    lock between threads, which under load cost more than the work (BENCHMARKS.md section 2);
    there its answer waits on the loop for its commits' sync, shared with the answers
    committed beside it (adapters/db/group_commit.py). With a server database it mostly
    waits on the network: the thread pool lets other requests run meanwhile, and a commit is
    durable when it returns."""
    return durability.run if embedded_database else run_in_threadpool
