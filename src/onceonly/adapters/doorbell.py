"""Waking delivery workers in this process when a report has queued deliveries (the
services' Doorbell port): a worker on a thread of its own (`onceonly demo`, a worker beside
the API in one process) claims them at once instead of at its next poll of the outbox. On
SQLite a worker in another process is not rung and polls as before; on PostgreSQL the
doorbell (adapters/db/doorbell.py) rings these and, through NOTIFY, other processes too.
It also carries deliveries claimed at a report's intake to one of this process's workers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Sequence

from onceonly.services.ports.delivery import Opened


class InProcessDoorbell:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: set[_Listener] = set()

    def ring(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.rung()

    def has_worker(self) -> bool:
        with self._lock:
            return bool(self._listeners)

    def hand_over(self, batch: Sequence[Opened]) -> bool:
        with self._lock:
            listeners = sorted(self._listeners, key=lambda listener: listener.waiting)
        return any(listener.take(batch) for listener in listeners)  # the least busy first

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
        self._rung = False
        self._handed: deque[Opened] = deque()

    @property
    def waiting(self) -> int:
        return len(self._handed)

    def rung(self) -> None:  # from any thread
        with contextlib.suppress(RuntimeError):  # its loop has closed: nobody to wake
            self._loop.call_soon_threadsafe(self._ring)

    def take(self, batch: Sequence[Opened]) -> bool:  # from any thread
        self._handed.extend(batch)  # before the wake-up: the woken worker finds them
        try:
            self._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # its loop has closed: its worker is gone with them
            return False
        return True

    def _ring(self) -> None:
        self._rung = True
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        if not self._handed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), seconds)
        rung, self._rung = self._rung, False
        self._event.clear()
        return rung

    def handed(self) -> list[Opened]:
        taken = []
        while self._handed:
            taken.append(self._handed.popleft())
        return taken

    def close(self) -> None:
        self._doorbell._forget(self)
