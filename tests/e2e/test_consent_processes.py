"""A withdrawal refuses the very next query on every server process: real `onceonly serve`
processes (separate interpreters, no shared memory) on one database, PostgreSQL and SQLite.
The citizen consents and withdraws through one process; Northbank asks through the other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onceonly.bootstrap import bootstrap
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.demo.seed import World, build_world
from tests.support.postgres import fresh_schema
from tests.support.servers import Server, start_server, stop, wait_healthy

PEOPLE = 60


@pytest.fixture(params=["sqlite", "postgres"])
def two_servers(request: pytest.FixtureRequest,
                tmp_path: Path) -> Iterator[tuple[World, Server, Server]]:
    with _database(request, tmp_path) as url:
        exchange = bootstrap(url)
        try:
            world = build_world(exchange, url, people=PEOPLE)
        finally:
            exchange.close()
        pair = [start_server(url, tmp_path / f"server-{i}.log") for i in range(2)]
        try:
            for server in pair:
                wait_healthy(server)
            yield world, pair[0], pair[1]
        finally:
            for server in pair:
                stop(server)


@contextmanager
def _database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'exchange.sqlite'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as url:
        yield url


def test_a_withdrawal_through_one_process_refuses_the_next_query_on_another(two_servers):
    world, a, b = two_servers
    citizen = OnceonlyClient(a.base_url, token=world.token("citizen"))
    bank = OnceonlyClient(b.base_url, token=world.token("officer:COM/NORTHBANK"))

    def bank_asks():
        return bank.query(4, "nino", world.citizen_ids["nino"], ["income_band"],
                          "mortgage-affordability")

    try:
        until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        granted = citizen.grant_consent("mortgage-affordability", ["income_band"], until,
                                        consumer="COM/NORTHBANK")
        assert set(bank_asks().data) == {"income_band"}  # granted on A, honoured on B
        citizen.withdraw_consent(granted["consent"]["id"])
        with pytest.raises(ExchangeError) as refused:
            bank_asks()
        assert (refused.value.status, refused.value.code) == (403, "consent_missing")
    finally:
        citizen.close()
        bank.close()
