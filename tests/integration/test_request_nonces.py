"""The nonce store of signed requests, on SQLite and PostgreSQL: a nonce is accepted once
within its window, whichever server process sees it, even when replays race."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
from sqlalchemy import Engine, func, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.request_nonces import SqlNonceStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=6)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_the_same_nonce_twice_is_a_replay(engine: Engine) -> None:
    store = SqlNonceStore(engine)
    assert store.remember("kid-1", "n", LATER, NOW)
    assert not store.remember("kid-1", "n", LATER, NOW + timedelta(seconds=1))
    assert store.remember("kid-2", "n", LATER, NOW)  # nonces are per key


def test_expired_nonces_are_swept(engine: Engine) -> None:
    store = SqlNonceStore(engine)
    assert store.remember("kid-1", "old", NOW, NOW - timedelta(minutes=6))
    assert store.remember("kid-1", "new", LATER, NOW + timedelta(seconds=1))
    with engine.connect() as conn:
        nonces = conn.execute(select(t.request_nonces.c.nonce)).scalars().all()
    assert nonces == ["new"]


def test_of_racing_replays_exactly_one_passes(engine: Engine, db_url: str) -> None:
    # Separate engines: as separate server processes would have.
    engines = [make_engine(db_url) for _ in range(6)]
    barrier = Barrier(len(engines))

    def attempt(other: Engine) -> bool:
        barrier.wait()
        return SqlNonceStore(other).remember("kid-1", "raced", LATER, NOW)

    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            outcomes = list(pool.map(attempt, engines))
    finally:
        for other in engines:
            other.dispose()
    assert outcomes.count(True) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.request_nonces)).scalar() == 1
