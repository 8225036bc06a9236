"""Tell us once through the services, on SQLite and PostgreSQL: a report fans out in one
transaction to each subscriber under its own identifier with only its agreed fields; bad
reports change nothing and are audited; the worker retries, dead-letters and alerts; and
nothing goes out under an agreement a guardian has ended."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.demo.stores import linked_people as demo_linked_people
from onceonly.domain.errors import DomainError
from onceonly.domain.life_events import DeliveryStatus, RetryPolicy
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.worker import run_worker
from onceonly.services.delivery import DEAD_LETTER_RULE, DeliveryService
from tests.conftest import WORLD_PEOPLE
from tests.support.logs import captured_logs
from tests.support.loops import run_in_own_loop
from tests.support.waiting import until

DEATH = "gov.onceonly.death.registered"
DEATH_TOLD = {"GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO", "LA/NORTHSHIRE", "NHS/NHSE",
              "GOV/VETERANS"}


def principal(world, label):
    found = next(a.principal for a in world.accounts if a.label == label)
    if label == "citizen":  # bound to their person after the account was made
        return replace(found, person_key=world.citizen_ids["person_key"])
    return found


def living(exchange, *schemes: str, skip: int = 0):
    return linked_people(exchange, *schemes)[skip]


def linked_people(exchange, *schemes: str):
    return list(demo_linked_people(exchange.engine, WORLD_PEOPLE, schemes))


def death(person, event_id: str = "death-1", **data) -> dict:
    return {"specversion": "1.0", "id": event_id, "source": "GOV/GRO/deaths", "type": DEATH,
            "subject": f"grn:{person.ids['grn']}",
            "data": {"full_name": person.full_name, "date_of_death": "2026-11-20",
                     "place_of_death": "home address", **data}}


def counts(exchange) -> tuple[int, int]:
    with exchange.engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(t.life_event_reports)).scalar_one(),
                conn.execute(select(func.count()).select_from(t.deliveries)).scalar_one())


def refusals(exchange, action: str) -> list[str]:
    with exchange.engine.connect() as conn:
        return list(conn.execute(select(t.audit_log.c.reason).where(
            t.audit_log.c.action == action, t.audit_log.c.outcome == "deny")).scalars())


def sealed_notification(exchange, delivery_id: str):
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.deliveries.c.notification)
                            .where(t.deliveries.c.id == delivery_id)).scalar_one()


def inbox_events(exchange, world, org: str) -> list[dict]:
    return [json.loads(body) for _, body in
            exchange.life_events.inbox(principal(world, f"officer:{org}"))]


def test_a_death_reaches_each_subscriber_by_its_own_identifier_with_only_its_fields(
        exchange, world):
    person = living(exchange, "nino", "driver", "passport", "ctr", "nhs")
    registrar = principal(world, "officer:GOV/GRO")

    status = exchange.life_events.report(registrar, death(person))

    told = {d.receiver_id for d in status.deliveries}
    assert told | {org for org, _ in status.report.not_told} == DEATH_TOLD
    assert told >= {"GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO", "LA/NORTHSHIRE",
                    "NHS/NHSE"}
    if "service" not in person.ids:
        assert ("GOV/VETERANS", "no_record") in status.report.not_told
    assert counts(exchange) == (1, len(told))
    # Every demo receiver starts on its inbox: read each and check what it was sent.
    expected = {"GOV/HMRC": ("nino", {"date_of_death"}),
                "GOV/DWP": ("nino", {"date_of_death"}),
                "GOV/DVLA": ("driver", {"full_name", "date_of_death"}),
                "GOV/HMPO": ("passport", {"full_name", "date_of_death"}),
                "LA/NORTHSHIRE": ("ctr", {"date_of_death"}),
                "NHS/NHSE": ("nhs", {"date_of_death", "place_of_death"})}
    for org, (scheme, fields) in expected.items():
        (event,) = inbox_events(exchange, world, org)
        assert event["subject"] == f"{scheme}:{person.ids[scheme]}"
        assert set(event["data"]) == fields
        assert event["type"] == DEATH and event["specversion"] == "1.0"
    # Nothing personal is kept in the clear: the event and notifications are sealed.
    with exchange.engine.connect() as conn:
        stored = json.dumps(conn.execute(select(t.life_event_reports.c.event)).scalar_one())
        notes = json.dumps(list(conn.execute(select(t.deliveries.c.notification)).scalars()))
    assert person.full_name not in stored and person.full_name not in notes
    assert person.ids["nino"] not in notes


def test_the_same_event_again_is_already_received_and_a_different_one_is_refused(
        exchange, world):
    person = living(exchange, "nino")
    registrar = principal(world, "officer:GOV/GRO")
    first = exchange.life_events.report(registrar, death(person))
    again = exchange.life_events.report(registrar, death(person))
    assert again.already_received and again.report.id == first.report.id
    assert counts(exchange) == (1, len(first.deliveries))
    with pytest.raises(DomainError) as reused:
        exchange.life_events.report(registrar, death(person, place_of_death="elsewhere"))
    assert reused.value.code == "event_id_reused"
    assert counts(exchange) == (1, len(first.deliveries))


@pytest.mark.parametrize(("label", "change", "code"), [
    ("officer:GOV/GRO", {"type": "gov.onceonly.divorce.registered"}, "event_type_unknown"),
    ("officer:GOV/GRO", {"specversion": "0.3"}, "specversion_unsupported"),
    ("officer:GOV/GRO", {"data": {"full_name": "A Person"}}, "event_data_invalid"),
    ("officer:GOV/GRO", {"data": {"full_name": "A", "date_of_death": "2026-13-40"}},
     "event_data_invalid"),
    ("officer:GOV/GRO", {"data": {"full_name": "A", "date_of_death": "2099-01-01"}},
     "event_data_invalid"),
    ("officer:GOV/GRO", {"data": {"full_name": "A", "date_of_death": "2026-01-01",
                                  "income": "none of yours"}}, "event_data_invalid"),
    ("officer:GOV/GRO", {"subject": "grn:RN1900999999999"}, "subject_unknown"),
    ("officer:GOV/GRO", {"subject": "nino:AA000001A"}, "scheme_not_yours"),
    ("officer:GOV/GRO", {"source": "GOV/DWP/benefits"}, "source_not_yours"),
    ("officer:GOV/DWP", {}, "reporter_not_allowed"),
    ("guardian:GOV/GRO", {}, "reporter_not_allowed"),
    ("citizen", {}, "reporter_not_allowed"),
])
def test_a_bad_report_is_refused_changes_nothing_and_is_audited(exchange, world, label,
                                                                change, code):
    event = death(living(exchange, "nino")) | change
    with pytest.raises(DomainError) as refused:
        exchange.life_events.report(principal(world, label), event)
    assert refused.value.code == code
    assert counts(exchange) == (0, 0)
    assert refusals(exchange, "event.report") == [code]


def test_an_event_type_no_register_takes_here_is_refused(exchange, world):
    """A known event type whose register is not on this exchange: refused, audited, and
    nothing kept."""
    with exchange.engine.begin() as conn:
        conn.execute(t.datasets.update().where(t.datasets.c.event_type == DEATH)
                     .values(event_type=None))
    with pytest.raises(DomainError) as refused:
        exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                    death(living(exchange, "nino")))
    assert (refused.value.code, refused.value.kind.value) == ("event_type_not_offered",
                                                              "invalid")
    assert counts(exchange) == (0, 0)
    assert refusals(exchange, "event.report") == ["event_type_not_offered"]


def test_the_informant_chooses_within_what_the_law_requires(exchange, world):
    person = living(exchange, "nino", "ctr")
    registrar = principal(world, "officer:GOV/GRO")
    statutory = ["GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO", "NHS/NHSE"]
    with pytest.raises(DomainError) as required:
        exchange.life_events.report(registrar, death(person), ["GOV/HMRC"])
    assert required.value.code == "recipient_required"
    with pytest.raises(DomainError) as unknown:
        exchange.life_events.report(registrar, death(person), [*statutory, "COM/NORTHBANK"])
    assert unknown.value.code == "recipient_not_subscribed"
    assert counts(exchange) == (0, 0)

    status = exchange.life_events.report(registrar, death(person), statutory)
    assert "LA/NORTHSHIRE" not in {d.receiver_id for d in status.deliveries}
    assert ("LA/NORTHSHIRE", "not_chosen") in status.report.not_told


def test_a_citizen_tells_their_own_change_and_no_one_elses(exchange, world):
    citizen = principal(world, "citizen")
    move = {"type": "gov.onceonly.address.changed",
            "data": {"new_address": "1 New Street, Northtown, NS1 1AA",
                     "effective_date": "2026-11-01"}}
    status = exchange.life_events.report_own(citizen, move)
    assert {d.receiver_id for d in status.deliveries} == {
        "GOV/HMRC", "GOV/DWP", "GOV/DVLA", "LA/NORTHSHIRE", "NHS/NHSE"}
    (mine,) = exchange.life_events.my_reports(citizen)
    assert mine.report.id == status.report.id

    other = living(exchange, "nino", skip=3)
    with pytest.raises(DomainError) as not_yours:
        exchange.life_events.report_own(citizen, move | {"subject": f"nino:{other.ids['nino']}"})
    assert not_yours.value.code == "not_your_record"
    with pytest.raises(DomainError) as registrar_only:
        exchange.life_events.report_own(citizen, {"type": DEATH, "data": death(other)["data"]})
    assert registrar_only.value.code == "reporter_not_allowed"
    # The report's status is for the person and the reporter, not another organisation.
    with pytest.raises(DomainError) as hidden:
        exchange.life_events.status(principal(world, "officer:GOV/DWP"), status.report.id)
    assert hidden.value.code == "report_unknown"


class FakeTransport:
    """Answers each URL from a script: an error text, or None for delivered."""

    def __init__(self, answer=lambda url: None) -> None:
        self.answer = answer
        self.sent: list[tuple[str, dict]] = []

    def respond(self, url: str, body: bytes) -> str | None:
        self.sent.append((url, json.loads(body)))
        return self.answer(url)

    async def send(self, url: str, body: bytes, signature: str) -> str | None:
        return self.respond(url, body)


def webhooks_for(exchange, world, orgs) -> None:
    for org in orgs:
        exchange.life_events.set_endpoint(principal(world, f"guardian:{org}"),
                                          f"http://127.0.0.1:9/{org}")


def deliver_all(service: DeliveryService, transport: FakeTransport, clock=None,
                rounds: int = 12) -> None:
    for _ in range(rounds):
        outgoing = service.claim(100)
        results = [(o, transport.respond(o.claim.url, o.body)) for o in outgoing]
        service.settle(results)
        if clock is not None:
            clock.advance(timedelta(seconds=10))


def worker(exchange, **policy) -> DeliveryService:
    return DeliveryService(exchange.uows, exchange.clock, exchange.envelopes, exchange.key_store,
                           "GOV/EXCHANGE", RetryPolicy(**policy), rng=None)


def test_webhook_deliveries_retry_then_dead_letter_and_alert_the_guardian(
        exchange, world, clock):
    webhooks_for(exchange, world, ["GOV/DVLA", "GOV/HMPO"])
    status = exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                         death(living(exchange, "driver", "passport")))
    down = FakeTransport(lambda url: "HTTP 503" if url.endswith("HMPO") else None)
    deliver_all(worker(exchange, max_attempts=3, base_seconds=1, cap_seconds=4), down, clock)

    after = exchange.life_events.status(principal(world, "officer:GOV/GRO"), status.report.id)
    by_org = {d.receiver_id: d for d in after.deliveries}
    assert by_org["GOV/DVLA"].status == "delivered" and by_org["GOV/DVLA"].attempts == 1
    assert by_org["GOV/HMPO"].status == "failed" and by_org["GOV/HMPO"].attempts == 3
    assert by_org["GOV/HMPO"].last_error == "HTTP 503"
    assert sealed_notification(exchange, by_org["GOV/DVLA"].id) is None
    assert sealed_notification(exchange, by_org["GOV/HMPO"].id) is not None  # kept to resend
    assert [u for u, _ in down.sent].count("http://127.0.0.1:9/GOV/HMPO") == 3
    (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/HMPO"))
    assert alert.rule == DEAD_LETTER_RULE and alert.evidence["delivery"] == by_org["GOV/HMPO"].id
    assert exchange.anomaly.alerts(principal(world, "guardian:GOV/DVLA")) == []
    # Mended, the guardian sends it again; it arrives.
    exchange.life_events.redeliver(principal(world, "guardian:GOV/HMPO"), by_org["GOV/HMPO"].id)
    deliver_all(worker(exchange), FakeTransport(), clock, rounds=1)
    again = exchange.life_events.status(principal(world, "officer:GOV/GRO"), status.report.id)
    assert {d.receiver_id: d.status for d in again.deliveries}["GOV/HMPO"] == "delivered"


def test_nothing_goes_out_under_a_revoked_agreement_and_a_suspended_one_waits(
        exchange, world, clock):
    webhooks_for(exchange, world, ["GOV/DVLA", "GOV/HMPO"])
    exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                death(living(exchange, "driver", "passport")))
    agreements = {a.consumer_id: a.id for a in exchange.agreements.list(
        principal(world, "guardian:GOV/GRO")) if a.dataset_id == "GOV/GRO/deaths"}
    gro = principal(world, "guardian:GOV/GRO")
    exchange.agreements.transition(gro, agreements["GOV/DVLA"], "revoke", "contract ended")
    exchange.agreements.transition(gro, agreements["GOV/HMPO"], "suspend", "under review")
    transport = FakeTransport()
    deliver_all(worker(exchange), transport, rounds=1)
    assert transport.sent == []
    with exchange.engine.connect() as conn:
        states = dict(conn.execute(select(t.deliveries.c.receiver_id, t.deliveries.c.status)
                                   .where(t.deliveries.c.mode == "webhook")).all())
    assert states == {"GOV/DVLA": "failed", "GOV/HMPO": "pending"}


def test_inbox_acknowledgement_is_idempotent_and_only_for_the_receiver(exchange, world):
    exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                death(living(exchange, "ctr")))
    council = principal(world, "officer:LA/NORTHSHIRE")
    ((delivery, _),) = exchange.life_events.inbox(council)
    with pytest.raises(DomainError) as other:
        exchange.life_events.acknowledge(principal(world, "officer:GOV/DWP"), delivery.id)
    assert other.value.code == "delivery_unknown"
    assert exchange.life_events.acknowledge(council, delivery.id).status == "delivered"
    assert exchange.life_events.acknowledge(council, delivery.id).status == "delivered"
    assert exchange.life_events.inbox(council) == []
    assert sealed_notification(exchange, delivery.id) is None  # delivered: values not kept


def test_two_workers_never_take_the_same_delivery(exchange, world):
    """Claims from racing workers are disjoint (FOR UPDATE SKIP LOCKED on PostgreSQL, the
    write lock on SQLite), and together they take every delivery."""
    orgs = ["GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO"]
    webhooks_for(exchange, world, orgs)
    registrar = principal(world, "officer:GOV/GRO")
    people = linked_people(exchange)[:25]
    for n, person in enumerate(people):
        exchange.life_events.report(registrar, death(person, f"death-{n}"), None)
    service = worker(exchange)
    taken: list[list[str]] = [[], [], []]
    barrier = threading.Barrier(3)

    def take(slot: int) -> None:
        barrier.wait()
        while batch := service.claim(7):
            taken[slot].extend(o.claim.delivery.id for o in batch)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [d for slot in taken for d in slot]
    with exchange.engine.connect() as conn:
        webhook = conn.execute(select(func.count()).select_from(t.deliveries)
                               .where(t.deliveries.c.mode == "webhook")).scalar_one()
    assert len(every) == len(set(every)) == webhook > 0


def outbox_row(exchange, delivery_id: str) -> dict:
    with exchange.engine.connect() as conn:
        return dict(conn.execute(select(t.deliveries).where(t.deliveries.c.id == delivery_id))
                    .one()._mapping)


def attempts_audited(exchange, delivery_id: str) -> list[tuple[int, str]]:
    with exchange.engine.connect() as conn:
        rows = conn.execute(select(t.audit_log.c.detail, t.audit_log.c.outcome)
                            .where(t.audit_log.c.action == "notification.attempt")
                            .order_by(t.audit_log.c.seq)).all()
    return [(detail["attempt"], outcome) for detail, outcome in rows
            if detail["delivery"] == delivery_id]


def stale_outcomes(logs: list[dict]) -> list[str]:
    return [e["delivery"] for e in logs if e["event"] == "stale delivery outcome not written"]


def one_webhook_delivery(exchange, world) -> str:
    webhooks_for(exchange, world, ["GOV/DVLA"])
    status = exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                         death(living(exchange, "driver")))
    return next(d.id for d in status.deliveries if d.receiver_id == "GOV/DVLA")


@pytest.mark.parametrize("late", [None, "HTTP 503"], ids=["delivered", "failed"])
def test_an_outcome_that_arrives_after_its_lease_passed_to_another_worker_changes_nothing(
        exchange, world, clock, late):
    """Worker A stalls past its lease; B takes the delivery again and delivers it. A's late
    answer, whatever it says, leaves B's outcome standing and is reported, not written: the
    row is not put back to pending with its notification already erased (to be dead-lettered
    as unopenable: an accepted notification lost)."""
    dvla = one_webhook_delivery(exchange, world)
    a, b = worker(exchange), worker(exchange)
    (stalled,) = a.claim(100)
    clock.advance(timedelta(seconds=31))  # past the 30 s lease
    (taken,) = b.claim(100)
    assert taken.claim.delivery.id == stalled.claim.delivery.id == dvla
    b.settle([(taken, None)])
    delivered = outbox_row(exchange, dvla)
    clock.advance(timedelta(seconds=5))

    with captured_logs() as logs:
        a.settle([(stalled, late)])

    assert outbox_row(exchange, dvla) == delivered  # status, attempts 2, when: all B's
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    assert stale_outcomes(logs) == [dvla]
    assert attempts_audited(exchange, dvla) == [(2, "delivered"), (1, "stale")]
    transport = FakeTransport()
    deliver_all(worker(exchange), transport, clock, rounds=3)
    assert transport.sent == []
    assert exchange.life_events.dead_letters(principal(world, "guardian:GOV/DVLA")) == []
    assert exchange.anomaly.alerts(principal(world, "guardian:GOV/DVLA")) == []


@pytest.mark.parametrize("answer", [None, "HTTP 503"], ids=["delivered", "failed"])
def test_an_outcome_that_arrives_within_its_lease_is_recorded(exchange, world, clock, answer):
    dvla = one_webhook_delivery(exchange, world)
    a = worker(exchange)
    (taken,) = a.claim(100)
    clock.advance(timedelta(seconds=29))
    assert worker(exchange).claim(100) == []  # still A's
    with captured_logs() as logs:
        a.settle([(taken, answer)])
    after = outbox_row(exchange, dvla)
    assert (after["status"], after["attempts"], after["last_error"]) == (
        "pending" if answer else "delivered", 1, answer)
    assert (after["notification"] is None) == (answer is None)
    assert stale_outcomes(logs) == []
    assert attempts_audited(exchange, dvla) == [(1, "retry" if answer else "delivered")]


def test_a_stale_outcome_is_not_taken_for_a_later_claim_with_the_same_attempt_count(
        exchange, world, clock):
    """A guardian's redelivery counts attempts from the start again, so the attempt count
    alone cannot tell A's old claim from C's new one."""
    dvla = one_webhook_delivery(exchange, world)
    a, b, c = (worker(exchange, max_attempts=2) for _ in range(3))
    (stalled,) = a.claim(100)
    clock.advance(timedelta(seconds=31))
    (taken,) = b.claim(100)
    b.settle([(taken, "HTTP 503")])  # the second attempt: dead-lettered
    exchange.life_events.redeliver(principal(world, "guardian:GOV/DVLA"), dvla)
    (again,) = c.claim(100)
    assert again.claim.delivery.attempts == stalled.claim.delivery.attempts == 1
    in_flight = outbox_row(exchange, dvla)

    with captured_logs() as logs:
        a.settle([(stalled, None)])
    assert outbox_row(exchange, dvla) == in_flight  # C's claim stands, its notification kept
    assert stale_outcomes(logs) == [dvla]
    c.settle([(again, None)])
    assert outbox_row(exchange, dvla)["status"] == "delivered"


def test_a_stale_outcome_leaves_a_delivery_moved_to_the_inbox_and_acknowledged(
        exchange, world, clock):
    dvla = one_webhook_delivery(exchange, world)
    a = worker(exchange)
    (stalled,) = a.claim(100)
    exchange.life_events.set_endpoint(principal(world, "guardian:GOV/DVLA"), None)
    clock.advance(timedelta(seconds=31))
    assert worker(exchange).claim(100) == []  # its receiver now reads its inbox
    exchange.life_events.acknowledge(principal(world, "officer:GOV/DVLA"), dvla)
    acknowledged = outbox_row(exchange, dvla)

    with captured_logs() as logs:
        a.settle([(stalled, "HTTP 503")])
    assert outbox_row(exchange, dvla) == acknowledged
    assert (acknowledged["mode"], acknowledged["status"]) == ("inbox", "delivered")
    assert stale_outcomes(logs) == [dvla]


def test_a_requeue_of_a_delivery_no_longer_dead_lettered_changes_nothing(
        exchange, world, clock):
    """Two guardians redeliver at once: both read it dead-lettered, the first puts it back
    and a worker takes it; the second's write must not reset that claim."""
    dvla = one_webhook_delivery(exchange, world)
    (taken,) = worker(exchange, max_attempts=1).claim(100)
    worker(exchange, max_attempts=1).settle([(taken, "HTTP 503")])
    with exchange.uows() as uow:
        failed = uow.life_events.delivery(dvla)
    assert failed.status == "failed"
    exchange.life_events.redeliver(principal(world, "guardian:GOV/DVLA"), dvla)
    worker(exchange).claim(100)
    claimed = outbox_row(exchange, dvla)

    with exchange.uows(write=True) as uow:
        assert not uow.life_events.requeue(replace(
            failed, status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=clock.now(),
            last_error=None))
        uow.commit()
    assert outbox_row(exchange, dvla) == claimed


