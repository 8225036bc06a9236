"""Revocation and suspension take effect on every server process at once.

Real `onceonly serve` processes (separate interpreters, no shared memory) share one
database: a guardian's decision made through one process refuses the very next query
through another. PostgreSQL (the production shape) and SQLite (one file, two processes).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from onceonly.bootstrap import bootstrap
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.demo.seed import World, build_world
from tests.support.postgres import fresh_schema
from tests.support.servers import Server, start_server, stop, wait_healthy

PEOPLE = 60


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Callable[..., list[Server]]]:
    started: list[Server] = []

    def launch(db_url: str, count: int, *extra: str) -> list[Server]:
        new = [start_server(db_url, tmp_path / f"server-{len(started) + i}.log", *extra)
               for i in range(count)]
        started.extend(new)
        for server in new:
            wait_healthy(server)
        return new

    try:
        yield launch
    finally:
        for server in started:
            stop(server)


@pytest.fixture(scope="module")
def pg_world(postgres_server: str) -> Iterator[tuple[str, World]]:
    """One demo world in a fresh schema, shared by the module's PostgreSQL tests."""
    with fresh_schema(postgres_server) as url:
        exchange = bootstrap(url)
        try:
            world = build_world(exchange, url, people=PEOPLE)
        finally:
            exchange.close()
        yield url, world


@pytest.fixture(scope="module")
def pg_servers(pg_world: tuple[str, World], tmp_path_factory) -> Iterator[list[Server]]:
    """Two server processes on the module's PostgreSQL world."""
    url, _ = pg_world
    folder = tmp_path_factory.mktemp("pg-servers")
    pair = [start_server(url, folder / f"server-{i}.log") for i in range(2)]
    try:
        for server in pair:
            wait_healthy(server)
        yield pair
    finally:
        for server in pair:
            stop(server)


def sqlite_world(tmp_path: Path) -> tuple[str, World]:
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    exchange = bootstrap(url)
    try:
        return url, build_world(exchange, url, people=PEOPLE)
    finally:
        exchange.close()


def client(server: Server, world: World, label: str) -> OnceonlyClient:
    return OnceonlyClient(server.base_url, token=world.token(label))


def ask_income_band(dwp: OnceonlyClient, world: World):
    return dwp.query(1, "nino", world.citizen_ids["nino"], ["income_band"],
                     "benefit-entitlement")


def ask_universal_credit(council: OnceonlyClient, world: World):
    return council.query(2, "nino", world.citizen_ids["nino"], ["receives_universal_credit"],
                         "council-tax-reduction")


def refused(action) -> ExchangeError:
    with pytest.raises(ExchangeError) as refusal:
        action()
    return refusal.value


def assert_revocation_crosses_processes(a: Server, b: Server, world: World) -> None:
    dwp = client(a, world, "officer:GOV/DWP")
    hmrc_guardian = client(b, world, "guardian:GOV/HMRC")
    try:
        permitted = ask_income_band(dwp, world)
        assert set(permitted.data) == {"income_band"}

        moved = hmrc_guardian.transition(1, "revoke", "contract ended: revoke on every process")
        assert moved["status"] == "revoked"

        refusal = refused(lambda: ask_income_band(dwp, world))
        assert (refusal.status, refusal.code) == (403, "agreement_not_active")
        assert "revoked" in refusal.detail
        # Process A also reads the revoked state when asked directly.
        assert dwp.with_token(world.token("guardian:GOV/HMRC")).agreement(1)["status"] \
            == "revoked"
    finally:
        dwp.close()
        hmrc_guardian.close()


def test_revocation_through_one_process_refuses_the_next_query_on_another_postgres(
        pg_world, pg_servers):
    _, world = pg_world
    a, b = pg_servers
    assert_revocation_crosses_processes(a, b, world)


