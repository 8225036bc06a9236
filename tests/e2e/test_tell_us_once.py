"""Tell us once end to end: reports over HTTP, real `onceonly worker` processes, and the
demo organisations' own receivers applying notifications to their own stores.

Faults, not claims: a worker killed with SIGKILL in the middle of a fan-out, a receiver
down for a while, a receiver that always fails; and bad reports refused over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.demo.stores import connector_configs, linked_people, open_stores
from onceonly.domain.life_events import RetryPolicy
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.receivers import WebhookKeys, receiver_app
from onceonly.entrypoints.worker import WorkerThread
from onceonly.services.delivery import DeliveryService
from tests.conftest import WORLD_PEOPLE
from tests.e2e.conftest import Api
from tests.support.postgres import free_port
from tests.support.problems import assert_problem

DEATH = "gov.onceonly.death.registered"
WEBHOOKS = ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO")


class Faults:
    """Wraps the receivers app: counts every request by event id, and answers 503 for the
    organisations set as down (or all, with '*'), after an optional delay. Requests to the
    organisations in `hold` wait, unanswered, until they leave it (then 503)."""

    def __init__(self, app) -> None:
        self.app = app
        self.down: set[str] = set()
        self.hold: set[str] = set()
        self.delay = 0.0
        self.hits: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # requests that arrived, by event id
        self.held: set[str] = set()  # event ids of the requests waiting now
        self.ids: Counter[str] = Counter()  # requests taken, by event id

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        org = scope["path"].removeprefix("/receivers/")
        body, more = bytearray(), True
        while more:
            message = await receive()
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        event_id = json.loads(body)["id"]
        self.sent[event_id] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if org in self.hold:
            self.held.add(event_id)
            while org in self.hold:
                await asyncio.sleep(0.01)
            self.held.discard(event_id)
            return await unavailable(send)
        if org in self.down or "*" in self.down:
            self.refused[org] += 1
            return await unavailable(send)
        self.hits[org] += 1
        replayed = False

        async def replay_body():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, replay_body, send)
        self.ids[event_id] += 1
        return None


async def unavailable(send) -> None:
    await send({"type": "http.response.start", "status": 503, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def receivers(api: Api) -> Iterator[tuple[Faults, dict]]:
    """The demo organisations' stores and webhook receivers, every webhook org pointed at
    them; inbox organisations are left to read their inboxes."""
    with ExitStack() as stack:
        stores = open_stores(connector_configs(api.exchange.engine), stack)
        faults = Faults(receiver_app(stores, WebhookKeys(api.base_url)))
        url = stack.enter_context(running(faults))
        for org in WEBHOOKS:
            response = api.client.put("/v1/notification-endpoint",
                                      headers=api.auth(f"guardian:{org}"),
                                      json={"url": f"{url}/receivers/{org}"})
            assert response.status_code == 204, response.text
        yield faults, stores


@pytest.fixture
def faults(receivers) -> Iterator[Faults]:
    faults, _ = receivers
    yield faults
    faults.down.clear()
    faults.hold.clear()
    faults.delay = 0.0


@pytest.fixture(scope="module")
def people(api: Api) -> Iterator:
    """A different living person, linked in the index, for each report of the module."""
    return linked_people(api.exchange.engine, WORLD_PEOPLE)


def report_death(api: Api, person, event_id: str):
    """Sent as a structured-mode CloudEvent, with its own media type."""
    response = api.client.post(
        "/v1/events", headers=api.auth("officer:GOV/GRO") | {
            "Content-Type": "application/cloudevents+json"},
        content=json.dumps({
            "specversion": "1.0", "id": event_id, "source": "GOV/GRO/deaths", "type": DEATH,
            "subject": f"grn:{person.ids['grn']}",
            "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}}))
    assert response.status_code == 202, response.text
    return response.json()


def webhook_deliveries(api: Api, report_ids: list[str]) -> dict[str, str]:
    with api.exchange.engine.connect() as conn:
        return dict(conn.execute(select(t.deliveries.c.id, t.deliveries.c.status).where(
            t.deliveries.c.report_id.in_(report_ids), t.deliveries.c.mode == "webhook")).all())


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.05)


def start_worker(api: Api, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ONCEONLY_DELIVERY_LEASE_SECONDS": "2",
           "ONCEONLY_DELIVERY_BACKOFF_SECONDS": "0.05",
           "ONCEONLY_DELIVERY_BACKOFF_CAP_SECONDS": "0.5"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "onceonly.entrypoints.cli", "worker", "--db",
             str(api.exchange.engine.url.render_as_string(hide_password=False)), *extra],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def deliver_all_then_stop(api: Api, reports: list[str], workers: list[subprocess.Popen[bytes]],
                          what: str) -> None:
    """Wait until every webhook delivery of the reports is delivered; then stop the workers
    as an operator would (SIGTERM)."""
    try:
        wait_for(lambda: set(webhook_deliveries(api, reports).values()) == {"delivered"}, 90,
                 what)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)


def applied(stores, report_ids_to_deliveries: dict[str, str]) -> Counter[str]:
    """How many times each delivery (event id) was applied, over every store."""
    seen: Counter[str] = Counter()
    for store in stores.values():
        with store.engine.connect() as conn:
            seen.update(row for row in conn.execute(select(store.applied.c.event_id)).scalars()
                        if row in report_ids_to_deliveries)
    return seen


def test_a_worker_killed_mid_fan_out_loses_nothing_and_no_store_applies_twice(people,
        api: Api, receivers, faults: Faults, tmp_path: Path):
    _, stores = receivers
    faults.delay = 0.03  # slow receivers, so the kill lands in the middle of the fan-out
    people = [next(people) for _ in range(12)]
    reports = [report_death(api, p, f"kill-{n}-{p.index}")["report_id"]
               for n, p in enumerate(people)]
    expected = webhook_deliveries(api, reports)
    assert len(expected) >= 3 * len(people)

    first = start_worker(api, tmp_path / "worker-1.log", "--batch", "4")
    wait_for(lambda: sum(faults.hits.values()) >= 8, 60, "the first worker delivering")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    done = webhook_deliveries(api, reports)
    assert list(done.values()).count("delivered") < len(expected), "killed too late to tell"

    second = start_worker(api, tmp_path / "worker-2.log", "--batch", "4")
    deliver_all_then_stop(api, reports, [second], "every delivery delivered after the restart")
    assert second.returncode == 0, (tmp_path / "worker-2.log").read_text()
    times = applied(stores, expected)
    assert set(times) == set(expected), "a delivery never reached its receiver's store"
    assert max(times.values()) == 1, "a store applied a notification twice"
    dvla = stores["GOV/DVLA"]
    for person in people:
        if "driver" in person.ids:
            assert dvla.record(person.ids["driver"])["licence_status"] == "cancelled"


def test_two_worker_processes_share_the_work_and_deliver_nothing_twice(
        people, api: Api, receivers, faults: Faults, tmp_path: Path):
    reports = [report_death(api, p, f"shared-{p.index}")["report_id"]
               for p in [next(people) for _ in range(10)]]
    expected = webhook_deliveries(api, reports)
    workers = [start_worker(api, tmp_path / f"worker-{n}.log", "--batch", "3")
               for n in range(2)]
    deliver_all_then_stop(api, reports, workers, "every delivery delivered by two workers")
    taken = {event_id: faults.ids[event_id] for event_id in expected}
    assert set(taken.values()) == {1}, "a delivery was sent twice"


def test_workers_killed_mid_fan_out_send_again_only_what_was_in_flight(
        people, api: Api, receivers, faults: Faults, tmp_path: Path):
    """Each outcome is written as its answer arrives, so a worker killed while part of its
    batch is answered and part is still in flight sends again only what was in flight; and
    whatever a killed worker had taken is delivered later, once its lease ends."""
    _, stores = receivers
    reports = [report_death(api, p, f"in-flight-{p.index}")["report_id"]
               for p in [next(people) for _ in range(12)]]
    expected = webhook_deliveries(api, reports)
    in_flight: Counter[str] = Counter()  # what each kill caught sent and unanswered

    def attempts() -> dict[str, tuple[str, int]]:
        with api.exchange.engine.connect() as conn:
            return {i: (status, n) for i, status, n in conn.execute(
                select(t.deliveries.c.id, t.deliveries.c.status, t.deliveries.c.attempts)
                .where(t.deliveries.c.id.in_(list(expected))))}

    def answered_written_rest_held(before: dict[str, tuple[str, int]]) -> bool:
        """Of what the worker took since `before`, some is written and the rest is held
        unanswered at the receiver (sent, in flight)."""
        now = attempts()
        taken = {i for i, (_, n) in now.items() if n > before[i][1]}
        unwritten = {i for i in taken if now[i][0] == "pending"}
        return bool(unwritten) and unwritten <= faults.held and unwritten != taken

    for kill in range(3):
        faults.hold = {"GOV/HMPO"}  # HMPO's requests wait: the batch is stuck half answered
        before = attempts()
        worker = start_worker(api, tmp_path / f"worker-{kill}.log", "--batch", "6")
        try:
            wait_for(partial(answered_written_rest_held, before), 20,
                     "each answer written while the rest of its batch is in flight")
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        in_flight.update(faults.held & set(expected))
        faults.hold = set()
        wait_for(lambda: not faults.held, 10, "the held requests let go")

    last = start_worker(api, tmp_path / "worker-last.log", "--batch", "6")
    deliver_all_then_stop(api, reports, [last], "every delivery delivered after the kills")
    times = applied(stores, expected)
    assert set(times) == set(expected), "a delivery taken by a killed worker was lost"
    assert max(times.values()) == 1, "a store applied a notification twice"
    sent_again = Counter({i: faults.sent[i] - 1 for i in expected if faults.sent[i] > 1})
    assert in_flight, "no kill caught a request in flight"
    assert sent_again <= in_flight, (
        f"sent again: {sorted(sent_again.items())}; in flight at a kill: "
        f"{sorted(in_flight.items())}")


def delivering(api: Api, **policy) -> WorkerThread:
    service = DeliveryService(api.exchange.uows, api.exchange.clock, api.exchange.envelopes,
                              api.exchange.key_store, "GOV/EXCHANGE", RetryPolicy(**policy))
    return WorkerThread(service, batch=20, timeout=5).start()


def test_a_receiver_down_for_a_while_gets_its_notification_once_it_is_back(people,
        api: Api, receivers, faults: Faults):
    _, stores = receivers
    person = next(p for p in people if "passport" in p.ids)
    faults.down = {"GOV/HMPO"}
    report = report_death(api, person, f"down-{person.index}")
    worker = delivering(api, max_attempts=50, base_seconds=0.05, cap_seconds=0.2)
    try:
        wait_for(lambda: faults.refused["GOV/HMPO"] >= 3, 30, "retries while HMPO is down")
        faults.down = set()
        wait_for(lambda: all(d["status"] == "delivered" for d in api.client.get(
            f"/v1/reports/{report['report_id']}", headers=api.auth("officer:GOV/GRO")
        ).json()["told"] if d["mode"] == "webhook"), 30, "delivery once HMPO is back")
    finally:
        worker.stop()
    told = {d["organisation"]: d for d in api.client.get(
        f"/v1/reports/{report['report_id']}", headers=api.auth("officer:GOV/GRO")).json()["told"]}
    assert told["GOV/HMPO"]["attempts"] >= 4
    assert stores["GOV/HMPO"].record(person.ids["passport"])["passport_status"] == "cancelled"


def test_a_receiver_that_always_fails_is_dead_lettered_shown_and_its_guardian_alerted(people,
        api: Api, receivers, faults: Faults):
    faults.down = {"GOV/DWP"}
    person = next(p for p in people if "nino" in p.ids)
    report = report_death(api, person, f"dead-{person.index}")
    worker = delivering(api, max_attempts=3, base_seconds=0.02, cap_seconds=0.05)

    def dwp():
        told = api.client.get(f"/v1/reports/{report['report_id']}",
                              headers=api.auth("officer:GOV/GRO")).json()["told"]
        return next(d for d in told if d["organisation"] == "GOV/DWP")
    try:
        wait_for(lambda: dwp()["status"] == "failed", 30, "DWP's delivery dead-lettered")
    finally:
        worker.stop()
    assert dwp()["attempts"] == 3 and dwp()["last_error"] == "HTTP 503"
    alerts = api.client.get("/v1/alerts", headers=api.auth("guardian:GOV/DWP")).json()
    assert any(a["rule"] == "delivery_dead_lettered"
               and a["evidence"]["delivery"] == dwp()["delivery_id"] for a in alerts)
    letters = api.client.get("/v1/dead-letters", headers=api.auth("guardian:GOV/DWP")).json()
    assert dwp()["delivery_id"] in {d["delivery_id"] for d in letters}
    hmrc = api.client.get("/v1/dead-letters", headers=api.auth("guardian:GOV/HMRC")).json()
    assert {d["organisation"] for d in hmrc} <= {"GOV/HMRC"}
    assert_problem(api.client.get("/v1/dead-letters", headers=api.auth("officer:GOV/DWP")),
                   403, "role_not_allowed")
    # Another organisation's guardian cannot send it again; DWP's can.
    assert_problem(api.client.post(f"/v1/deliveries/{dwp()['delivery_id']}/redeliver",
                                   headers=api.auth("guardian:GOV/HMRC")), 404,
                   "delivery_unknown")
    again = api.client.post(f"/v1/deliveries/{dwp()['delivery_id']}/redeliver",
                            headers=api.auth("guardian:GOV/DWP"))
    assert again.status_code == 200 and again.json()["status"] == "pending"


def death_event(person, **change) -> dict:
    return {"specversion": "1.0", "id": f"bad-{person.index}", "source": "GOV/GRO/deaths",
            "type": DEATH, "subject": f"grn:{person.ids['grn']}",
            "data": {"full_name": person.full_name, "date_of_death": "2026-11-20"}} | change


@pytest.mark.parametrize(("label", "change", "status", "code"), [
    ("officer:GOV/GRO", {"type": "gov.onceonly.divorce.registered"}, 422,
     "event_type_unknown"),
    ("officer:GOV/GRO", {"data": {"full_name": "No date"}}, 422, "event_data_invalid"),
    ("officer:GOV/GRO", {"subject": "grn:RN1800000000000"}, 404, "subject_unknown"),
    ("officer:GOV/DWP", {}, 403, "reporter_not_allowed"),
    ("officer:GOV/GRO", {"subject": "not an identifier"}, 422, "subject_invalid"),
])
def test_bad_reports_are_refused_over_http_and_nothing_is_delivered(people,
        api: Api, receivers, label, change, status, code):
    with api.exchange.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(t.deliveries)).scalar_one()
    person = next(people)
    assert_problem(api.client.post("/v1/events", headers=api.auth(label),
                                   json=death_event(person, **change)), status, code)
    with api.exchange.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.deliveries)).scalar_one() == before


def test_a_citizen_tells_a_change_of_address_once_and_sees_who_was_told(
        people, api: Api, receivers):
    citizen = api.auth("citizen")
    move = {"id": "move-1", "type": "gov.onceonly.address.changed",
            "data": {"new_address": "2 Market Place, Northtown, NS2 2BB",
                     "effective_date": "2026-11-02"}}
    first = api.client.post("/v1/me/events", headers=citizen, json=move)
    assert first.status_code == 202, first.text
    again = api.client.post("/v1/me/events", headers=citizen, json=move)
    assert again.status_code == 200 and again.json()["already_received"] is True
    told = {d["organisation"] for d in first.json()["told"]}
    assert told == {"GOV/HMRC", "GOV/DWP", "GOV/DVLA", "LA/NORTHSHIRE", "NHS/NHSE"}
    mine = api.client.get("/v1/me/reports", headers=citizen).json()
    assert first.json()["report_id"] in {r["report_id"] for r in mine}
    # Someone else's record, or a registrar's event, is not the citizen's to report.
    other = next(people)
    assert_problem(api.client.post("/v1/me/events", headers=citizen,
                                   json=move | {"id": "move-2",
                                                "subject": f"nino:{other.ids['nino']}"}),
                   403, "not_your_record")
    assert_problem(api.client.post("/v1/me/events", headers=citizen, json={
        "type": DEATH, "data": {"full_name": "x", "date_of_death": "2026-11-01"}}),
        403, "reporter_not_allowed")
    # Another organisation sees nothing of it.
    assert_problem(api.client.get(f"/v1/reports/{first.json()['report_id']}",
                                  headers=api.auth("officer:COM/ACME")), 404, "report_unknown")


def test_the_worker_refuses_a_database_that_is_not_set_up(tmp_path: Path):
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    for extra in ([], ["--batch", "0"]):
        done = subprocess.run([sys.executable, "-m", "onceonly.entrypoints.cli", "worker",
                               "--db", empty, *extra], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 2, done.stdout + done.stderr
    assert "not set up" in done.stdout + done.stderr or "batch" in done.stdout + done.stderr


def scrape_worker(port: int) -> dict[str, float]:
    """The worker's own figures: each sample by name and labels."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {f"{s.name}{sorted(s.labels.items())}": s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_a_worker_shows_its_own_figures_on_its_metrics_port(people, api: Api, receivers,
                                                           faults: Faults, tmp_path: Path):
    def delivered_so_far() -> int:  # by any worker, this module's earlier tests' included
        with api.exchange.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(t.deliveries).where(
                t.deliveries.c.status == "delivered")).scalar_one()

    port = free_port()
    log = tmp_path / "worker.log"
    already = delivered_so_far()
    worker = start_worker(api, log, "--metrics-port", str(port))
    delivered = "onceonly_worker_delivery_attempts_total[('outcome', 'delivered')]"
    try:
        wait_for(lambda: f"127.0.0.1:{port}/metrics" in log.read_text(), 120,
                 "the worker serving its figures")
        before = scrape_worker(port)
        reports = [report_death(api, p, f"figures-{p.index}")["report_id"]
                   for p in [next(people) for _ in range(3)]]
        expected = webhook_deliveries(api, reports)
        wait_for(lambda: set(webhook_deliveries(api, reports).values()) == {"delivered"}, 90,
                 "every delivery delivered")
        after = scrape_worker(port)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    # What it delivered: these reports' deliveries, and any an earlier test left due.
    made = delivered_so_far() - already
    assert made >= len(expected) > 0
    assert after[delivered] == made
    assert before[delivered] <= made and "onceonly_worker_failed_rounds_total[]" in after
    assert after["process_resident_memory_bytes[]"] > 0
    assert any(name.startswith("python_info") for name in after)
    assert f"{made} deliveries made" in log.read_text()


def test_the_worker_refuses_a_metrics_port_in_use(api: Api, tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "onceonly.entrypoints.cli", "worker", "--db",
             api.exchange.engine.url.render_as_string(hide_password=False),
             "--metrics-port", str(port)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot serve the worker's figures on 127.0.0.1:{port}" in " ".join(
        done.stderr.split())