def test_run_worker_delivers_until_stopped(exchange, world):
    webhooks_for(exchange, world, ["GOV/DVLA"])
    exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                death(living(exchange, "driver")))
    transport = FakeTransport()

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(worker(exchange), transport, stop,
                                              idle_seconds=0.01))
        await until(lambda: transport.sent, "a webhook delivery")
        await asyncio.sleep(0.1)
        stop.set()
        return await task

    assert run_in_own_loop(main()) == 1


def test_a_correction_reaches_a_consumer_with_a_webhook_through_delivery(exchange, world):
    """A consumer that takes notifications by webhook is told of a correction as a
    `record.corrected` CloudEvent, by its own identifier; others keep the notices inbox."""
    from tests.integration.test_accuracy import NEW_ADDRESS, acme_asks, challenge_address

    acme_guardian = Principal("com_acme.guardian", "Guardian at ACME", "COM/ACME", Role.GUARDIAN)
    exchange.life_events.set_endpoint(acme_guardian, "http://127.0.0.1:9/COM/ACME")
    before = acme_asks(exchange, world)
    raised = challenge_address(exchange, world)
    done = exchange.accuracy.correct(principal(world, "guardian:GOV/DWP"), raised.id,
                                       NEW_ADDRESS, "checked the deeds")
    transport = FakeTransport()
    deliver_all(worker(exchange), transport, rounds=1)
    ((url, note),) = transport.sent
    assert url.endswith("COM/ACME") and note["type"] == "gov.onceonly.record.corrected"
    assert note["subject"] == f"nino:{world.citizen_ids['nino']}"
    assert note["data"] == {"field": "address", "correction_id": done.correction_id,
                            "agreement_id": 3, "release_ids": [before.release_id]}
    assert NEW_ADDRESS not in json.dumps(note)  # ACME asks again for the value
    assert exchange.accuracy.notices(principal(world, "officer:COM/ACME")) == []


