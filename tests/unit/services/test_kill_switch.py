"""The kill switch on fakes: pulling suspends exactly the consumer's approved agreements
with the guardian's organisation; restoring resumes exactly those still suspended."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.kill_switch import KillSwitchService
from tests.fakes.clock import FixedClock
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW, agreement, principal
from tests.unit.services.conftest import CONSUMER, PROVIDER

GUARDIAN = principal(PROVIDER, Role.GUARDIAN)


@pytest.fixture
def switches(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> KillSwitchService:
    # Beside agreement 1: another of the consumer's, one still a draft, another consumer's.
    for agreement_id, changes in ((2, {}), (3, {"status": AgreementStatus.DRAFT}),
                                  (4, {"consumer_id": "GOV/DVLA"})):
        uows.data.agreements[agreement_id] = agreement(id=agreement_id, version=1, **changes)
    return KillSwitchService(uows, clock)


def status(uows: FakeUnitOfWorkFactory) -> dict[int, AgreementStatus]:
    return {i: a.status for i, a in uows.data.agreements.items()}


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_pulling_suspends_the_consumers_approved_agreements_at_once(
        switches: KillSwitchService, uows: FakeUnitOfWorkFactory) -> None:
    switch = switches.pull(GUARDIAN, CONSUMER, "a breach")
    assert switch.id == 1 and switch.agreement_ids == (1, 2)
    assert status(uows) == {1: AgreementStatus.SUSPENDED, 2: AgreementStatus.SUSPENDED,
                            3: AgreementStatus.DRAFT, 4: AgreementStatus.APPROVED}
    assert uows.data.agreements[1].history[-1].reason == "kill switch: a breach"
    actions = [(r.entry.action, r.entry.agreement_id) for r in uows.data.audit]
    assert actions == [("agreement.suspend", 1), ("agreement.suspend", 2),
                       ("killswitch.pull", None)]
    assert uows.data.audit[-1].entry.detail == {
        "kill_switch": 1, "consumer": CONSUMER, "agreements": [1, 2], "why": "a breach"}


@pytest.mark.parametrize(("who", "consumer", "reason", "kind", "code"), [
    (principal(PROVIDER, Role.OFFICER), CONSUMER, "x", ErrorKind.FORBIDDEN,
     "not_provider_guardian"),
    (GUARDIAN, PROVIDER, "x", ErrorKind.INVALID, "self_kill_switch"),
    (GUARDIAN, CONSUMER, "  ", ErrorKind.INVALID, "reason_required"),
    (GUARDIAN, "GOV/NOBODY", "x", ErrorKind.NOT_FOUND, "organisation_unknown"),
])
def test_a_refused_pull_suspends_nothing_and_is_audited(
        switches: KillSwitchService, uows: FakeUnitOfWorkFactory, who: object,
        consumer: str, reason: str, kind: ErrorKind, code: str) -> None:
    before = status(uows)
    error = refusal(switches.pull, who, consumer, reason)
    assert (error.kind, error.code) == (kind, code)
    assert status(uows) == before and uows.data.kill_switches == {}
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "killswitch.pull", "deny", code)


def test_restoring_resumes_only_what_the_switch_suspended_and_is_still_suspended(
        switches: KillSwitchService, uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    uows.data.agreements[5] = agreement(id=5, version=1, status=AgreementStatus.SUSPENDED)
    switch = switches.pull(GUARDIAN, CONSUMER, "a breach")
    assert switch.id is not None
    # Revoked meanwhile: left revoked.
    uows.data.agreements[2] = replace(uows.data.agreements[2], status=AgreementStatus.REVOKED)
    restored = switches.restore(GUARDIAN, switch.id, "mended")
    assert restored.restored_at == NOW and restored.restore_reason == "mended"
    assert status(uows)[1] is AgreementStatus.APPROVED
    assert status(uows)[2] is AgreementStatus.REVOKED
    assert status(uows)[5] is AgreementStatus.SUSPENDED  # suspended before, not by the switch
    assert uows.data.audit[-1].entry.action == "killswitch.restore"
    assert switches.list(GUARDIAN)[0].restored


def test_a_switch_is_restored_once_and_by_its_own_organisation(
        switches: KillSwitchService, uows: FakeUnitOfWorkFactory) -> None:
    switch = switches.pull(GUARDIAN, CONSUMER, "a breach")
    other = refusal(switches.restore, principal("GOV/DVLA", Role.GUARDIAN), switch.id, "x")
    assert (other.kind, other.code) == (ErrorKind.NOT_FOUND, "kill_switch_unknown")
    switches.restore(GUARDIAN, switch.id, "mended")
    again = refusal(switches.restore, GUARDIAN, switch.id, "again")
    assert (again.kind, again.code) == (ErrorKind.CONFLICT, "already_restored")
    denied = [(r.entry.action, r.entry.reason, r.entry.detail) for r in uows.data.audit
              if r.entry.outcome == "deny"]
    assert denied == [("killswitch.restore", "kill_switch_unknown", {"kill_switch": 1}),
                      ("killswitch.restore", "already_restored", {"kill_switch": 1})]


def test_listing_switches_is_for_guardians(switches: KillSwitchService,
                                           uows: FakeUnitOfWorkFactory) -> None:
    switches.pull(GUARDIAN, CONSUMER, "a breach")
    assert [s.consumer_id for s in switches.list(GUARDIAN)] == [CONSUMER]
    assert switches.list(principal("GOV/DVLA", Role.GUARDIAN)) == []
    error = refusal(switches.list, principal(PROVIDER, Role.OFFICER))
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    assert uows.data.audit[-1].entry.action == "killswitch.list"
