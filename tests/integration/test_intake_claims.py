"""Deliveries claimed at their report's intake (services/intake_claims.py), on SQLite and
PostgreSQL: with a worker of the process listening, a report's webhook deliveries are written
already claimed and handed to it, sent at once and written once; without one they wait in
the outbox unclaimed. A process that dies after its report committed and before sending
leaves leased claims that no other worker takes until the lease ends, and each is then
delivered once (a real subprocess, SIGKILLed)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.adapters.webhooks import AiohttpTransport
from onceonly.demo.stores import linked_people
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.worker import run_worker
from tests.conftest import WORLD_PEOPLE
from tests.integration.test_doorbell_across_processes import (
    LONG_POLL,
    Receiver,
    principal,
    webhook_to,
)
from tests.support.loops import run_in_own_loop
from tests.support.waiting import until

LEASE_SECONDS = 3

# Another exchange process: a worker's ear listening (so the intake claims for it), a death
# reported, the webhook deliveries' ids printed, and then nothing sent until it is killed.
REPORTER = '''
import asyncio, json, sys
from onceonly.bootstrap import bootstrap

exchange = bootstrap(sys.argv[1])
with exchange.uows() as uow:
    registrar = uow.principals.get(sys.argv[2])

async def main():
    ear = exchange.delivery.doorbell.listen()  # a worker's, which dies before it sends
    status = await asyncio.to_thread(exchange.life_events.report, registrar, json.loads(
        sys.argv[3]))
    print(json.dumps([d.id for d in status.deliveries if d.mode == "webhook"]), flush=True)
    await asyncio.sleep(3600)
    ear.close()

asyncio.run(main())
'''


def death(exchange, n: int) -> dict:
    person = list(linked_people(exchange.engine, WORLD_PEOPLE, ("driver",)))[n]
    return {"specversion": "1.0", "id": f"intake-{n}", "source": "GOV/GRO/deaths",
            "type": "gov.onceonly.death.registered", "subject": f"grn:{person.ids['grn']}",
            "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}}


def rows(exchange, ids: list[str]) -> list[tuple]:
    d = t.deliveries
    with exchange.engine.connect() as conn:
        return list(conn.execute(select(d.c.status, d.c.attempts, d.c.claim_token)
                                 .where(d.c.id.in_(ids)).order_by(d.c.id)))


def test_a_report_is_claimed_at_intake_for_this_process_worker_and_sent_at_once(exchange,
                                                                                  world):
    receiver = Receiver()
    registrar = principal(world, "officer:GOV/GRO")
    with running(receiver) as url:
        webhook_to(exchange, world, f"{url}/dvla")  # the DVLA alone takes webhooks

        async def main() -> tuple[list[str], float]:
            stop, transport = asyncio.Event(), AiohttpTransport()
            # It polls once a minute: only the hand-over can explain a delivery within it.
            task = asyncio.create_task(run_worker(exchange.delivery, transport, stop,
                                                  idle_seconds=LONG_POLL))
            await until(lambda: exchange.delivery.doorbell.has_worker(), "listening", 10)
            started = time.monotonic()
            status = await asyncio.to_thread(exchange.life_events.report, registrar,
                                             death(exchange, 0))
            webhooks = [d for d in status.deliveries if d.mode == "webhook"]
            assert [(d.receiver_id, d.attempts) for d in webhooks] == [("GOV/DVLA", 1)]
            await until(lambda: receiver.ids, "the notification delivered", 20)
            took = time.monotonic() - started
            await asyncio.sleep(0.2)  # its outcome written
            stop.set()
            await task
            await transport.close()
            return [d.id for d in webhooks], took

        ids, took = run_in_own_loop(main())
    assert took < LONG_POLL / 3
    assert receiver.ids == ids  # once
    assert [(status, attempts) for status, attempts, _ in rows(exchange, ids)] == [
        ("delivered", 1)]


def test_without_a_worker_in_this_process_a_report_waits_in_the_outbox_unclaimed(exchange,
                                                                                   world):
    webhook_to(exchange, world, "http://127.0.0.1:9/dvla")
    status = exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                         death(exchange, 1))
    ids = [d.id for d in status.deliveries if d.mode == "webhook"]
    assert rows(exchange, ids) == [("pending", 0, None)]


def test_claimed_at_intake_by_a_process_killed_before_sending_is_delivered_once_after_lease(
        exchange, world, db_url):
    receiver = Receiver()
    with running(receiver) as url:
        webhook_to(exchange, world, f"{url}/dvla")
        reporter = subprocess.Popen(
            [sys.executable, "-c", REPORTER, db_url,
             principal(world, "officer:GOV/GRO").id, json.dumps(death(exchange, 2))],
            stdout=subprocess.PIPE, env={**os.environ,
                                         "ONCEONLY_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS)},
            start_new_session=True)
        try:
            assert reporter.stdout is not None
            ids = json.loads(reporter.stdout.readline())
            assert len(ids) == 1
            [(status, attempts, token)] = rows(exchange, ids)
            assert (status, attempts) == ("pending", 1) and token  # claimed, by that process

            async def main() -> None:
                stop, transport = asyncio.Event(), AiohttpTransport()
                # A worker of this process, polling often: the other's claim hides it.
                task = asyncio.create_task(run_worker(exchange.delivery, transport, stop,
                                                      idle_seconds=0.05))
                await asyncio.sleep(LEASE_SECONDS / 3)
                assert receiver.ids == []
                os.kill(reporter.pid, signal.SIGKILL)  # dies with its claim unsent
                await asyncio.to_thread(reporter.wait, 10)
                await until(lambda: receiver.ids, "taken again once the lease ended",
                            LEASE_SECONDS * 10)
                await asyncio.sleep(0.5)  # anything sent twice would have arrived
                stop.set()
                await task
                await transport.close()

            run_in_own_loop(main())
        finally:
            if reporter.poll() is None:
                reporter.kill()
            reporter.wait(10)
    assert receiver.ids == ids  # once
    assert [(status, attempts) for status, attempts, _ in rows(exchange, ids)] == [
        ("delivered", 2)]