def test_an_informant_sees_who_would_be_told_and_who_must_be(exchange, world):
    told = {r.agreement.consumer_id: r.required
            for r in exchange.life_events.subscribers("gov.onceonly.death.registered")}
    assert told == {"GOV/HMRC": True, "GOV/DWP": True, "GOV/DVLA": True, "GOV/HMPO": True,
                    "NHS/NHSE": True, "LA/NORTHSHIRE": False, "GOV/VETERANS": False}
    with pytest.raises(DomainError) as unknown:
        exchange.life_events.subscribers("gov.onceonly.divorce.registered")
    assert unknown.value.code == "event_type_unknown"


def test_a_notification_that_cannot_be_opened_is_dead_lettered_not_retried(
        exchange, world):
    webhooks_for(exchange, world, ["GOV/DVLA"])
    status = exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                         death(living(exchange, "driver")))
    dvla = next(d for d in status.deliveries if d.receiver_id == "GOV/DVLA")
    with exchange.engine.begin() as conn:  # the sealed notification damaged in storage
        conn.execute(t.deliveries.update().where(t.deliveries.c.id == dvla.id)
                     .values(notification={"damaged": True}))
    transport = FakeTransport()
    deliver_all(worker(exchange), transport, rounds=2)
    assert transport.sent == []
    (after,) = [d for d in exchange.life_events.dead_letters(
        principal(world, "guardian:GOV/DVLA")) if d.id == dvla.id]
    assert after.last_error.startswith("the notification cannot be opened")
    (alert,) = exchange.anomaly.alerts(principal(world, "guardian:GOV/DVLA"))
    assert alert.evidence["delivery"] == dvla.id


