"""Accuracy challenges through the service layer, on SQLite and PostgreSQL: the citizen
challenges a value, the provider's guardian corrects the provider's own store, and every
consumer that received the old value within its retention period is notified."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.domain.errors import DomainError
from onceonly.services.accuracy import AccuracyService
from onceonly.services.queries import QueryCommand

NEW_ADDRESS = "1 Corrected Row, Northtown, NS1 1AA"


def account(world, label):
    return next(a.principal for a in world.accounts if a.label == label)


def citizen(world):
    return replace(account(world, "citizen"), person_key=world.citizen_ids["person_key"])


def acme_asks(exchange, world):
    return exchange.queries.query(account(world, "officer:COM/ACME"), QueryCommand(
        3, "nino", world.citizen_ids["nino"], ("full_name", "address"), "disability-assessment"))


def challenge_address(exchange, world):
    return exchange.accuracy.raise_challenge(citizen(world), "GOV/DWP/benefits", "address",
                                               "I moved last year", NEW_ADDRESS)


def audit(exchange, action):
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)
                            .order_by(t.audit_log.c.seq)).all()


def refused_code(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_a_correction_reaches_the_store_and_every_consumer_that_had_the_old_value(
        exchange, world):
    before = acme_asks(exchange, world)
    assert before.sources == {"full_name": "verified", "address": "citizen-supplied"}
    raised = challenge_address(exchange, world)
    guardian = account(world, "guardian:GOV/DWP")

    queue = exchange.accuracy.queue(guardian)
    assert [(i.challenge.id, i.subject) for i in queue] == [
        (raised.id, {"scheme": "nino", "value": world.citizen_ids["nino"]})]
    assert queue[0].challenge.proposed_value == NEW_ADDRESS

    done = exchange.accuracy.correct(guardian, raised.id, NEW_ADDRESS, "checked the deeds")
    assert done.challenge.status.value == "corrected"
    assert done.challenge.proposed_value is None  # the citizen's words are not kept
    assert [(r.consumer_id, r.agreement_id, r.fields, r.release_ids) for r in done.notified] \
        == [("COM/ACME", 3, ("address",), (before.release_id,))]
    assert acme_asks(exchange, world).data["address"] == NEW_ADDRESS  # the provider's store

    notices = exchange.accuracy.notices(account(world, "officer:COM/ACME"))
    assert [(n["correction_id"], n["agreement_id"], n["field"], n["release_ids"])
            for n in notices] == [(done.correction_id, 3, "address", [before.release_id])]
    assert exchange.accuracy.notices(account(world, "officer:GOV/DWP")) == []
    notify = audit(exchange, "correction.notify")[-1]
    assert (notify.org_id, notify.person_key, notify.fields) == (
        "COM/ACME", world.citizen_ids["person_key"], ["address"])
    assert [r.outcome for r in audit(exchange, "challenge.correct")] == ["done"]
    # The new value travels to consumers, never into the audit log.
    assert NEW_ADDRESS not in str([tuple(r) for r in audit(exchange, "challenge.correct")])

    assert refused_code(lambda: exchange.accuracy.correct(
        guardian, raised.id, "2 Other Road", "again")) == "challenge_closed"


def test_a_consumer_past_its_retention_period_is_not_notified(exchange, world, clock):
    acme_asks(exchange, world)
    raised = challenge_address(exchange, world)
    clock.advance(timedelta(days=91))  # ACME keeps what it received for 90 days
    try:
        done = exchange.accuracy.correct(account(world, "guardian:GOV/DWP"), raised.id,
                                           NEW_ADDRESS, "checked")
    finally:
        clock.advance(timedelta(days=-91))
    assert done.notified == []


@pytest.mark.parametrize(("dataset", "field", "code"), [
    ("NHS/NHSE/patient-record", "conditions", "field_not_visible"),  # special category
    ("GOV/DWP/benefits", "annual_income", "field_not_visible"),  # not in the dataset
    ("GOV/NOBODY/nothing", "address", "dataset_unknown"),
])
def test_a_challenge_of_what_the_citizen_cannot_see_is_refused_and_audited(
        exchange, world, dataset, field, code):
    assert refused_code(lambda: exchange.accuracy.raise_challenge(
        citizen(world), dataset, field, "wrong", None)) == code
    row = audit(exchange, "challenge.raise")[-1]
    assert (row.outcome, row.reason) == ("deny", code)
    assert exchange.accuracy.mine(citizen(world)) == []


def test_a_record_the_provider_does_not_hold_cannot_be_challenged(exchange, world):
    nobody = replace(citizen(world), person_key="no-such-person")
    assert refused_code(lambda: exchange.accuracy.raise_challenge(
        nobody, "GOV/DWP/benefits", "address", "wrong", None)) == "record_unknown"


def test_one_open_challenge_per_field(exchange, world):
    challenge_address(exchange, world)
    assert refused_code(lambda: challenge_address(exchange, world)) == "challenge_open"


def test_only_the_providers_guardian_decides(exchange, world):
    raised = challenge_address(exchange, world)
    other = account(world, "guardian:GOV/HMRC")
    assert refused_code(lambda: exchange.accuracy.correct(other, raised.id, "x", "y")) \
        == "challenge_unknown"
    assert refused_code(lambda: exchange.accuracy.reject(
        account(world, "officer:GOV/DWP"), raised.id, "no")) == "role_not_allowed"
    assert exchange.accuracy.queue(other) == []


def test_a_rejection_closes_the_challenge_and_changes_no_record(exchange, world):
    before = acme_asks(exchange, world).data["address"]
    raised = challenge_address(exchange, world)
    guardian = account(world, "guardian:GOV/DWP")
    rejected = exchange.accuracy.reject(guardian, raised.id, "our record is right")
    assert (rejected.status.value, rejected.reason) == ("rejected", "our record is right")
    assert acme_asks(exchange, world).data["address"] == before
    assert refused_code(lambda: exchange.accuracy.correct(
        guardian, raised.id, NEW_ADDRESS, "changed my mind")) == "challenge_closed"


def test_a_correction_must_change_the_value_and_have_its_type(exchange, world):
    current = acme_asks(exchange, world).data["address"]
    raised = challenge_address(exchange, world)
    guardian = account(world, "guardian:GOV/DWP")
    assert refused_code(lambda: exchange.accuracy.correct(
        guardian, raised.id, 12, "a number")) == "value_type_mismatch"
    assert refused_code(lambda: exchange.accuracy.correct(
        guardian, raised.id, current, "same")) == "no_change"
    # Neither refusal left the challenge claimed: it can still be corrected.
    exchange.accuracy.correct(guardian, raised.id, NEW_ADDRESS, "checked")


def test_of_two_guardians_correcting_at_once_exactly_one_writes(exchange, world):
    raised = challenge_address(exchange, world)
    guardian = account(world, "guardian:GOV/DWP")
    second = replace(guardian, id="gov_dwp.guardian-2")
    results: list[str] = []
    start = threading.Barrier(2)

    def correct(who, value) -> None:
        start.wait()
        try:
            exchange.accuracy.correct(who, raised.id, value, "checked")
            results.append(value)
        except DomainError as error:
            results.append(error.code)

    threads = [threading.Thread(target=correct, args=(who, value)) for who, value in
               ((guardian, NEW_ADDRESS), (second, "9 Rival Street, Northtown, NS2 2BB"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("challenge_closed") == 1
    winner = next(r for r in results if r != "challenge_closed")
    assert acme_asks(exchange, world).data["address"] == winner
    assert len(audit(exchange, "challenge.correct")) == 2  # one done, one refused


class RecordingNotifier:
    """A fake of the CorrectionNotifier port: notes each notice; or fails, like a delivery
    adapter whose outbox write breaks."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.notices: list[dict[str, object]] = []

    def notify(self, uow, **notice) -> None:
        if self.fail:
            raise RuntimeError("the outbox is unavailable")
        self.notices.append(notice)


