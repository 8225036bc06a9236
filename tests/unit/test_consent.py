"""Consents: what a grant is checked against, what a live consent covers, withdrawal, and the
Kantara Consent Receipt v1.1 it is recorded in."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain import consent as c
from onceonly.domain.agreements import LegalBasis
from onceonly.domain.errors import DomainError
from tests.unit.factories import NOW, agreement

BANK = agreement(id=4, consumer_id="COM/NORTHBANK", purpose_code="mortgage-affordability",
                 legal_basis=LegalBasis.CONSENT)
OTHER_LENDER = agreement(id=7, consumer_id="COM/OTHERBANK", purpose_code="mortgage-affordability",
                         legal_basis=LegalBasis.CONSENT)
DWP = agreement(id=1)
AGREEMENTS = [DWP, BANK, OTHER_LENDER]


def grant(**changes: object) -> tuple[c.Consent, list]:
    args: dict[str, object] = dict(
        consent_id="c-1", person_key="p-1", purpose="mortgage-affordability",
        consumer_id="COM/NORTHBANK", fields=["income_band"],
        expires_at=NOW + timedelta(days=30), now=NOW, agreements=AGREEMENTS)
    args.update(changes)
    return c.grant(**args)  # type: ignore[arg-type]


def refused(code: str, **changes: object) -> None:
    with pytest.raises(DomainError) as error:
        grant(**changes)
    assert error.value.code == code


def test_a_grant_covers_only_its_consumer_purpose_and_fields_while_live() -> None:
    consent, covering = grant()
    assert covering == [BANK]
    assert consent.covers("COM/NORTHBANK", "mortgage-affordability", ["income_band"], NOW)
    assert not consent.covers("COM/OTHERBANK", "mortgage-affordability", ["income_band"], NOW)
    assert not consent.covers("COM/NORTHBANK", "benefit-entitlement", ["income_band"], NOW)
    assert not consent.covers("COM/NORTHBANK", "mortgage-affordability",
                              ["income_band", "full_name"], NOW)
    assert not consent.covers("COM/NORTHBANK", "mortgage-affordability", ["income_band"],
                              NOW + timedelta(days=30))  # expired exactly at its expiry
    assert not consent.covers("COM/NORTHBANK", "mortgage-affordability", ["income_band"],
                              NOW - timedelta(seconds=1))  # not before it was given


def test_a_consent_to_any_consumer_covers_every_consumer_of_the_purpose() -> None:
    consent, covering = grant(consumer_id=None)
    assert {a.id for a in covering} == {4, 7}
    for consumer in ("COM/NORTHBANK", "COM/OTHERBANK"):
        assert consent.covers(consumer, "mortgage-affordability", ["income_band"], NOW)


def test_a_withdrawn_consent_covers_nothing() -> None:
    consent, _ = grant()
    withdrawn = c.withdraw(consent, "p-1", NOW + timedelta(minutes=1))
    assert not withdrawn.covers("COM/NORTHBANK", "mortgage-affordability", ["income_band"],
                                NOW + timedelta(minutes=1))
    assert c.fields_covered([("income_band", "full_name")], ["income_band"])
    assert not c.fields_covered([("full_name",), ()], ["income_band"])
    assert withdrawn.state_at(NOW) == "withdrawn"
    with pytest.raises(DomainError) as again:
        c.withdraw(withdrawn, "p-1", NOW)
    assert again.value.code == "already_withdrawn"


def test_someone_elses_consent_is_answered_as_none_but_audited_apart() -> None:
    consent, _ = grant()
    for found in (consent, None):
        with pytest.raises(DomainError) as error:
            c.withdraw(found, "p-2", NOW)
        assert (error.value.kind, error.value.code) == ("not_found", "consent_unknown")
    assert c.refusal_reason(consent, "p-2", "consent_unknown") == "consent_not_yours"
    assert c.refusal_reason(None, "p-2", "consent_unknown") == "consent_unknown"
    assert c.refusal_reason(consent, "p-1", "already_withdrawn") == "already_withdrawn"


@pytest.mark.parametrize(("code", "changes"), [
    ("purpose_unknown", {"purpose": "no-such-purpose"}),
    ("purpose_unknown", {"purpose": "Not A Code"}),
    ("consumer_not_in_purpose", {"consumer_id": "GOV/DWP"}),
    ("field_not_in_purpose", {"fields": ["annual_income"]}),
    ("no_fields", {"fields": []}),
    ("duplicate_field", {"fields": ["income_band", "income_band"]}),
    ("expiry_in_past", {"expires_at": NOW}),
    ("expiry_too_far", {"expires_at": NOW + timedelta(days=c.MAX_CONSENT_DAYS + 1)}),
])
def test_bad_grants_are_refused_with_a_reason(code: str, changes: dict[str, object]) -> None:
    refused(code, **changes)


def test_a_purpose_exists_whatever_its_agreements_state() -> None:
    from onceonly.domain.agreements import AgreementStatus

    draft = replace(BANK, status=AgreementStatus.DRAFT)
    consent, covering = grant(agreements=[draft])
    assert covering == [draft] and consent.purpose == "mortgage-affordability"


def test_the_receipt_has_every_kantara_v1_1_field() -> None:
    consent, _ = grant()
    receipt = c.receipt(
        consent, receipt_id="r-1", event="grant", at=NOW,
        controllers=[c.Controller("Northbank plc")],
        services=[c.Service("HM Revenue & Customs: Income", "Check affordability",
                            ("Northbank plc",), ())],
        policy_url="https://example.invalid/privacy", public_key='{"kty":"OKP"}')
    assert set(receipt) == {
        "version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID",
        "publicKey", "language", "piiPrincipalId", "piiControllers", "policyUrl", "services",
        "sensitive", "spiCat"}
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == int(NOW.timestamp())
    assert receipt["piiPrincipalId"] == "p-1"
    assert {"piiController", "contact", "address", "email", "phone"} <= set(
        receipt["piiControllers"][0])
    purpose = receipt["services"][0]["purposes"][0]
    assert set(purpose) == {"purpose", "purposeCategory", "consentType", "piiCategory",
                            "primaryPurpose", "termination", "thirdPartyDisclosure",
                            "thirdPartyName"}
    assert purpose["piiCategory"] == ["income_band"]
    assert purpose["thirdPartyName"] == "Northbank plc"
    assert receipt["sensitive"] is False and receipt["spiCat"] == []


def test_a_withdrawal_receipt_says_so_and_special_category_is_marked() -> None:
    consent, _ = grant()
    receipt = c.receipt(
        replace(consent, withdrawn_at=NOW), receipt_id="r-2", event="withdraw", at=NOW,
        controllers=[], services=[c.Service("NHS", "fitness", ("DVLA",), ("conditions",))],
        policy_url="u", public_key="k")
    assert "withdrew" in receipt["collectionMethod"]
    assert receipt["services"][0]["purposes"][0]["termination"].startswith("withdrawn")
    assert receipt["sensitive"] is True and receipt["spiCat"] == ["conditions"]
