"""Accuracy challenges on fakes: a citizen challenges a value the provider holds about
them; the provider's guardian rejects it, or corrects the provider's store and every
consumer that received the old value and keeps it is told, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from onceonly.domain.accuracy import ChallengeStatus
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.services.accuracy import AccuracyService, InboxCorrectionNotifier
from onceonly.services.ports.accuracy import CorrectionsUnitOfWork
from onceonly.services.queries import QueryCommand, QueryService
from tests.fakes.clock import FixedClock
from tests.fakes.connectors import FakeConnectors
from tests.fakes.keys import FakeSigner
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, principal
from tests.unit.services.conftest import CONSUMER, NINO, PERSON, PROVIDER

CITIZEN = Principal("citizen-1", "Ann", "CITIZENS", Role.CITIZEN, PERSON)
GUARDIAN = principal(PROVIDER, Role.GUARDIAN)
OFFICER = principal(CONSUMER, Role.OFFICER)


@pytest.fixture
def accuracy(uows: FakeUnitOfWorkFactory, connectors: FakeConnectors,
               clock: FixedClock) -> AccuracyService:
    return AccuracyService(uows, connectors, clock, InboxCorrectionNotifier(clock))


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def raised(accuracy: AccuracyService) -> int:
    challenge = accuracy.raise_challenge(CITIZEN, INCOME.id, "full_name", "misspelt",
                                           "Anne Example")
    assert challenge.id is not None
    return challenge.id


def test_a_citizen_challenges_a_value_once_at_a_time(
        accuracy: AccuracyService, uows: FakeUnitOfWorkFactory) -> None:
    challenge_id = raised(accuracy)
    stored = uows.data.challenges[challenge_id]
    assert (stored.status, stored.provider_id, stored.person_key) == (
        ChallengeStatus.OPEN, PROVIDER, PERSON)
    again = refusal(accuracy.raise_challenge, CITIZEN, INCOME.id, "full_name", "still", None)
    assert (again.kind, again.code) == (ErrorKind.CONFLICT, "challenge_open")
    assert [c.id for c in accuracy.mine(CITIZEN)] == [challenge_id]
    assert [(r.entry.action, r.entry.outcome) for r in uows.data.audit] == [
        ("challenge.raise", "done"), ("challenge.raise", "deny")]
    assert "misspelt" not in str(uows.data.audit)


@pytest.mark.parametrize(("field", "kind", "code"), [
    ("conditions", ErrorKind.FORBIDDEN, "field_not_visible"),  # special category
    ("shoe_size", ErrorKind.FORBIDDEN, "field_not_visible"),
])
def test_only_a_visible_field_is_challenged(accuracy: AccuracyService,
                                            uows: FakeUnitOfWorkFactory, field: str,
                                            kind: ErrorKind, code: str) -> None:
    error = refusal(accuracy.raise_challenge, CITIZEN, INCOME.id, field, "wrong", None)
    assert (error.kind, error.code) == (kind, code)
    assert uows.data.challenges == {}
    assert uows.data.audit[-1].entry.reason == code


def test_a_record_the_provider_does_not_hold_is_not_challenged(
        accuracy: AccuracyService, connectors: FakeConnectors) -> None:
    connectors.stores[INCOME.id].clear()
    error = refusal(accuracy.raise_challenge, CITIZEN, INCOME.id, "full_name", "x", None)
    assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "record_unknown")


def test_a_guardian_of_the_provider_rejects_it_saying_why(
        accuracy: AccuracyService, uows: FakeUnitOfWorkFactory) -> None:
    challenge_id = raised(accuracy)
    other = refusal(accuracy.reject, principal("GOV/DVLA", Role.GUARDIAN), challenge_id,
                    "no")
    assert (other.kind, other.code) == (ErrorKind.NOT_FOUND, "challenge_unknown")
    rejected = accuracy.reject(GUARDIAN, challenge_id, "the record is right")
    assert rejected.status is ChallengeStatus.REJECTED
    late = refusal(accuracy.reject, GUARDIAN, challenge_id, "again")
    assert (late.kind, late.code) == (ErrorKind.CONFLICT, "challenge_closed")


def test_a_correction_is_written_and_told_to_whoever_received_the_old_value(
        accuracy: AccuracyService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors, clock: FixedClock) -> None:
    release = QueryService(uows, connectors, clock, FakeSigner()).query(OFFICER, QueryCommand(
        1, "nino", NINO, ("full_name",), "benefit-entitlement"))
    challenge_id = raised(accuracy)
    done = accuracy.correct(GUARDIAN, challenge_id, "Anne Example", "checked the register")
    assert done.challenge.status is ChallengeStatus.CORRECTED
    assert connectors.stores[INCOME.id][NINO]["full_name"] == "Anne Example"
    [recipient] = done.notified
    assert (recipient.consumer_id, recipient.agreement_id, recipient.fields,
            recipient.release_ids) == (CONSUMER, 1, ("full_name",), (release.release_id,))
    [notice] = accuracy.notices(OFFICER)
    assert (notice["correction_id"], notice["field"], notice["release_ids"]) == (
        done.correction_id, "full_name", [release.release_id])
    actions = [r.entry.action for r in uows.data.audit]
    assert actions[-2:] == ["correction.notify", "challenge.correct"]
    assert uows.data.audit[-1].entry.detail["notified"] == 1


def test_a_correction_that_changes_nothing_is_refused_and_the_challenge_reopened(
        accuracy: AccuracyService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    challenge_id = raised(accuracy)
    error = refusal(accuracy.correct, GUARDIAN, challenge_id, "Ann Example", "same")
    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "no_change")
    assert uows.data.challenges[challenge_id].status is ChallengeStatus.OPEN
    assert uows.data.audit[-1].entry.reason == "no_change"


def test_a_correction_not_recorded_is_taken_back_from_the_store(
        uows: FakeUnitOfWorkFactory, connectors: FakeConnectors, clock: FixedClock) -> None:
    class Failing:
        def notify(self, uow: CorrectionsUnitOfWork, *, consumer_id: str, agreement_id: int,
                   person_key: str, field: str, correction_id: int,
                   release_ids: Sequence[str] = ()) -> None:
            raise RuntimeError("the outbox is away")

    QueryService(uows, connectors, clock, FakeSigner()).query(OFFICER, QueryCommand(
        1, "nino", NINO, ("full_name",), "benefit-entitlement"))
    accuracy = AccuracyService(uows, connectors, clock, Failing())
    challenge_id = raised(accuracy)
    with pytest.raises(RuntimeError):
        accuracy.correct(GUARDIAN, challenge_id, "Anne Example", "checked")
    assert connectors.stores[INCOME.id][NINO]["full_name"] == "Ann Example"
    assert uows.data.challenges[challenge_id].status is ChallengeStatus.OPEN
    assert uows.data.corrections == {} and uows.data.notices == {}


def test_challenges_are_for_citizens_and_the_queue_for_guardians(
        accuracy: AccuracyService, uows: FakeUnitOfWorkFactory) -> None:
    error = refusal(accuracy.raise_challenge, OFFICER, INCOME.id, "full_name", "x", None)
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    challenge_id = raised(accuracy)
    [item] = accuracy.queue(GUARDIAN)
    assert item.challenge.id == challenge_id
    assert item.subject == {"scheme": "nino", "value": NINO}
    assert accuracy.queue(principal("GOV/DVLA", Role.GUARDIAN)) == []
    assert refusal(accuracy.queue, CITIZEN).code == "role_not_allowed"
