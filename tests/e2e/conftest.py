"""A real server on a real socket, over the demo world, on SQLite and on PostgreSQL.

Building a world takes a couple of seconds, so one world and one server per backend are
shared by a whole test module. Tests keep out of each other's way: those that change an
agreement's state draft agreements of their own, and those that move the clock put it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World, build_world
from onceonly.domain.organisations import Principal
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from tests.conftest import WORLD_PEOPLE
from tests.support.postgres import fresh_schema


@dataclass
class Api:
    """A client of a running server, and what stands behind it."""

    client: httpx.Client
    world: World
    exchange: Exchange
    clock: MovableClock
    base_url: str

    def auth(self, label: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.token(label)}"}

    def principal(self, label: str) -> Principal:
        return next(a.principal for a in self.world.accounts if a.label == label)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_db_url(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for one test module: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'exchange.sqlite'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture(scope="module")
def api(module_db_url: str) -> Iterator[Api]:
    """The demo world served by the real API on a loopback port; yields a client for it."""
    clock = MovableClock()
    exchange = bootstrap(module_db_url, clock=clock)
    upgrade(exchange.engine)
    world = build_world(exchange, module_db_url, people=WORLD_PEOPLE)
    with running(create_app(exchange)) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        yield Api(client, world, exchange, clock, base)
    exchange.close()
