"""The HTTP connectors' pooled clients are closed on their own loop before it ends, on every
path that makes one: a loop run by asyncio.run (as uvicorn runs the API's, with or without
its lifespan), the API's lifespan, and the connectors' own loop at Exchange.close."""

from __future__ import annotations

import asyncio
import gc
import warnings
import weakref

from onceonly.adapters.connectors.pools import HttpPools


def test_a_loops_pools_are_closed_when_asyncio_run_ends_it() -> None:
    pools = HttpPools()

    async def use() -> list[object]:
        return [pools.session("a", None), pools.session("b", None)]

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", ResourceWarning)
        sessions = asyncio.run(use())
        assert all(session.closed for session in sessions)  # type: ignore[attr-defined]
        del sessions
        gc.collect()
    assert not [w for w in seen if "Unclosed" in str(w.message)]


def test_the_lifespan_closes_the_running_loops_pools_at_once() -> None:
    pools = HttpPools()

    async def use_then_close() -> tuple[bool, bool]:
        session = pools.session("a", None)
        await pools.aclose()
        again = pools.session("a", None)  # a request after: a fresh pool, closed at the end
        return session.closed, again.closed

    assert asyncio.run(use_then_close()) == (True, False)


def test_the_connectors_own_loop_closes_its_pools_and_ends_at_close() -> None:
    pools = HttpPools()

    async def use() -> object:
        return pools.session("a", None)

    session = pools.run(use())
    assert not session.closed  # type: ignore[attr-defined]

    pools.close()

    assert session.closed  # type: ignore[attr-defined]
    assert pools.run(use()) is not session  # a use after close starts the loop again
    pools.close()


def test_a_loop_closed_without_ending_its_tasks_is_not_kept_alive_by_its_pools() -> None:
    pools = HttpPools()

    async def use() -> object:
        return pools.session("a", None)

    closed = asyncio.new_event_loop()  # closed as some runners do: its tasks never ended
    closed.run_until_complete(use())
    closed.close()
    gone = weakref.ref(closed)
    del closed

    asyncio.run(use())  # the next loop to make a pool drops the closed one's
    gc.collect()

    assert gone() is None
