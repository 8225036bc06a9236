"""The HTTP connectors' pooled clients: one aiohttp session per provider origin and TLS
identity on each event loop, each closed on its own loop before that loop ends."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")


class HttpPools:
    """The pooled clients, one per provider origin and TLS identity on each event loop, and
    the loop of the connectors' own on which the synchronous port runs.

    A loop's pools are closed on that loop before it ends, whoever made it: a task waits on
    each loop that has pools, and closes them when it is cancelled, as asyncio.run (and so
    uvicorn, and the connectors' own loop) cancels every task left at its end. The API's
    lifespan closes them earlier (aclose), and Exchange.close those of loops still running.
    """

    def __init__(self) -> None:
        # By loop: its clients by key, and the task that closes them at the loop's end.
        self._loops: dict[asyncio.AbstractEventLoop,
                          tuple[dict[str, aiohttp.ClientSession], asyncio.Task[None]]] = {}
        self._own: tuple[asyncio.AbstractEventLoop, asyncio.Event, threading.Thread] | None \
            = None
        self._lock = threading.Lock()

    def session(self, key: str, context: ssl.SSLContext | None) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        found = self._loops.get(loop)
        if found is None:
            self._drop_closed_loops()
            found = self._loops[loop] = ({}, loop.create_task(self._close_at_end()))
        sessions = found[0]
        session = sessions.get(key)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(ssl=context if context is not None else True,
                                             limit=0, limit_per_host=100,
                                             keepalive_timeout=30)
            # No cookie jar: nothing a provider sets is kept from one person's read to the
            # next (and no jar is filtered and updated on every read).
            session = sessions[key] = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar())
        return session

    def _drop_closed_loops(self) -> None:
        """Forget the pools of loops closed without ending their tasks (loop.close() without
        asyncio.run): nothing can close those pools now, and keeping them would keep each
        such loop alive. (A WeakKeyDictionary would not do: the closing task refers to its
        loop, so the entry would keep its own key alive.)"""
        for loop in [loop for loop in list(self._loops) if loop.is_closed()]:
            self._loops.pop(loop, None)

    async def _close_at_end(self) -> None:
        try:
            await asyncio.Event().wait()  # until cancelled: the loop is ending
        except asyncio.CancelledError:  # (not when a closed loop's task is collected)
            await self._close_loop(asyncio.get_running_loop())
            raise

    async def _close_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        sessions, closer = self._loops.pop(loop, ({}, None))
        if closer is not None and closer is not asyncio.current_task():
            closer.cancel()
        for session in sessions.values():
            await session.close()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._own is None:
                started: Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = Future()
                thread = threading.Thread(target=asyncio.run, args=(_own_loop(started),),
                                          name="onceonly-connectors", daemon=True)
                thread.start()
                self._own = (*started.result(), thread)
            loop = self._own[0]
        return asyncio.run_coroutine_threadsafe(work, loop).result()

    async def aclose(self) -> None:
        """Close the pools of the running loop (before the loop itself ends)."""
        await self._close_loop(asyncio.get_running_loop())

    def close(self) -> None:
        """Close the pools of every loop still running elsewhere, and end the connectors'
        own loop (asyncio.run closes its pools as it ends)."""
        for loop in list(self._loops):
            if loop.is_running() and not _running_here(loop):
                asyncio.run_coroutine_threadsafe(self._close_loop(loop), loop).result(5)
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            loop, stop, thread = own
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)


async def _own_loop(started: Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]]) -> None:
    """The connectors' own loop: serves the synchronous port until told to stop."""
    stop = asyncio.Event()
    started.set_result((asyncio.get_running_loop(), stop))
    await stop.wait()


def _running_here(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
