"""Citizens' consents on fakes: grant and withdraw with signed receipts, the refusals
(with what the audit log records of them), listing, and the preview of a release."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from onceonly.crypto.signing import verify_compact
from onceonly.domain.agreements import LegalBasis
from onceonly.domain.consent import Consent
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.services.consents import ConsentService, Receipt
from tests.fakes.clock import FixedClock
from tests.fakes.connectors import FakeConnectors
from tests.fakes.keys import FakeSigner
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, NOW, principal
from tests.unit.services.conftest import CONSUMER, NINO, PERSON

OPERATOR = "GOV/EXCHANGE"
CITIZEN = Principal("citizen-1", "Ann", "CITIZENS", Role.CITIZEN, PERSON)
SOMEONE_ELSE = Principal("citizen-2", "Bob", "CITIZENS", Role.CITIZEN, "person-2")
PURPOSE = "benefit-entitlement"


@pytest.fixture
def signer() -> FakeSigner:
    return FakeSigner()


@pytest.fixture
def consents(uows: FakeUnitOfWorkFactory, connectors: FakeConnectors, clock: FixedClock,
             signer: FakeSigner) -> ConsentService:
    return ConsentService(uows, connectors, clock, signer, OPERATOR,
                          policy_url="https://example.org/privacy")


def grant(consents: ConsentService, who: Principal = CITIZEN,
          **changes: object) -> tuple[Consent, Receipt]:
    args: dict[str, object] = {"purpose": PURPOSE, "consumer_id": CONSUMER,
                               "fields": ["full_name"], "expires_at": NOW + timedelta(days=30)}
    return consents.grant(who, **(args | changes))  # type: ignore[arg-type]


def refusal(call: object, *args: object, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_a_grant_is_stored_with_a_receipt_signed_by_the_operator(
        consents: ConsentService, uows: FakeUnitOfWorkFactory, signer: FakeSigner) -> None:
    consent, receipt = consents.grant(CITIZEN, PURPOSE, CONSUMER, ["full_name"],
                                      NOW + timedelta(days=30))
    assert (consent.person_key, consent.fields, consent.granted_at) == (
        PERSON, ("full_name",), NOW)
    payload, _ = verify_compact(receipt.jws, signer.jwks(), OPERATOR)
    assert json.loads(payload) == receipt.document
    assert uows.data.consents[consent.id] == (consent, receipt.jws, None)
    [record] = uows.data.audit
    entry = record.entry
    assert (entry.action, entry.outcome, entry.person_key, entry.purpose) == (
        "consent.grant", "done", PERSON, PURPOSE)


@pytest.mark.parametrize(("changes", "code"), [
    ({"purpose": "no-such-purpose"}, "purpose_unknown"),
    ({"consumer_id": "GOV/DVLA"}, "consumer_not_in_purpose"),
    ({"fields": ["annual_income"]}, "field_not_in_purpose"),
    ({"fields": []}, "no_fields"),
    ({"expires_at": NOW}, "expiry_in_past"),
])
def test_a_refused_grant_stores_nothing_and_is_audited(
        consents: ConsentService, uows: FakeUnitOfWorkFactory, changes: dict[str, object],
        code: str) -> None:
    error = refusal(grant, consents, **changes)
    assert (error.kind, error.code) == (ErrorKind.INVALID, code)
    assert uows.data.consents == {}
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason,
            record.entry.person_key) == ("consent.grant", "deny", code, PERSON)


def test_only_a_citizen_with_a_person_consents(consents: ConsentService,
                                               uows: FakeUnitOfWorkFactory) -> None:
    officer = refusal(grant, consents, principal(CONSUMER, Role.OFFICER))
    assert (officer.kind, officer.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    nobody = refusal(grant, consents, Principal("c", "C", "CITIZENS", Role.CITIZEN))
    assert (nobody.kind, nobody.code) == (ErrorKind.NOT_FOUND, "person_unknown")
    assert [(r.entry.action, r.entry.reason) for r in uows.data.audit] == [
        ("consent.grant", "role_not_allowed"), ("consent.grant", "person_unknown")]
    assert uows.data.consents == {}


def test_a_withdrawal_is_recorded_once_with_its_own_receipt(
        consents: ConsentService, uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    consent, _ = grant(consents)
    clock.advance(timedelta(hours=1))
    withdrawn, receipt = consents.withdraw(CITIZEN, consent.id)
    assert withdrawn.withdrawn_at == clock.now()
    stored, _, withdrawal = uows.data.consents[consent.id]
    assert stored.withdrawn_at == clock.now() and withdrawal == receipt.jws
    again = refusal(consents.withdraw, CITIZEN, consent.id)
    assert (again.kind, again.code) == (ErrorKind.CONFLICT, "already_withdrawn")
    assert [(r.entry.action, r.entry.outcome) for r in uows.data.audit] == [
        ("consent.grant", "done"), ("consent.withdraw", "done"), ("consent.withdraw", "deny")]


def test_someone_elses_consent_is_unknown_to_the_caller_but_named_in_the_audit(
        consents: ConsentService, uows: FakeUnitOfWorkFactory) -> None:
    consent, _ = grant(consents)
    theirs = refusal(consents.withdraw, SOMEONE_ELSE, consent.id)
    missing = refusal(consents.withdraw, SOMEONE_ELSE, "no-such-id")
    assert (theirs.kind, theirs.code, theirs.detail) == (
        missing.kind, missing.code, missing.detail)
    assert theirs.code == "consent_unknown"
    assert uows.data.consents[consent.id][0].withdrawn_at is None
    theirs_entry, missing_entry = (r.entry for r in uows.data.audit[1:])
    assert (theirs_entry.reason, theirs_entry.person_key) == ("consent_not_yours", None)
    assert (missing_entry.reason, missing_entry.person_key) == ("consent_unknown", "person-2")


def test_a_citizen_lists_their_own_consents_newest_first(
        consents: ConsentService, clock: FixedClock) -> None:
    first, _ = grant(consents)
    clock.advance(timedelta(minutes=1))
    second, _ = grant(consents, consumer_id=None)
    assert [v.consent.id for v in consents.list(CITIZEN)] == [second.id, first.id]
    assert consents.list(SOMEONE_ELSE) == []


def test_a_preview_shows_what_a_consent_agreement_would_release_and_is_audited(
        consents: ConsentService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    uows.data.agreements[1].legal_basis = LegalBasis.CONSENT
    preview = consents.preview(CITIZEN, 1)
    assert preview.data == {"income_band": "12571-50270", "full_name": "Ann Example"}
    assert connectors.fetched == [(INCOME.id, NINO, ("annual_income", "full_name"))]
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.person_key) == (
        "consent.preview", "done", PERSON)
    assert "Ann" not in str(record.entry)


def test_a_preview_is_refused_where_consent_is_not_the_basis_or_there_is_no_record(
        consents: ConsentService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    not_needed = refusal(consents.preview, CITIZEN, 1)
    assert (not_needed.kind, not_needed.code) == (ErrorKind.CONFLICT, "consent_not_needed")
    uows.data.agreements[1].legal_basis = LegalBasis.CONSENT
    connectors.stores[INCOME.id].clear()
    no_record = refusal(consents.preview, CITIZEN, 1)
    assert (no_record.kind, no_record.code) == (ErrorKind.NOT_FOUND, "subject_unknown")
    unknown = refusal(consents.preview, CITIZEN, 42)
    assert (unknown.kind, unknown.code) == (ErrorKind.NOT_FOUND, "agreement_unknown")
    assert [(r.entry.outcome, r.entry.reason, r.entry.agreement_id)
            for r in uows.data.audit] == [("deny", "consent_not_needed", 1),
                                          ("deny", "subject_unknown", 1),
                                          ("deny", "agreement_unknown", None)]
