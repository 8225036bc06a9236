"""Tell us once: one death told to seven organisations end to end, sustained fan-out, and
workers killed mid fan-out.

What it measures
    1. End to end, on SQLite and PostgreSQL (the demo world of 6,000 people): from the
       registrar's `POST /v1/events` to the seventh organisation's webhook receiver having
       applied the notification to its own store (the demo receivers: the JWS checked, the
       store changed once). One report at a time, each for a different person; the
       exchange, one delivery worker and the receivers all run in this process. Peer: the
       same seven notifications signed and POSTed straight to the same receivers by one
       client, one after another — no outbox, no database: the floor a fan-out cannot beat.
       p50 and p99 in milliseconds, and the ratio.
    2. Sustained fan-out on PostgreSQL: deaths reported beforehand (about five webhook
       deliveries each; a fresh set of reports for each round, held back until the round
       starts), then 1, 2 and 4 `onceonly worker` processes deliver them all to a minimal
       receiver (a bare ASGI app in its own process answering 204). Deliveries per second
       from the first claim to the last delivery, with each worker taking 100 at a time.
       Peer: the workers' own HTTP client POSTing as many pre-signed bodies to the same
       receiver, 100 at a time, from one process — the HTTP path alone, with no database.
    3. Workers SIGKILLed mid fan-out, on PostgreSQL: deaths reported beforehand (about five
       webhook deliveries each), then one `onceonly worker` (100 at a time) after another,
       each killed at a random moment 0.1 to 0.6 s after its first request reached the
       receiver, until the last one, left running, has delivered everything. The receiver
       (in this process) takes 20 to 400 ms per request, as one doing work would, and
       counts every request by event id: a delivery sent again is a duplicate, one never
       delivered is lost. Peer: what was in flight at each kill — the requests the
       receiver had taken and not yet answered, and the deliveries the killed worker had
       taken and not written (what is sent again after its lease, at most).

How to run
    uv run python -m benchmarks.bench_tell_us_once            # 200 reports; 1,500 a round;
                                                              # 14 kills over 300 deaths
    uv run python -m benchmarks.bench_tell_us_once --quick    # 40; 300; 4 kills over 80
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

from benchmarks import Report, machine_header
from benchmarks.bench_http import postgres_database, sqlite_database
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.webhooks import CONTENT_TYPE, AiohttpTransport
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World, build_world
from onceonly.demo.stores import TOLD_OF_A_DEATH, connector_configs, linked_people, open_stores
from onceonly.demo.world import declared
from onceonly.domain.organisations import Principal
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.receivers import WebhookKeys, receiver_app
from onceonly.entrypoints.worker import WorkerThread

BACKENDS = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}
PEOPLE = 3000  # enough living people for the fan-out's reports
KILL_PEOPLE = 600
# About 1 in 120 people is known to all seven organisations told of a death; the same
# people are reported again (each report a new event) when there are more reports.
LATENCY_PEOPLE = 6000
DEATH_RECEIVERS = sorted({a["consumer"] for a in declared()["agreements"]
                          if a["dataset"] == "GOV/GRO/deaths"})
MINIMAL_RECEIVER = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
'''


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def death(person, event_id: str) -> dict:
    return {"specversion": "1.0", "id": event_id, "source": "GOV/GRO/deaths",
            "type": "gov.onceonly.death.registered", "subject": f"grn:{person.ids['grn']}",
            "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}}


class Arrivals:
    """ASGI wrapper noting when each report's notifications were taken (2xx) by the
    receivers, and how many were refused."""

    def __init__(self, app) -> None:
        self.app = app
        self.times: dict[str, list[float]] = defaultdict(list)
        self.bodies: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
        self.refused = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body, status = bytearray(), [0]

        async def receive_noting_body():
            message = await receive()
            body.extend(message.get("body", b""))
            return message

        async def send_noting_status(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive_noting_body, send_noting_status)
        if 200 <= status[0] < 300:
            report_id = json.loads(body).get("reportid", "")
            self.times[report_id].append(time.perf_counter())
            self.bodies[report_id].append((scope["path"], bytes(body)))
        else:
            self.refused += 1
        return None


def wait_for_arrivals(arrivals: Arrivals, report_id: str, count: int,
                      seconds: float = 60) -> float:
    deadline = time.monotonic() + seconds
    while len(arrivals.times[report_id]) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(arrivals.times[report_id])} of {count} "
                               f"notifications arrived ({arrivals.refused} refused)")
        time.sleep(0.0005)
    return max(arrivals.times[report_id])


def wait_for_outcomes(exchange: Exchange, report_id: str, count: int,
                      seconds: float = 60) -> None:
    deliveries = t.deliveries
    deadline = time.monotonic() + seconds
    while True:
        with exchange.engine.connect() as conn:
            written = conn.execute(select(func.count()).select_from(deliveries).where(
                deliveries.c.report_id == report_id,
                deliveries.c.status == "delivered")).scalar_one()
        if written >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {written} of {count} outcomes written")
        time.sleep(0.001)


def receivers_listening(exchange: Exchange, world: World, base: str, stack: ExitStack
                        ) -> tuple[Arrivals, str]:
    """The seven receivers of a death (the demo's, over their own stores) serving in this
    process and subscribed, and a delivery worker of the exchange's process started: what
    arrives, and the receivers' address."""
    stores = open_stores(connector_configs(exchange.engine), stack)
    arrivals = Arrivals(receiver_app(stores, WebhookKeys(base)))
    receivers = stack.enter_context(running(arrivals))
    guardians = {a.label: a.principal for a in world.accounts}
    for org in DEATH_RECEIVERS:
        exchange.life_events.set_endpoint(guardians[f"guardian:{org}"],
                                          f"{receivers}/receivers/{org}")
    worker = WorkerThread(exchange.delivery).start()
    stack.callback(worker.stop)
    return arrivals, receivers


def end_to_end(report: Report, backend: str, reports: int, population: int) -> None:
    with BACKENDS[backend]() as (url, _prefix), ExitStack() as stack:
        exchange = bootstrap(url)
        stack.callback(exchange.close)
        upgrade(exchange.engine)
        world = build_world(exchange, url, people=population)
        people = itertools.cycle(list(linked_people(exchange.engine, population,
                                                    TOLD_OF_A_DEATH)))
        base = stack.enter_context(running(create_app(exchange)))
        arrivals, receivers = receivers_listening(exchange, world, base, stack)
        client = stack.enter_context(httpx.Client(base_url=base, timeout=30, headers={
            "Authorization": f"Bearer {world.token('officer:GOV/GRO')}"}))
        direct = stack.enter_context(httpx.Client(timeout=30))

        ours, floor = [], []
        for n in range(reports + 3):  # the first three warm up
            person = next(people)
            start = time.perf_counter()
            answer = client.post("/v1/events", json=death(person, f"bench-{n}"))
            assert answer.status_code == 202, answer.text
            done = wait_for_arrivals(arrivals, answer.json()["report_id"], 7)
            ours.append((done - start) * 1000)
            # Its outcomes written before the peer starts: no write of the report's runs
            # during the peer's sends (they would slow the peer and flatter the ratio).
            wait_for_outcomes(exchange, answer.json()["report_id"], 7)
            # The peer: the same seven notifications, straight to the receivers.
            notes = _again(arrivals.bodies[answer.json()["report_id"]])
            start = time.perf_counter()
            for i, (path, body) in enumerate(notes):
                signed = exchange.key_store.sign_webhook_for("GOV/EXCHANGE", f"peer-{n}-{i}",
                                                        exchange.clock.now(), body)
                direct.post(f"{receivers}{path}", content=body, headers={
                    "Content-Type": CONTENT_TYPE, **signed.headers()}).raise_for_status()
            floor.append((time.perf_counter() - start) * 1000)
        ours, floor = ours[3:], floor[3:]
        report(f"{backend:<10} one death -> 7 organisations, {reports} reports:  "
               f"p50 {statistics.median(ours):6.1f} ms  p99 {percentile(ours, 0.99):6.1f} ms"
               f"   | straight to the receivers: p50 {statistics.median(floor):5.1f} ms  "
               f"p99 {percentile(floor, 0.99):5.1f} ms   ratio p50 "
               f"{statistics.median(ours) / statistics.median(floor):.2f}x  p99 "
               f"{percentile(ours, 0.99) / percentile(floor, 0.99):.2f}x"
               f"   ({arrivals.refused} receipts refused and retried)")


def _again(sent: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The notifications as the receivers took them, each with a fresh id (so they are
    applied again) and no report id (so they are not counted as the exchange's)."""
    out = []
    for path, body in sent:
        note = json.loads(body)
        note["id"], note["reportid"] = str(uuid.uuid4()), "peer"
        out.append((path, json.dumps(note).encode()))
    return out


@contextmanager
def minimal_receiver() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="onceonly-receiver-"))
    (folder / "minimal_receiver.py").write_text(MINIMAL_RECEIVER)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "minimal_receiver:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=folder, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(base, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def told_of_deaths(url: str, people: int, receiver: str) -> Iterator[tuple[Exchange, Principal]]:
    """A migrated exchange with the demo world of `people`, each organisation told of deaths
    sending to `receiver`/<organisation>; yields it and the registrar."""
    exchange = bootstrap(url)
    try:
        upgrade(exchange.engine)
        world: World = build_world(exchange, url, people=people)
        principals = {a.label: a.principal for a in world.accounts}
        for org in DEATH_RECEIVERS:
            exchange.life_events.set_endpoint(principals[f"guardian:{org}"],
                                              f"{receiver}/{org}")
        yield exchange, principals["officer:GOV/GRO"]
    finally:
        exchange.close()


def fan_out(report: Report, reports: int, batch: int = 100) -> None:
    with postgres_database() as (url, _prefix), minimal_receiver() as receiver, \
            told_of_deaths(url, PEOPLE, receiver) as (exchange, registrar):
        living = list(linked_people(exchange.engine, PEOPLE))
        rounds = (1, 2, 4)
        # Every round's reports first, held back; each round then releases its own.
        batches = [[exchange.life_events.report(registrar, death(person, f"fan-{r}-{n}")
                                                ).report.id
                    for n, person in zip(range(reports), itertools.cycle(living))]
                   for r in rounds]
        held = exchange.clock.now() + timedelta(days=1)
        with exchange.engine.begin() as conn:
            conn.execute(update(t.deliveries).values(next_attempt_at=held))
            total = conn.execute(select(func.count()).select_from(t.deliveries).where(
                t.deliveries.c.report_id.in_(batches[0]))).scalar_one()
        report(f"PostgreSQL fan-out: {reports} deaths reported per round, {total} webhook "
               "deliveries")

        peer = _peer_rate(exchange, receiver, total, batch)
        for workers, report_ids in zip(rounds, batches, strict=True):
            with exchange.engine.begin() as conn:
                conn.execute(update(t.deliveries).where(t.deliveries.c.report_id.in_(
                    report_ids)).values(next_attempt_at=exchange.clock.now()))
            rate, delivered = _workers_rate(exchange, url, report_ids, workers, batch)
            report(f"  {workers} worker{'s' if workers > 1 else ' '}: {rate:7.0f} deliveries/s "
                   f"({delivered})   | one client straight to the receiver: {peer:7.0f} "
                   f"requests/s   ratio {rate / peer:.2f}")


def _workers_rate(exchange: Exchange, url: str, report_ids: list[str], workers: int,
                  batch: int) -> tuple[float, int]:
    processes = [start_worker(url, batch) for _ in range(workers)]
    mine = t.deliveries.c.report_id.in_(report_ids)
    try:
        start = None
        deadline = time.monotonic() + 600
        while True:
            with exchange.engine.connect() as conn:
                total, attempted, delivered = conn.execute(select(
                    func.count(), func.count().filter(t.deliveries.c.attempts > 0),
                    func.count().filter(t.deliveries.c.status == "delivered")
                ).where(mine)).one()
            now = time.perf_counter()
            if start is None and attempted:
                start = now
            if delivered == total:
                return total / (now - (start or now) or 1e-9), delivered
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"{delivered} of {total} delivered; a worker stopped or "
                                   "10 minutes passed")
            time.sleep(0.02)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(30)


