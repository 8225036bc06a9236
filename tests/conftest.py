"""Shared fixtures: a real database of each kind (SQLite and PostgreSQL), a clean exchange,
and a small demo world on it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.kms_file import create_key_file
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World, build_world
from tests.support.postgres import NoPostgres, find_postgres, fresh_schema

WORLD_PEOPLE = 120


@pytest.fixture(scope="session", autouse=True)
def password_sign_in() -> Iterator[None]:
    """Citizens may sign in with a password, as in the demo (off elsewhere): most tests sign
    them in so; those of the setting itself turn it off (monkeypatch.setenv)."""
    before = os.environ.get("ONCEONLY_PASSWORD_SIGN_IN")
    os.environ["ONCEONLY_PASSWORD_SIGN_IN"] = "true"
    yield
    if before is None:
        os.environ.pop("ONCEONLY_PASSWORD_SIGN_IN", None)
    else:
        os.environ["ONCEONLY_PASSWORD_SIGN_IN"] = before


@pytest.fixture(scope="session", autouse=True)
def master_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The master keys (encryption at rest) for the whole session, in a key file of its own
    named by ONCEONLY_MASTER_KEY_FILE: every process a test starts finds it whatever its
    working directory, and nothing is written into the repository's ./onceonly-data.
    Tests of the key file itself point the variable elsewhere (monkeypatch.setenv)."""
    path = tmp_path_factory.mktemp("master-keys") / "master-keys.json"
    create_key_file(path)
    before = os.environ.get("ONCEONLY_MASTER_KEY_FILE")
    os.environ["ONCEONLY_MASTER_KEY_FILE"] = str(path)
    yield str(path)
    if before is None:
        os.environ.pop("ONCEONLY_MASTER_KEY_FILE", None)
    else:
        os.environ["ONCEONLY_MASTER_KEY_FILE"] = before


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
    with fresh_schema(postgres_server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'exchange.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


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
    return build_world(exchange, db_url, people=WORLD_PEOPLE)
