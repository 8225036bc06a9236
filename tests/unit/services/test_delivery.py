"""Delivery workers on fakes: a claim hides a delivery for its lease and counts the
attempt; outcomes are delivered, retried, dead-lettered (with the receiver's guardian
alerted) or held while the agreement is not active; an outcome is written only while its
claim stands; each is audited."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.crypto.signing import webhook_public_key
from onceonly.crypto.standard_webhooks import verify
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.life_events import Delivery, DeliveryStatus, RetryPolicy
from onceonly.services.delivery import DEAD_LETTER_RULE, DeliveryService
from onceonly.services.envelopes import Envelopes
from onceonly.services.life_events import sealed_context
from tests.fakes.clock import FixedClock
from tests.fakes.keys import FakeMasterKeys, FakeSigner, FakeStore
from tests.fakes.life_events import FakeLifeEvents
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW
from tests.unit.services.conftest import CONSUMER

OPERATOR = "GOV/EXCHANGE"
URL = "https://dwp.example/hooks"
EVENT = {"type": "gov.onceonly.death.registered", "id": "e1"}
LEASE = timedelta(seconds=30)


@pytest.fixture
def envelopes(clock: FixedClock) -> Envelopes:
    return Envelopes(FakeMasterKeys(), FakeStore(), clock)


@pytest.fixture
def signer() -> FakeSigner:
    return FakeSigner()


def worker(uows: FakeUnitOfWorkFactory, clock: FixedClock, envelopes: Envelopes,
           signer: FakeSigner, attempts: int = 3) -> DeliveryService:
    return DeliveryService(uows, clock, envelopes, signer, OPERATOR,
                           RetryPolicy(max_attempts=attempts), lease=LEASE,
                           rng=random.Random(1))


@pytest.fixture
def deliveries(uows: FakeUnitOfWorkFactory, clock: FixedClock, envelopes: Envelopes,
               signer: FakeSigner) -> DeliveryService:
    outbox = FakeLifeEvents(uows.data)
    outbox.add_delivery(
        Delivery("d1", "r1", CONSUMER, 1, "webhook", DeliveryStatus.PENDING, 0, NOW, NOW),
        envelopes.encrypt(CONSUMER, json.dumps(EVENT).encode(), sealed_context("d1")))
    uows.data.endpoints[CONSUMER] = URL
    return worker(uows, clock, envelopes, signer)


def stored(uows: FakeUnitOfWorkFactory) -> Delivery:
    return uows.data.deliveries["d1"]


def audited(uows: FakeUnitOfWorkFactory) -> list[tuple[str, str, object]]:
    return [(r.entry.action, r.entry.outcome, r.entry.detail.get("attempt"))
            for r in uows.data.audit]


def test_a_claim_opens_the_notification_signs_it_and_hides_it_for_the_lease(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory, signer: FakeSigner) -> None:
    [outgoing] = deliveries.claim(10)
    assert json.loads(outgoing.body) == EVENT and outgoing.claim.url == URL
    assert outgoing.signature.msg_id == "d1"
    public = webhook_public_key(signer.key(OPERATOR).public_jwk())
    assert verify(outgoing.signature.headers(), outgoing.body, [public], now=NOW) == "d1"
    assert (stored(uows).attempts, stored(uows).next_attempt_at) == (1, NOW + LEASE)
    assert deliveries.claim(10) == []  # hidden from other workers until the lease ends


def test_a_delivered_notification_is_recorded_erased_and_audited(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory) -> None:
    deliveries.settle([(outgoing, None) for outgoing in deliveries.claim(10)])
    assert stored(uows).status is DeliveryStatus.DELIVERED
    assert stored(uows).delivered_at == NOW
    assert uows.data.sealed["d1"] is None
    assert audited(uows) == [("notification.attempt", "delivered", 1)]


def test_a_failed_attempt_is_retried_after_a_backoff(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    deliveries.settle([(outgoing, "HTTP 503") for outgoing in deliveries.claim(10)])
    retry = stored(uows)
    assert retry.status is DeliveryStatus.PENDING and retry.last_error == "HTTP 503"
    # The first retry waits between half the base delay and all of it (one second).
    assert NOW + timedelta(seconds=0.5) <= retry.next_attempt_at <= NOW + timedelta(seconds=1)
    assert audited(uows) == [("notification.attempt", "retry", 1)]
    assert uows.data.alerts == {}
    clock.advance(timedelta(seconds=1))
    [again] = deliveries.claim(10)
    assert again.claim.delivery.attempts == 2


def test_the_last_attempt_failing_dead_letters_it_and_alerts_the_receiver(
        uows: FakeUnitOfWorkFactory, clock: FixedClock, envelopes: Envelopes,
        signer: FakeSigner, deliveries: DeliveryService) -> None:
    once = worker(uows, clock, envelopes, signer, attempts=1)
    once.settle([(outgoing, "HTTP 500") for outgoing in once.claim(10)])
    assert stored(uows).status is DeliveryStatus.FAILED
    [alert] = uows.data.alerts.values()
    assert (alert.rule, alert.provider_id, alert.agreement_id) == (DEAD_LETTER_RULE, CONSUMER, 1)
    assert alert.evidence == {"delivery": "d1", "report": "r1", "attempts": 1,
                              "last_error": "HTTP 500"}
    assert audited(uows) == [("notification.attempt", "dead_lettered", 1)]


def test_a_notification_that_cannot_be_opened_is_dead_lettered_at_once(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory) -> None:
    sealed = dict(uows.data.sealed["d1"])
    sealed["ciphertext"] = sealed["ciphertext"][:-4] + "AAAA"
    uows.data.sealed["d1"] = sealed
    assert deliveries.claim(10) == []
    assert stored(uows).status is DeliveryStatus.FAILED
    assert "cannot be opened" in (stored(uows).last_error or "")
    assert [a.rule for a in uows.data.alerts.values()] == [DEAD_LETTER_RULE]


def test_a_suspended_agreement_holds_its_delivery_and_gives_the_attempt_back(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.agreements[1].status = AgreementStatus.SUSPENDED
    assert deliveries.claim(10) == []
    held = stored(uows)
    assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 0)
    assert held.next_attempt_at > NOW
    assert uows.data.audit == []


def test_an_ended_agreement_fails_its_delivery_unsent(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.agreements[1].status = AgreementStatus.REVOKED
    assert deliveries.claim(10) == []
    assert stored(uows).status is DeliveryStatus.FAILED
    assert stored(uows).last_error == "the notification agreement is revoked: not delivered"


def test_a_receiver_without_an_endpoint_gets_it_in_its_inbox(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory) -> None:
    del uows.data.endpoints[CONSUMER]
    assert deliveries.claim(10) == []
    assert (stored(uows).mode, stored(uows).attempts) == ("inbox", 0)


def test_an_outcome_is_written_only_while_its_claim_stands(
        deliveries: DeliveryService, uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    [stalled] = deliveries.claim(10)
    clock.advance(LEASE)  # the lease ends: another worker takes it again, and delivers it
    [retaken] = deliveries.claim(10)
    deliveries.settle([(retaken, None)])
    deliveries.settle([(stalled, "timed out")])  # the stalled worker's answer, late
    assert stored(uows).status is DeliveryStatus.DELIVERED
    assert audited(uows) == [("notification.attempt", "delivered", 2),
                             ("notification.attempt", "stale", 1)]


def test_idle_workers_poll_without_a_write(deliveries: DeliveryService,
                                           uows: FakeUnitOfWorkFactory) -> None:
    uows.data.deliveries["d1"] = replace(stored(uows), status=DeliveryStatus.DELIVERED)
    uows.opened.clear()
    assert deliveries.claim(10) == []
    assert [u.write for u in uows.opened] == [False]


def test_a_rung_claim_takes_without_looking_first_and_an_unrung_one_looks(
        deliveries: DeliveryService, monkeypatch: pytest.MonkeyPatch) -> None:
    looks: list[bool] = []
    real = FakeLifeEvents.any_due
    monkeypatch.setattr(FakeLifeEvents, "any_due",
                        lambda self, now: looks.append(True) or real(self, now))
    [outgoing] = deliveries.claim(10, rung=True)  # the doorbell said deliveries were queued
    assert outgoing.claim.delivery.id == "d1" and looks == []
    assert deliveries.claim(10) == [] and looks == [True]
