"""Waking delivery workers in this process when a report has queued deliveries (the
services' Doorbell port): a worker on a thread of its own (`onceonly demo`, a worker beside
the API in one process) claims them at once instead of at its next poll of the outbox. On
SQLite a worker in another process is not rung and polls as before; on PostgreSQL the
doorbell (adapters/db/doorbell.py) rings these and, through NOTIFY, other processes too."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class InProcessDoorbell:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: set[_Listener] = set()

    def ring(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.rung()

    def listen(self) -> _Listener:
        listener = _Listener(self, asyncio.get_running_loop())
        with self._lock:
            self._listeners.add(listener)
        return listener

    def _forget(self, listener: _Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)


class _Listener:
    def __init__(self, doorbell: InProcessDoorbell, loop: asyncio.AbstractEventLoop) -> None:
        self._doorbell = doorbell
        self._loop = loop
        self._event = asyncio.Event()

    def rung(self) -> None:  # from any thread
        with contextlib.suppress(RuntimeError):  # its loop has closed: nobody to wake
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)
        rung = self._event.is_set()
        self._event.clear()
        return rung

    def close(self) -> None:
        self._doorbell._forget(self)
