"""The API's worker threads: blocking work runs off the event loop's thread, in the
request's context variables, and its result or exception comes back to the awaiting task."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from onceonly.entrypoints.api.dispatch import WorkerThreads

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


def test_work_runs_on_a_worker_thread_with_the_callers_context():
    threads = WorkerThreads(workers=2)

    async def main() -> tuple[str, int, int]:
        REQUEST_ID.set("req-1")
        seen = await threads(lambda: (REQUEST_ID.get(), threading.get_ident()))
        return seen[0], seen[1], threading.get_ident()

    request_id, worker, loop_thread = asyncio.run(main())
    assert request_id == "req-1"
    assert worker != loop_thread


def test_a_failure_in_the_work_is_raised_to_the_caller():
    threads = WorkerThreads(workers=1)

    def fails() -> None:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        asyncio.run(threads(fails))


def test_what_the_work_sets_in_its_context_stays_there():
    threads = WorkerThreads(workers=1)

    async def main() -> str:
        REQUEST_ID.set("outer")
        await threads(lambda: REQUEST_ID.set("inner"))
        return REQUEST_ID.get()

    assert asyncio.run(main()) == "outer"