def test_a_worker_round_that_fails_is_tried_again_not_fatal(exchange, world):
    webhooks_for(exchange, world, ["GOV/DVLA"])
    exchange.life_events.report(principal(world, "officer:GOV/GRO"),
                                death(living(exchange, "driver")))
    service, transport = worker(exchange), FakeTransport()
    real_claim, failures = service.claim, []

    def flaky_claim(limit, **options):
        if not failures:
            failures.append(1)
            raise ConnectionError("the database went away")
        return real_claim(limit, **options)
    service.claim = flaky_claim

    async def main() -> int:
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(service, transport, stop, idle_seconds=0.01))
        await until(lambda: transport.sent, "a webhook delivery")
        stop.set()
        return await task

    assert run_in_own_loop(asyncio.wait_for(main(), 30)) == 1 and failures == [1]


@pytest.mark.parametrize(("label", "url", "code"), [
    ("guardian:GOV/DVLA", "http://notify.dvla.example/onceonly", "endpoint_insecure"),
    ("guardian:GOV/DVLA", "ftp://notify.dvla.example/onceonly", "endpoint_invalid"),
    ("guardian:GOV/DVLA", "https://user:secret@notify.dvla.example/", "endpoint_invalid"),
    ("officer:GOV/DVLA", "https://notify.dvla.example/onceonly", "role_not_allowed"),
])
def test_a_bad_endpoint_is_refused_changes_nothing_and_is_audited(exchange, world, label,
                                                                   url, code):
    with pytest.raises(DomainError) as refused:
        exchange.life_events.set_endpoint(principal(world, label), url)
    assert refused.value.code == code
    with exchange.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(
            t.notification_endpoints)).scalar_one() == 0
    assert refusals(exchange, "endpoint.set") == [code]


def test_an_informant_the_index_does_not_know_is_refused(exchange, world):
    event = death(living(exchange, "nino")) | {"informant": "grn:RN1800000000000"}
    with pytest.raises(DomainError) as refused:
        exchange.life_events.report(principal(world, "officer:GOV/GRO"), event)
    assert refused.value.code == "informant_unknown"
    assert counts(exchange) == (0, 0)


def test_a_report_wakes_this_processs_idle_worker_at_once(exchange, world):
    """A worker of the same process that polls only every 30 s is rung by the report and
    delivers within seconds; nothing but the ring could wake it that soon."""
    webhooks_for(exchange, world, ["GOV/DVLA"])
    transport = FakeTransport()

    async def main() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(exchange.delivery, transport, stop,
                                              idle_seconds=30))
        await asyncio.sleep(0.5)  # its first poll found nothing: it waits
        started = time.monotonic()
        await asyncio.to_thread(exchange.life_events.report, principal(
            world, "officer:GOV/GRO"), death(living(exchange, "driver"), "death-woken"))
        await until(lambda: transport.sent, "a webhook delivery", seconds=10)
        stop.set()
        await task
        return time.monotonic() - started

    assert run_in_own_loop(main()) < 10
