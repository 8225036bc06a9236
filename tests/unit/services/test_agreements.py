"""Agreements on fakes: drafting, reading and each lifecycle step, every one audited,
refusals with their codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain.agreements import AgreementStatus, FieldGrant, LegalBasis
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.agreements import AgreementService, DraftCommand
from tests.fakes.clock import FixedClock
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, NOW, assessment, principal
from tests.unit.services.conftest import CONSUMER, PROVIDER

OFFICER = principal(CONSUMER, Role.OFFICER)
GUARDIAN = principal(PROVIDER, Role.GUARDIAN)
STRANGER = principal("GOV/DVLA", Role.OFFICER)


@pytest.fixture
def agreements(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> AgreementService:
    return AgreementService(uows, clock)


def draft(**changes: object) -> DraftCommand:
    base = DraftCommand(
        dataset_id=INCOME.id, grants=[FieldGrant("full_name", "full_name")],
        purpose_code="benefit-entitlement", purpose_text="to work out entitlement",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=NOW,
        valid_until=NOW + timedelta(days=90), max_queries_per_day=100, retention_days=30,
        assessment=assessment())
    return replace(base, **changes)  # type: ignore[arg-type]


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_a_draft_is_stored_and_audited(agreements: AgreementService,
                                       uows: FakeUnitOfWorkFactory) -> None:
    made = agreements.draft(OFFICER, draft())
    assert made.id == 2 and made.status is AgreementStatus.DRAFT
    stored = uows.data.agreements[2]
    assert (stored.consumer_id, stored.provider_id) == (CONSUMER, PROVIDER)
    [record] = uows.data.audit
    entry = record.entry
    assert (entry.action, entry.outcome, entry.agreement_id, entry.provider_id) == (
        "agreement.create", "done", 2, PROVIDER)
    assert entry.detail == {"dataset": INCOME.id}


@pytest.mark.parametrize(("who", "cmd", "code"), [
    (OFFICER, draft(dataset_id="GOV/HMRC/nothing"), "unknown_dataset"),
    (OFFICER, draft(purpose_code="Not A Code"), "invalid_purpose"),
    (OFFICER, draft(grants=[FieldGrant("pay", "annual_income")], max_queries_per_day=0),
     "invalid_limit"),
    (principal(CONSUMER, Role.MANAGER), draft(), None),
])
def test_a_refused_draft_stores_nothing_and_is_audited(
        agreements: AgreementService, uows: FakeUnitOfWorkFactory, who: object,
        cmd: DraftCommand, code: str | None) -> None:
    error = refusal(agreements.draft, who, cmd)
    assert code is None or error.code == code
    assert list(uows.data.agreements) == [1]
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "agreement.create", "deny", error.code)
    assert record.entry.agreement_id is None
    assert record.entry.detail == {"dataset": cmd.dataset_id}


def test_an_agreement_is_seen_by_its_parties_and_managers_only(
        agreements: AgreementService, uows: FakeUnitOfWorkFactory) -> None:
    assert agreements.get(OFFICER, 1).id == 1
    assert agreements.get(principal("GOV/X", Role.MANAGER), 1).id == 1
    hidden, missing = refusal(agreements.get, STRANGER, 1), refusal(agreements.get, OFFICER, 9)
    # "Not yours" and "missing" are the same answer: an id reveals nothing.
    assert (hidden.kind, hidden.code, hidden.detail) == (
        ErrorKind.NOT_FOUND, "agreement_unknown", "no agreement 1 visible to you")
    assert (missing.kind, missing.code) == (ErrorKind.NOT_FOUND, "agreement_unknown")
    assert [(r.entry.action, r.entry.outcome, r.entry.detail) for r in uows.data.audit] == [
        ("agreement.read", "deny", {"requested_agreement": "1"}),
        ("agreement.read", "deny", {"requested_agreement": "9"})]
    assert [a.id for a in agreements.list(STRANGER)] == []
    assert [a.id for a in agreements.list(OFFICER)] == [1]
    assert [a.id for a in agreements.list(principal("GOV/X", Role.ADMIN))] == [1]


def test_the_lifecycle_moves_step_by_step_each_step_audited(
        agreements: AgreementService, uows: FakeUnitOfWorkFactory) -> None:
    made = agreements.draft(OFFICER, draft())
    assert made.id is not None
    submitted = agreements.transition(OFFICER, made.id, "submit", "ready")
    assert submitted.status is AgreementStatus.SUBMITTED and submitted.version == 2
    approved = agreements.transition(GUARDIAN, made.id, "approve", "fine")
    assert approved.status is AgreementStatus.APPROVED
    stored = agreements.get(OFFICER, made.id)
    assert [step.action for step in stored.history] == ["create", "submit", "approve"]
    assert stored.version == 3
    steps = [(r.entry.action, r.entry.outcome, r.entry.detail) for r in uows.data.audit]
    assert steps[1:] == [
        ("agreement.submit", "done", {"from": "draft", "to": "submitted", "why": "ready"}),
        ("agreement.approve", "done", {"from": "submitted", "to": "approved", "why": "fine"})]


def test_a_refused_step_changes_nothing_and_is_audited_with_the_agreement(
        agreements: AgreementService, uows: FakeUnitOfWorkFactory) -> None:
    error = refusal(agreements.transition, OFFICER, 1, "suspend", "stop")
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "not_provider_guardian")
    assert uows.data.agreements[1].status is AgreementStatus.APPROVED
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "agreement.suspend", "deny", "not_provider_guardian")
    assert (record.entry.agreement_id, record.entry.provider_id) == (1, PROVIDER)


def test_a_step_on_an_agreement_not_visible_names_no_agreement(
        agreements: AgreementService, uows: FakeUnitOfWorkFactory) -> None:
    error = refusal(agreements.transition, STRANGER, 1, "revoke", "why not")
    assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "agreement_unknown")
    [record] = uows.data.audit
    assert record.entry.agreement_id is None and record.entry.provider_id is None


def test_a_step_from_the_wrong_state_is_a_conflict(agreements: AgreementService) -> None:
    error = refusal(agreements.transition, GUARDIAN, 1, "resume", "go on")
    assert error.kind is ErrorKind.CONFLICT


def test_an_unknown_action_is_invalid(agreements: AgreementService) -> None:
    error = refusal(agreements.transition, GUARDIAN, 1, "explode", "boom")
    assert (error.kind, error.code) == (ErrorKind.INVALID, "unknown_action")
