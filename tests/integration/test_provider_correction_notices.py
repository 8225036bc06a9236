"""A provider told of a correction to its own record through tell-us-once delivery, under
no agreement: delivered by webhook, or dead-lettered with its guardians alerted when its
receiver keeps failing. On SQLite and PostgreSQL."""

from __future__ import annotations

from onceonly.domain.life_events import DeliveryStatus
from onceonly.services.delivery import DEAD_LETTER_RULE, NO_AGREEMENT
from tests.integration.test_tell_us_once import (
    FakeTransport,
    deliver_all,
    principal,
    webhooks_for,
    worker,
)


def tell_hmrc(exchange, world, correction_id: int = 7) -> None:
    with exchange.uows(write=True) as uow:
        exchange.accuracy.notifier.tell_provider(
            uow, provider_id="GOV/HMRC", subject=("nino", world.citizen_ids["nino"]),
            person_key=world.citizen_ids["person_key"], dataset_id="GOV/HMRC/income",
            field="address", value="1 New Street", correction_id=correction_id)
        uow.commit()


def test_the_notice_reaches_the_providers_receiver_under_no_agreement(exchange, world):
    webhooks_for(exchange, world, ["GOV/HMRC"])
    tell_hmrc(exchange, world)
    transport = FakeTransport()
    deliver_all(worker(exchange), transport, rounds=1)
    ((url, note),) = transport.sent
    assert url.endswith("GOV/HMRC") and note["type"] == "gov.onceonly.record.corrected"
    assert note["data"] == {"dataset": "GOV/HMRC/income", "field": "address",
                            "value": "1 New Street", "correction_id": 7}


def test_a_notice_its_receiver_keeps_refusing_is_dead_lettered_and_alerted(
        exchange, world, clock):
    webhooks_for(exchange, world, ["GOV/HMRC"])
    tell_hmrc(exchange, world)
    down = FakeTransport(lambda url: "HTTP 503")
    deliver_all(worker(exchange, max_attempts=2, base_seconds=1, cap_seconds=2), down, clock)
    guardian = principal(world, "guardian:GOV/HMRC")
    (failed,) = exchange.life_events.dead_letters(guardian)
    assert (failed.status, failed.agreement_id, failed.last_error) == (
        DeliveryStatus.FAILED, None, "HTTP 503")
    (alert,) = [a for a in exchange.anomaly.alerts(guardian) if a.rule == DEAD_LETTER_RULE]
    assert (alert.agreement_id, alert.evidence["delivery"]) == (NO_AGREEMENT, failed.id)
