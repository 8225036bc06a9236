"""The queue this process's writers to a SQLite database wait in.

SQLite lets one writer in at a time, and a writer that finds the lock taken sleeps and
polls (1, 2, 5, ... up to 100 ms a nap), so under load writers queue slowly and unfairly.
Writers in one process queue on a lock instead and are woken as soon as the one before
them is done; between processes SQLite's own lock and busy timeout still decide."""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Engine

_SQLITE_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
WRITER_QUEUE_TIMEOUT = 30  # seconds, as the SQLite busy timeout


def queue_writers(engine: Engine) -> None:
    """Give a SQLite engine its writer queue (engine.make_engine, once per engine)."""
    _SQLITE_WRITERS[engine] = threading.Lock()


def join_writer_queue(engine: Engine) -> threading.Lock | None:
    """The engine's writer queue, its turn taken: the caller releases it once its write
    transaction ends. None for PostgreSQL, and when the wait outlasted the busy timeout:
    past it, SQLite's own lock decides."""
    queue = _SQLITE_WRITERS.get(engine)
    if queue is not None and queue.acquire(timeout=WRITER_QUEUE_TIMEOUT):
        return queue
    return None