def test_suspension_and_resumption_cross_processes_postgres(pg_world, pg_servers):
    _, world = pg_world
    a, b = pg_servers
    council = client(a, world, "officer:LA/NORTHSHIRE")
    dwp_guardian = client(b, world, "guardian:GOV/DWP")
    try:
        assert set(ask_universal_credit(council, world).data) == {"receives_universal_credit"}

        assert dwp_guardian.transition(2, "suspend", "anomaly under review")["status"] \
            == "suspended"
        refusal = refused(lambda: ask_universal_credit(council, world))
        assert (refusal.status, refusal.code) == (403, "agreement_not_active")
        assert "suspended" in refusal.detail

        assert dwp_guardian.transition(2, "resume", "anomaly explained")["status"] == "approved"
        assert set(ask_universal_credit(council, world).data) == {"receives_universal_credit"}
    finally:
        council.close()
        dwp_guardian.close()


def test_revocation_crosses_processes_on_one_sqlite_file(tmp_path, servers):
    url, world = sqlite_world(tmp_path)
    a, b = servers(url, 2)
    assert_revocation_crosses_processes(a, b, world)


def test_serve_with_two_workers_answers_and_shares_decisions(tmp_path, servers):
    url, world = sqlite_world(tmp_path)
    (server,) = servers(url, 1, "--workers", "2")
    dwp = client(server, world, "officer:GOV/DWP")
    try:
        # Several connections, so both workers are likely to serve some; every one answers.
        for _ in range(6):
            with httpx.Client(base_url=server.base_url) as fresh:
                assert fresh.get("/healthz").json() == {"status": "ok"}
        assert set(ask_income_band(dwp, world).data) == {"income_band"}
        guardian = client(server, world, "guardian:GOV/HMRC")
        try:
            guardian.transition(1, "revoke", "workers share the database")
        finally:
            guardian.close()
        for _ in range(4):
            with httpx.Client(base_url=server.base_url) as fresh:
                answer = fresh.post("/v1/queries", headers={
                    "Authorization": f"Bearer {world.token('officer:GOV/DWP')}"}, json={
                    "agreement_id": 1,
                    "subject": {"scheme": "nino", "value": world.citizen_ids["nino"]},
                    "fields": ["income_band"], "purpose": "benefit-entitlement"})
            assert answer.status_code == 403
            assert answer.json()["code"] == "agreement_not_active"
    finally:
        dwp.close()


def workers_of(server: Server) -> list[int]:
    """The server's worker processes (its children that uvicorn spawned)."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [pid for pid in map(int, children.read_text().split())
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


@contextmanager
def paused(pid: int) -> Iterator[None]:
    """The worker stopped, so that the other accepts every connection meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_one_scrape_of_metrics_counts_every_workers_requests(tmp_path, servers, monkeypatch):
    url, world = sqlite_world(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the server keeps its workers' metrics
    (server,) = servers(url, 1, "--workers", "2")
    first, second = workers_of(server)
    for resting in (first, second):  # ten requests served by each worker
        with paused(resting):
            for _ in range(10):
                with httpx.Client(base_url=server.base_url) as fresh:
                    assert fresh.get("/v1/catalogue").status_code == 200

    scrape = httpx.get(f"{server.base_url}/metrics",
                       headers={"Authorization": f"Bearer {world.token('manager')}"})
    assert scrape.status_code == 200, scrape.text
    families = list(text_string_to_metric_families(scrape.text))
    named = [f.name for f in families]
    assert len(named) == len(set(named)), named  # each collector once
    requests = next(f for f in families if f.name == "onceonly_http_requests")
    assert sum(s.value for s in requests.samples if s.name == "onceonly_http_requests_total"
               and s.labels["route"] == "/v1/catalogue") == 20
    for name in ("process_resident_memory_bytes", "python_info",
                 "onceonly_deliveries_last_24h", "onceonly_audit_unsigned_entries"):
        assert name in named, name
    (kept,) = tmp_path.glob("onceonly-metrics-*")
    assert len(list(kept.glob("counter_*.db"))) == 2

    stop(server)
    assert not list(tmp_path.glob("onceonly-metrics-*"))  # a fresh directory each start
    # Every line either worker wrote is JSON; each request has its access line.
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.strip()]
    served = [line for line in lines if line["event"] == "request"
              and line["route"] == "/v1/catalogue"]
    assert len(served) == 20 and len({line["request_id"] for line in served}) == 20
