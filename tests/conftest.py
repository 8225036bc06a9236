"""Shared fixtures: a real database of each kind (SQLite and PostgreSQL), a clean exchange,
and a small demo world on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World, build_world
from tests.support.postgres import NoPostgres, find_postgres

WORLD_PEOPLE = 120


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    try:
        url, throwaway = find_postgres()
    except NoPostgres as missing:
        pytest.fail(str(missing), pytrace=False)
    yield url
    if throwaway is not None:
        throwaway.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh schema of its own on the test server; dropped afterwards with its stores."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{postgres_server}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        rows = conn.execute(text(
            "SELECT nspname FROM pg_namespace WHERE nspname = :s OR nspname LIKE :p"
        ), {"s": schema, "p": f"{schema}\\_%"})
        for (name,) in rows.fetchall():
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'exchange.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


def store_prefix(url: str) -> str:
    """Provider stores live beside the exchange: on PostgreSQL in schemas named after it."""
    if "search_path" in url:
        return url.rsplit("%3D", 1)[1]
    return "store"


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def exchange(db_url: str, clock: MovableClock) -> Iterator[Exchange]:
    """An empty, migrated exchange on each backend."""
    ex = bootstrap(db_url, clock=clock)
    upgrade(ex.engine)
    yield ex
    ex.close()


@pytest.fixture
def world(exchange: Exchange, db_url: str) -> World:
    """The demo world (a small population) on each backend."""
    return build_world(exchange, db_url, people=WORLD_PEOPLE, store_prefix=store_prefix(db_url))
