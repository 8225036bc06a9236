"""Bulk extracts on fakes: asked for by the consumer's officer, approved by the provider's
guardian, built with only the agreed fields of the people the provider holds, kept only
encrypted to the consumer's key and handed over once; each step and refusal audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc.jwk import OKPKey

from onceonly.crypto.jwe import decrypt_with
from onceonly.domain.agreements import LegalBasis
from onceonly.domain.consent import Consent
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.services.bulk import BulkService
from tests.fakes.clock import FixedClock
from tests.fakes.connectors import FakeConnectors
from tests.fakes.consents import FakeConsentRegistry
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, NOW, principal
from tests.unit.services.conftest import CONSUMER, NINO, PERSON, PROVIDER

OFFICER = principal(CONSUMER, Role.OFFICER)
GUARDIAN = principal(PROVIDER, Role.GUARDIAN)
PURPOSE = "benefit-entitlement"
OTHER_NINO = "CD654321A"  # known to the index, not to the provider's store
KEY = OKPKey.generate_key("X25519")
PUBLIC, PRIVATE = dict(KEY.as_dict(private=False)), dict(KEY.as_dict(private=True))


@pytest.fixture
def extracts(uows: FakeUnitOfWorkFactory, connectors: FakeConnectors,
             clock: FixedClock) -> BulkService:
    uows.data.agreements[1].bulk_max_records = 3
    uows.data.links["nino", OTHER_NINO] = "person-2"
    return BulkService(uows, connectors, FakeConsentRegistry(), clock)


COHORT = [("nino", NINO), ("nino", OTHER_NINO), ("nino", "ZZ000000Z")]


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_an_approved_extract_holds_the_agreed_fields_of_the_people_held_once(
        extracts: BulkService, uows: FakeUnitOfWorkFactory) -> None:
    asked = extracts.request(OFFICER, 1, PURPOSE, COHORT, PUBLIC)
    assert asked.id is not None and asked.status == "requested"
    approved = extracts.approve(GUARDIAN, asked.id, "fine")
    assert (approved.status, approved.records, approved.cohort) == ("approved", 1, None)
    assert approved.jwe is not None
    content = json.loads(decrypt_with(PRIVATE, approved.jwe))
    assert content["fields"] == ["income_band", "full_name"]
    assert content["records"] == [{
        "subject": {"scheme": "nino", "value": NINO}, "asked_as": {"scheme": "nino",
                                                                   "value": NINO},
        "data": {"income_band": "12571-50270", "full_name": "Ann Example"}}]
    jwe = extracts.download(OFFICER, asked.id)
    assert jwe == approved.jwe
    assert uows.data.bulk[asked.id].jwe is None  # handed over once: no longer kept
    again = refusal(extracts.download, OFFICER, asked.id)
    assert (again.kind, again.code) == (ErrorKind.GONE, "already_downloaded")
    steps = [(r.entry.action, r.entry.outcome, r.entry.detail.get("records"))
             for r in uows.data.audit]
    assert steps == [("bulk.request", "done", None), ("bulk.approve", "done", 1),
                     ("bulk.download", "done", 1), ("bulk.download", "deny", None)]
    assert "Ann" not in str(uows.data.audit)


@pytest.mark.parametrize(("who", "purpose", "cohort", "kind", "code"), [
    (principal(PROVIDER, Role.OFFICER), PURPOSE, COHORT, ErrorKind.FORBIDDEN,
     "not_agreement_party"),
    (OFFICER, "fraud", COHORT, ErrorKind.FORBIDDEN, "purpose_mismatch"),
    (OFFICER, PURPOSE, [], ErrorKind.INVALID, "empty_cohort"),
    (OFFICER, PURPOSE, COHORT + [("nino", "X")], ErrorKind.INVALID, "cohort_too_large"),
    (OFFICER, PURPOSE, [("nino", NINO)] * 2, ErrorKind.INVALID, "duplicate_subject"),
    (OFFICER, PURPOSE, [("dvla_id", "D1")], ErrorKind.FORBIDDEN, "scheme_not_yours"),
    (principal("GOV/DVLA", Role.OFFICER), PURPOSE, COHORT, ErrorKind.NOT_FOUND,
     "agreement_unknown"),
])
def test_a_refused_request_stores_nothing_and_is_audited(
        extracts: BulkService, uows: FakeUnitOfWorkFactory, who: Principal, purpose: str,
        cohort: list[tuple[str, str]], kind: ErrorKind, code: str) -> None:
    error = refusal(extracts.request, who, 1, purpose, cohort, PUBLIC)
    assert (error.kind, error.code) == (kind, code)
    assert uows.data.bulk == {}
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "bulk.request", "deny", code)
    assert record.entry.detail == {"cohort_size": len(cohort)}


def test_a_recipient_key_that_is_not_one_is_refused(extracts: BulkService) -> None:
    error = refusal(extracts.request, OFFICER, 1, PURPOSE, COHORT, {"kty": "oct"})
    assert (error.kind, error.code) == (ErrorKind.INVALID, "recipient_key_invalid")


def test_an_agreement_without_bulk_allows_none(extracts: BulkService,
                                               uows: FakeUnitOfWorkFactory) -> None:
    uows.data.agreements[1].bulk_max_records = None
    assert refusal(extracts.request, OFFICER, 1, PURPOSE, COHORT, PUBLIC).code == (
        "bulk_not_allowed")


def test_only_the_providers_guardian_decides_and_once(extracts: BulkService,
                                                      uows: FakeUnitOfWorkFactory) -> None:
    asked = extracts.request(OFFICER, 1, PURPOSE, COHORT, PUBLIC)
    other = refusal(extracts.approve, principal("GOV/DVLA", Role.GUARDIAN), asked.id, "ok")
    assert (other.kind, other.code) == (ErrorKind.NOT_FOUND, "bulk_extract_unknown")
    rejected = extracts.reject(GUARDIAN, asked.id, "too many")
    assert (rejected.status, rejected.jwe) == ("rejected", None)
    late = refusal(extracts.approve, GUARDIAN, asked.id, "on second thoughts")
    assert (late.kind, late.code) == (ErrorKind.CONFLICT, "already_decided")
    not_approved = refusal(extracts.download, OFFICER, asked.id)
    assert (not_approved.kind, not_approved.code) == (ErrorKind.CONFLICT, "not_approved")


def test_an_approved_extract_expires(extracts: BulkService, clock: FixedClock) -> None:
    asked = extracts.request(OFFICER, 1, PURPOSE, COHORT, PUBLIC)
    approved = extracts.approve(GUARDIAN, asked.id, "fine")
    assert approved.expires_at is not None
    clock.at = approved.expires_at
    error = refusal(extracts.download, OFFICER, asked.id)
    assert (error.kind, error.code) == (ErrorKind.GONE, "extract_expired")


def test_under_consent_only_people_who_consented_are_in_it(
        extracts: BulkService, uows: FakeUnitOfWorkFactory, connectors: FakeConnectors) -> None:
    uows.data.agreements[1].legal_basis = LegalBasis.CONSENT
    connectors.add(INCOME.id, OTHER_NINO, full_name="Bob", annual_income=90000)
    uows.data.links["nino", OTHER_NINO] = "person-2"
    uows.data.consents["c1"] = (Consent(
        "c1", PERSON, PURPOSE, None, ("income_band", "full_name"), NOW - timedelta(days=1),
        NOW + timedelta(days=1)), "receipt", None)
    asked = extracts.request(OFFICER, 1, PURPOSE, COHORT, PUBLIC)
    approved = extracts.approve(GUARDIAN, asked.id, "fine")
    assert approved.jwe is not None
    records = json.loads(decrypt_with(PRIVATE, approved.jwe))["records"]
    assert [r["asked_as"]["value"] for r in records] == [NINO]
