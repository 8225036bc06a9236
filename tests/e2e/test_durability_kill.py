"""Durability under a crash: `onceonly serve` is SIGKILLed while several clients ask governed
queries, then started again on the same database, a few times over. Every release a client
received (signed by its provider, checked) must have its audit entry, naming the same release
and the same values hash, and `onceonly audit verify` must pass over what the crashes left.
SQLite (with its group commit) and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.audit.entries import AuditRecord
from onceonly.bootstrap import bootstrap
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.crypto.canonical import sha256_hex
from onceonly.demo.seed import build_world
from onceonly.domain.anomaly import DEFAULT_RULES
from tests.support.postgres import fresh_schema
from tests.support.servers import Server, start_server, stop, wait_healthy

PEOPLE = 40
CLIENTS = 6
KILLS = 3
ANSWERS_BEFORE_KILL = 30  # each round: load is well under way when the kill comes
LOAD_TIMEOUT = 60.0  # seconds a round may take to reach them, on a loaded machine
AGREEMENT = 1  # DWP asks HMRC for income_band


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'exchange.sqlite'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as url:
        yield url


def test_every_answer_received_before_a_kill_9_has_its_audit_entry(database_url, tmp_path):
    token, ninos = _demo_world(database_url)
    received: dict[str, dict] = {}
    for crash in range(KILLS):
        server = start_server(database_url, tmp_path / f"server-{crash}.log")
        try:
            wait_healthy(server)
            answers = _load_then_kill(server, token, ninos)
        finally:
            stop(server)
        assert len(answers) >= ANSWERS_BEFORE_KILL, server.log_text()
        received.update(answers)

    entries = _release_entries(database_url)
    missing = sorted(set(received) - set(entries))
    assert not missing, f"{len(missing)} of {len(received)} answers have no audit entry"
    for release_id, data in received.items():
        assert entries[release_id] == sha256_hex({"release_id": release_id, "data": data})
    verified = subprocess.run(
        [sys.executable, "-m", "onceonly.entrypoints.cli", "audit", "verify",
         "--db", database_url], capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _demo_world(url: str) -> tuple[str, list[str]]:
    """The demo world, its anomaly thresholds raised above what the load asks (a burst of
    queries at any hour would otherwise, rightly, suspend the agreement mid-test)."""
    exchange = bootstrap(url)
    try:
        world = build_world(exchange, url, people=PEOPLE)
        for kind, default in DEFAULT_RULES.items():
            exchange.anomaly.set_rule("GOV/DWP", None, kind.value, 10**9,
                                      int(default.window.total_seconds()))
        with exchange.engine.connect() as conn:
            ninos = conn.execute(select(t.person_links.c.value)
                                 .where(t.person_links.c.scheme == "nino")).scalars().all()
    finally:
        exchange.close()
    return world.token("officer:GOV/DWP"), sorted(ninos)


def _load_then_kill(server: Server, token: str, ninos: list[str]) -> dict[str, dict]:
    """CLIENTS clients ask governed queries until the server is SIGKILLed mid-load; returns
    every release that arrived whole and verified: its id and its data."""
    answers: dict[str, dict] = {}
    lock = threading.Lock()
    killed = threading.Event()
    errors: list[BaseException] = []

    def ask(number: int) -> None:
        client = OnceonlyClient(server.base_url, token=token, retries=0)
        try:
            for i in range(number, 10**6, CLIENTS):
                if killed.is_set():
                    return
                release = client.query(AGREEMENT, "nino", ninos[i % len(ninos)],
                                       ["income_band"], "benefit-entitlement")
                with lock:
                    answers[release.release_id] = release.data
        except (httpx.TransportError, ExchangeError) as failure:
            if not killed.is_set():  # before the kill, every query must be answered
                errors.append(failure)
        finally:
            client.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + LOAD_TIMEOUT
    while len(answers) < ANSWERS_BEFORE_KILL and not errors and time.monotonic() < deadline:
        time.sleep(0.01)
    # The whole process group: the server and any workers of its own, as a crash would.
    os.killpg(server.process.pid, signal.SIGKILL)
    killed.set()
    server.process.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, f"a query failed before the kill: {errors[0]!r}"
    with lock:
        return dict(answers)


def _release_entries(url: str) -> dict[str, str]:
    """Each release's audit entry in the log: release id to values hash."""
    exchange = bootstrap(url)
    try:
        with exchange.uows() as uow:
            size = uow.audit.size() or 0
            records = uow.audit.entries(0, size)
    finally:
        exchange.close()
    return {r.entry.detail["release_id"]: r.entry.values_hash for r in records
            if isinstance(r, AuditRecord) and r.entry.action == "query.release"}
