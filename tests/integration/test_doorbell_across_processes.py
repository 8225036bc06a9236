"""The doorbell across processes on PostgreSQL (adapters/db/doorbell.py): a report in one
process wakes an idle `onceonly worker` in another at once, through LISTEN/NOTIFY; with its
listener's connection killed, the notification is lost and the worker still delivers at its
next poll; the listener connects again by itself and is rung again. Each worker here polls
far less often than it is seen to deliver (or, for the lost notification, hears nothing), so
only the notification (or the poll) can explain the delivery."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from onceonly.adapters.db.doorbell import CHANNEL, LISTENER_NAME, PostgresDoorbell
from onceonly.demo.stores import linked_people
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.worker import run_worker
from tests.conftest import WORLD_PEOPLE
from tests.support.loops import run_in_own_loop
from tests.support.waiting import until

LONG_POLL = 60.0  # seconds: far beyond what any delivery here is allowed


@pytest.fixture
def db_url(postgres_url: str) -> str:
    """LISTEN/NOTIFY is PostgreSQL's: SQLite rings in-process only."""
    return postgres_url


class Receiver:
    """A webhook receiver in this process: notes each notification's id, answers 204."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        self.ids.append(json.loads(body)["id"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class Transport:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, url: str, body: bytes, signature) -> str | None:
        self.sent.append(json.loads(body)["id"])
        return None


def principal(world, label):
    return next(a.principal for a in world.accounts if a.label == label)


def report_death(exchange, world, n: int) -> None:
    person = list(linked_people(exchange.engine, WORLD_PEOPLE, ("driver",)))[n]
    exchange.life_events.report(principal(world, "officer:GOV/GRO"), {
        "specversion": "1.0", "id": f"doorbell-{n}", "source": "GOV/GRO/deaths",
        "type": "gov.onceonly.death.registered", "subject": f"grn:{person.ids['grn']}",
        "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}})


def webhook_to(exchange, world, url: str) -> None:
    """Only the DVLA takes its notifications by webhook: one delivery a report."""
    exchange.life_events.set_endpoint(principal(world, "guardian:GOV/DVLA"), url)


def listener_pids(exchange) -> list[int]:
    """The backends listening on this exchange's channel (its schema's own)."""
    with exchange.engine.connect() as conn:
        channel = conn.execute(text(f"SELECT {CHANNEL}")).scalar_one()
        return list(conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
            "AND query = :listen"), {"name": LISTENER_NAME,
                                     "listen": f'LISTEN "{channel}"'}).scalars())


def kill_listeners(exchange) -> None:
    with exchange.engine.connect() as conn:
        for pid in listener_pids(exchange):
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.fixture
def worker_process(exchange, world, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`onceonly worker` in a process of its own, polling the outbox once a minute."""
    log = tmp_path / "worker.log"
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "onceonly.entrypoints.cli", "worker", "--db",
             exchange.engine.url.render_as_string(hide_password=False),
             "--poll-seconds", str(LONG_POLL)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True)
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


def wait_for(check, seconds: float, what: str) -> float:
    started = time.monotonic()
    run_in_own_loop(until(check, what, seconds))
    return time.monotonic() - started


def test_a_report_here_wakes_a_worker_process_there_at_once(exchange, world, worker_process):
    receiver = Receiver()
    with running(receiver) as url:
        webhook_to(exchange, world, f"{url}/dvla")
        wait_for(lambda: listener_pids(exchange), 30, "the worker process listening")
        report_death(exchange, world, 0)
        took = wait_for(lambda: receiver.ids, 20, "the notification delivered")
    assert took < LONG_POLL / 3  # its poll was a minute away: only the notification woke it
    assert worker_process.poll() is None


def worker_with_own_doorbell(exchange, reconnect_seconds: float):
    """The exchange's delivery service with a doorbell of its own, as another process has:
    the report's in-process ring does not reach it."""
    service = copy.copy(exchange.delivery)
    service.doorbell = PostgresDoorbell(exchange.engine, reconnect_seconds=reconnect_seconds)
    return service


def test_a_worker_whose_listener_was_killed_still_delivers_at_its_poll(exchange, world):
    webhook_to(exchange, world, "http://127.0.0.1:9/dvla")
    service, transport = worker_with_own_doorbell(exchange, reconnect_seconds=3600), Transport()

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(service, transport, stop, idle_seconds=1.0))
        await until(lambda: listener_pids(exchange), "the worker listening", 30)
        kill_listeners(exchange)
        await until(lambda: not listener_pids(exchange), "the listener gone", 30)
        await asyncio.to_thread(report_death, exchange, world, 1)  # its notification is lost
        await until(lambda: transport.sent, "the delivery made at the next poll", 20)
        assert not listener_pids(exchange)  # not heard: the poll found it
        stop.set()
        await task

    run_in_own_loop(main())


def test_a_listener_whose_connection_was_killed_connects_again_and_is_rung(exchange, world):
    webhook_to(exchange, world, "http://127.0.0.1:9/dvla")
    service, transport = worker_with_own_doorbell(exchange, reconnect_seconds=0.2), Transport()

    async def main() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(service, transport, stop,
                                              idle_seconds=LONG_POLL))
        await until(lambda: listener_pids(exchange), "the worker listening", 30)
        first = listener_pids(exchange)
        kill_listeners(exchange)
        await until(lambda: listener_pids(exchange) not in ([], first),
                    "the listener back on a new connection", 30)
        started = time.monotonic()
        await asyncio.to_thread(report_death, exchange, world, 2)
        await until(lambda: transport.sent, "the notification delivered", 20)
        stop.set()
        await task
        return time.monotonic() - started

    assert run_in_own_loop(main()) < LONG_POLL / 3