def service_with(exchange, notifier):
    return AccuracyService(exchange.uows, exchange.connectors, exchange.clock, notifier)


def test_the_notifier_port_hears_each_recipient(exchange, world):
    seen = acme_asks(exchange, world)
    raised = challenge_address(exchange, world)
    notifier = RecordingNotifier()
    done = service_with(exchange, notifier).correct(account(world, "guardian:GOV/DWP"),
                                                    raised.id, NEW_ADDRESS, "checked")
    assert notifier.notices == [{
        "consumer_id": "COM/ACME", "agreement_id": 3,
        "person_key": world.citizen_ids["person_key"], "field": "address",
        "correction_id": done.correction_id, "release_ids": (seen.release_id,)}]


def test_a_correction_that_cannot_notify_is_not_made(exchange, world):
    before = acme_asks(exchange, world).data["address"]
    raised = challenge_address(exchange, world)
    guardian = account(world, "guardian:GOV/DWP")
    with pytest.raises(RuntimeError):
        service_with(exchange, RecordingNotifier(fail=True)).correct(
            guardian, raised.id, NEW_ADDRESS, "checked")
    assert acme_asks(exchange, world).data["address"] == before  # the store is put back
    with exchange.engine.connect() as conn:
        assert conn.execute(select(t.corrections)).all() == []
    assert exchange.accuracy.mine(citizen(world))[0].status.value == "open"
    done = exchange.accuracy.correct(guardian, raised.id, NEW_ADDRESS, "checked again")
    assert [r.consumer_id for r in done.notified] == ["COM/ACME"]