def start_worker(url: str, batch: int, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "onceonly.entrypoints.cli", "worker", "--db", url,
         "--batch", str(batch)], env={**os.environ, "ONCEONLY_AUDIT_INTERVAL": "0", **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


class CountingReceiver:
    """A receiver that takes 20 to 400 ms per request, noting each request's event id as it
    arrives (with the round it arrived in) and how many it has taken and not yet answered."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.arrivals: dict[str, list[int]] = defaultdict(list)
        self.open = 0
        self.taken = 0
        self.round = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        self.arrivals[json.loads(body)["id"]].append(self.round)
        self.taken += 1
        self.open += 1
        try:
            await asyncio.sleep(self.rng.uniform(0.02, 0.4))
        finally:
            self.open -= 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def kills(report: Report, reports: int, rounds: int, batch: int = 100) -> None:
    rng = random.Random(14)
    receiver = CountingReceiver(seed=13)
    lease = timedelta(seconds=2)
    with postgres_database() as (url, _prefix), running(receiver) as base, \
            told_of_deaths(url, KILL_PEOPLE, base) as (exchange, registrar):
        living = itertools.cycle(list(linked_people(exchange.engine, KILL_PEOPLE)))
        report_ids = [exchange.life_events.report(registrar, death(next(living), f"kill-{n}")
                                                  ).report.id for n in range(reports)]
        mine = t.deliveries.c.report_id.in_(report_ids)

        def count(*where) -> int:
            with exchange.engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(t.deliveries)
                                    .where(mine, *where)).scalar_one()
        total = count()
        lease_env = {"ONCEONLY_DELIVERY_LEASE_SECONDS": str(lease.total_seconds())}
        in_flight, unwritten = [], []  # at each kill
        for n in range(rounds):
            if count(t.deliveries.c.status == "delivered") == total:
                break
            receiver.round, before = n, receiver.taken
            started = exchange.clock.now()
            worker = start_worker(url, batch, **lease_env)
            try:
                _wait(lambda before=before: receiver.taken > before,
                      "the worker's first request")
                time.sleep(rng.uniform(0.1, 0.6))
                in_flight.append(receiver.open)
            finally:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(10)
            # Its claims: leases that end between its start and its kill, plus the lease.
            unwritten.append(count(t.deliveries.c.status == "pending",
                                   t.deliveries.c.next_attempt_at > started + lease,
                                   t.deliveries.c.next_attempt_at
                                   <= exchange.clock.now() + lease))
        receiver.round = len(in_flight)
        last = start_worker(url, batch, **lease_env)
        try:
            _wait(lambda: count(t.deliveries.c.status == "delivered") == total,
                  "every delivery delivered")
        finally:
            last.send_signal(signal.SIGTERM)
            last.wait(30)
        with exchange.engine.connect() as conn:
            ids = set(conn.execute(select(t.deliveries.c.id).where(mine)).scalars())
        again = [n for event_id in ids for n in receiver.arrivals[event_id][:-1]]
        lost = len(ids - receiver.arrivals.keys())
        per_kill = [again.count(n) for n in range(len(in_flight))]
        report(f"PostgreSQL, workers SIGKILLed mid fan-out (batch {batch}): "
               f"{len(in_flight)} kills, {total} deliveries: {len(again)} sent again, "
               f"{lost} lost   | in flight at the kills: {sum(in_flight)} taken by the "
               f"receiver and unanswered, {sum(unwritten)} taken by the worker and not "
               f"written")
        report(f"  per kill, median (max): sent again {statistics.median(per_kill):.0f} "
               f"({max(per_kill)})   | unanswered {statistics.median(in_flight):.0f} "
               f"({max(in_flight)}), not written {statistics.median(unwritten):.0f} "
               f"({max(unwritten)})")


def _wait(check: Callable[[], bool], what: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.01)


def _peer_rate(exchange: Exchange, receiver: str, total: int, batch: int) -> float:
    """The same HTTP client as the workers', sending pre-signed bodies with nothing else."""
    body = b'{"specversion":"1.0","id":"x","type":"gov.onceonly.death.registered"}'
    signature = exchange.key_store.sign_webhook_for("GOV/EXCHANGE", "peer", exchange.clock.now(),
                                               body)

    async def post_all() -> float:
        transport = AiohttpTransport(max_connections=batch)
        try:
            start = time.perf_counter()
            for offset in range(0, total, batch):
                errors = await asyncio.gather(*(
                    transport.send(f"{receiver}/GOV/DVLA", body, signature)
                    for _ in range(min(batch, total - offset))))
                assert not any(errors), errors
            return total / (time.perf_counter() - start)
        finally:
            await transport.close()
    return asyncio.run(post_all())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", choices=["latency", "fan-out", "kills"], help="one section")
    args = parser.parse_args(argv)
    report = Report("tell-us-once")
    report(machine_header("tell us once: end to end, sustained fan-out, workers killed"))
    try:
        if args.only in (None, "latency"):
            for backend in BACKENDS:
                end_to_end(report, backend, 40 if args.quick else 200, LATENCY_PEOPLE)
        if args.only in (None, "fan-out"):
            fan_out(report, 300 if args.quick else 1500)
        if args.only in (None, "kills"):
            kills(report, *((80, 4) if args.quick else (300, 14)))
    finally:
        report.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
