"""The nonce store of signed requests, on SQLite and PostgreSQL: a nonce is accepted once
within its window, whichever server process sees it, even when replays race."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
from sqlalchemy import Engine, func, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key
from onceonly.adapters.request_signatures import SqlNonceStore
from onceonly.bootstrap import envelopes_for
from onceonly.services.ports.request_signatures import KEY_RETIRED, NONCE_NEW, NONCE_REPLAYED

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=6)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def kids(engine: Engine) -> list[str]:
    """Two active signing keys of an organisation of the exchange's own."""
    with engine.begin() as conn:
        conn.execute(insert(t.organisations).values(id="GOV/TEST", name="Test"))
    with engine.begin() as conn:
        return [add_signing_key(conn, "GOV/TEST", NOW,
                                envelopes=envelopes_for(engine)).kid for _ in range(2)]


def nonces(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(t.request_nonces.c.nonce)).scalars().all())


def test_the_same_nonce_twice_is_a_replay(engine: Engine, kids: list[str]) -> None:
    store = SqlNonceStore(engine)
    assert store.remember(kids[0], "n", LATER, NOW) == NONCE_NEW
    assert store.remember(kids[0], "n", LATER, NOW + timedelta(seconds=1)) == NONCE_REPLAYED
    assert store.remember(kids[1], "n", LATER, NOW) == NONCE_NEW  # nonces are per key


def test_expired_nonces_are_swept_in_batches_and_taken_over_before(engine: Engine,
                                                                   kids: list[str]) -> None:
    store = SqlNonceStore(engine, sweep_every=timedelta(minutes=10))
    assert store.remember(kids[0], "old", NOW, NOW - timedelta(minutes=6)) == NONCE_NEW
    assert store.remember(kids[0], "other", NOW, NOW - timedelta(minutes=6)) == NONCE_NEW
    # Expired, and not yet swept (the last sweep was under 10 minutes ago): an expired
    # nonce is taken over, an unexpired one is still a replay.
    assert store.remember(kids[0], "old", LATER, NOW + timedelta(seconds=1)) == NONCE_NEW
    assert store.remember(kids[0], "old", LATER, NOW + timedelta(seconds=2)) == NONCE_REPLAYED
    assert nonces(engine) == ["old", "other"]
    # The next sweep is due: every expired nonce goes at once.
    assert store.remember(kids[0], "new", LATER, NOW + timedelta(minutes=5)) == NONCE_NEW
    assert nonces(engine) == ["new", "old"]


def test_a_retired_key_records_no_nonce(engine: Engine, kids: list[str]) -> None:
    store = SqlNonceStore(engine)
    with engine.begin() as conn:
        conn.execute(update(t.signing_keys).where(t.signing_keys.c.kid == kids[0])
                     .values(active=False))
    assert store.remember(kids[0], "n", LATER, NOW) == KEY_RETIRED
    assert store.remember("no-such-kid", "n", LATER, NOW) == KEY_RETIRED
    assert nonces(engine) == []


def test_of_racing_replays_exactly_one_passes(engine: Engine, db_url: str,
                                              kids: list[str]) -> None:
    # Separate engines: as separate server processes would have.
    engines = [make_engine(db_url) for _ in range(6)]
    barrier = Barrier(len(engines))

    def attempt(other: Engine) -> bool:
        barrier.wait()
        return SqlNonceStore(other).remember(kids[0], "raced", LATER, NOW) == NONCE_NEW

    try:
        with ThreadPoolExecutor(len(engines)) as pool:
            outcomes = list(pool.map(attempt, engines))
    finally:
        for other in engines:
            other.dispose()
    assert outcomes.count(True) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.request_nonces)).scalar() == 1
