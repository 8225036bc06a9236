"""Use limits hold exactly under concurrent load on PostgreSQL with several server
processes: a limit of N permits exactly N, however the requests race."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World, build_world
from onceonly.domain.anomaly import DEFAULT_RULES
from tests.integration.test_use_limits import limited_agreement, ninos
from tests.support.postgres import fresh_schema
from tests.support.servers import Server, start_server, stop, wait_healthy

CONCURRENCY = 50
# Each server's connections to the database, so that the three of them, their workers'
# listeners and the rest of the suite's stay below PostgreSQL's max_connections (100):
# at the default 30 a server, a full race could ask for more, and be refused 503.
CONNECTIONS = {"ONCEONLY_DATABASE_CONNECTIONS": "20"}


@pytest.fixture(scope="module")
def loaded(postgres_server: str, tmp_path_factory) -> Iterator[tuple[Exchange, World,
                                                                     list[Server]]]:
    """A demo world on PostgreSQL served by three `onceonly serve` processes."""
    folder: Path = tmp_path_factory.mktemp("limits")
    with fresh_schema(postgres_server) as url:
        exchange = bootstrap(url)
        world = build_world(exchange, url, people=80)
        # The limits are under test here, not the anomaly rules: a limit's refusals by the
        # hundred would otherwise (rightly) look like a storm and suspend the officer.
        for kind, default in DEFAULT_RULES.items():
            exchange.anomaly.set_rule("GOV/DWP", None, kind.value, 10**9,
                                        int(default.window.total_seconds()))
        servers = [start_server(url, folder / f"server-{i}.log", env=CONNECTIONS)
                   for i in range(3)]
        try:
            for server in servers:
                wait_healthy(server)
            yield exchange, world, servers
        finally:
            for server in servers:
                stop(server)
            exchange.close()


def race(servers: list[Server], world: World, agreement: int, subjects: list[str]) -> Counter:
    """One request per subject, CONCURRENCY at a time, spread over the servers; the count of
    each (status, code) answered."""
    headers = {"Authorization": f"Bearer {world.token('officer:GOV/DWP')}"}
    limits = httpx.Limits(max_connections=CONCURRENCY)
    with httpx.Client(timeout=60, limits=limits) as client:
        def ask(numbered: tuple[int, str]) -> tuple[int, str]:
            n, nino = numbered
            response = client.post(f"{servers[n % len(servers)].base_url}/v1/queries",
                                   headers=headers, json={
                                       "agreement_id": agreement,
                                       "subject": {"scheme": "nino", "value": nino},
                                       "fields": ["income_band"],
                                       "purpose": "benefit-entitlement"})
            return response.status_code, response.json().get("code", "")

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            return Counter(pool.map(ask, enumerate(subjects)))


def released(exchange: Exchange, agreement: int) -> int:
    with exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.agreement_id == agreement,
            t.audit_log.c.action == "query.release")).scalar_one()


def test_a_daily_limit_of_100_permits_exactly_100(loaded):
    exchange, world, servers = loaded
    agreement = limited_agreement(exchange, world, per_day=100)
    nino = ninos(exchange, 1)[0]

    answers = race(servers, world, agreement, [nino] * 150)

    assert answers == {(200, ""): 100, (429, "quota_exceeded"): 50}
    assert released(exchange, agreement) == 100
    with exchange.engine.connect() as conn:
        assert conn.execute(select(t.query_usage.c.count).where(
            t.query_usage.c.agreement_id == agreement)).scalar_one() == 100


def test_a_use_count_of_20_permits_exactly_20(loaded):
    exchange, world, servers = loaded
    agreement = limited_agreement(exchange, world, max_uses=20)

    answers = race(servers, world, agreement, ninos(exchange, 1) * 80)

    assert answers == {(200, ""): 20, (429, "uses_exhausted"): 60}
    assert released(exchange, agreement) == 20


def test_ten_people_a_day_permits_exactly_ten_people(loaded):
    exchange, world, servers = loaded
    agreement = limited_agreement(exchange, world, max_persons_per_day=10)
    people = ninos(exchange, 40)

    answers = race(servers, world, agreement, people)

    assert answers == {(200, ""): 10, (429, "person_limit_reached"): 30}
    with exchange.engine.connect() as conn:
        noted = conn.execute(select(func.count()).select_from(t.person_usage).where(
            t.person_usage.c.agreement_id == agreement)).scalar_one()
    assert noted == 10


def test_every_limit_at_once_counts_exactly_and_appends_densely(loaded):
    """Queries a day, people a day and a use count on one agreement, raced: the known
    people are served until the uses run out, new people are refused, and every count,
    note and audit entry matches the releases, with no gap in the log's indexes."""
    exchange, world, servers = loaded
    agreement = limited_agreement(exchange, world, per_day=1000, max_persons_per_day=8,
                                  max_uses=28)
    people = ninos(exchange, 40)
    known, strangers = people[:8], people[8:33]
    race(servers, world, agreement, known)  # 8 uses and the day's 8 people taken

    answers = race(servers, world, agreement, [known[n % 8] for n in range(25)] + strangers)

    assert answers[(200, "")] == 20
    assert answers[(429, "uses_exhausted")] + answers[(429, "person_limit_reached")] == 30
    with exchange.engine.connect() as conn:
        count, persons = conn.execute(select(t.query_usage.c.count, t.query_usage.c.persons)
                                      .where(t.query_usage.c.agreement_id == agreement)).one()
        uses = conn.execute(select(t.agreement_uses.c.uses)
                            .where(t.agreement_uses.c.agreement_id == agreement)).scalar_one()
        noted = conn.execute(select(t.person_usage.c.person_key)
                             .where(t.person_usage.c.agreement_id == agreement)).scalars().all()
        notes = conn.execute(select(func.count()).select_from(t.activity).where(
            t.activity.c.agreement_id == agreement, t.activity.c.refused.is_(False))
        ).scalar_one()
        seqs = conn.execute(select(t.audit_log.c.seq).order_by(t.audit_log.c.seq)).scalars().all()
        entries = conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.agreement_id == agreement,
            t.audit_log.c.reason.in_(("uses_exhausted", "person_limit_reached")))).scalar_one()
    assert (count, uses, persons, notes, released(exchange, agreement)) == (28, 28, 8, 28, 28)
    assert len(noted) == 8  # no refused stranger was noted
    assert entries == 30  # every refusal audited
    assert seqs == list(range(len(seqs)))
