"""Consents: what a grant is checked against, what a live consent covers, withdrawal, and the
Kantara Consent Receipt v1.1 it is recorded in."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from onceonly.domain import consent as c
from onceonly.domain.agreements import FieldGrant, LegalBasis
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
    assert (again.value.kind, again.value.code, again.value.detail) == (
        "conflict", "already_withdrawn", "this consent was withdrawn already")


def test_someone_elses_consent_is_answered_as_none_but_audited_apart() -> None:
    consent, _ = grant()
    for found in (consent, None):
        with pytest.raises(DomainError) as error:
            c.withdraw(found, "p-2", NOW)
        assert (error.value.kind, error.value.code, error.value.detail) == (
            "not_found", "consent_unknown", "you have no such consent")
    assert c.refusal_reason(consent, "p-2", "consent_unknown") == "consent_not_yours"
    assert c.refusal_reason(None, "p-2", "consent_unknown") == "consent_unknown"
    assert c.refusal_reason(consent, "p-1", "already_withdrawn") == "already_withdrawn"


@pytest.mark.parametrize(("code", "changes", "detail"), [
    ("purpose_unknown", {"purpose": "no-such-purpose"},
     "no agreement names the purpose 'no-such-purpose'"),
    ("purpose_unknown", {"purpose": "Not A Code"}, "'Not A Code' is not a purpose code"),
    ("consumer_not_in_purpose", {"consumer_id": "GOV/DWP"},
     "GOV/DWP has no agreement for the purpose 'mortgage-affordability'"),
    ("field_not_in_purpose", {"fields": ["annual_income", "nino"]},
     "no agreement for 'mortgage-affordability' releases: annual_income, nino"),
    ("no_fields", {"fields": []}, "name at least one field the consent covers"),
    ("duplicate_field", {"fields": ["income_band", "income_band"]}, "a field is named twice"),
    ("expiry_in_past", {"expires_at": NOW}, "the consent's expiry must be in the future"),
    ("expiry_too_far", {"expires_at": NOW + timedelta(days=1096)},
     "a consent lasts at most 1095 days; grant it again then"),
])
def test_bad_grants_are_refused_with_a_reason(code: str, changes: dict[str, object],
                                              detail: str) -> None:
    with pytest.raises(DomainError) as error:
        grant(**changes)
    assert (error.value.kind, error.value.code, error.value.detail) == ("invalid", code, detail)


def test_a_consumer_without_an_agreement_for_the_purpose_is_named_in_the_refusal() -> None:
    with pytest.raises(DomainError) as error:
        grant(consumer_id="GOV/DWP")
    assert error.value.org_id == "GOV/DWP"  # the page's sentence names the organisation


def test_a_purpose_exists_whatever_its_agreements_state() -> None:
    from onceonly.domain.agreements import AgreementStatus

    draft = replace(BANK, status=AgreementStatus.DRAFT)
    consent, covering = grant(agreements=[draft])
    assert covering == [draft] and consent.purpose == "mortgage-affordability"


def test_a_consent_lasts_at_most_three_years_to_the_second() -> None:
    longest = NOW + timedelta(days=3 * 365)
    consent, _ = grant(expires_at=longest)
    assert consent.expires_at == longest
    refused("expiry_too_far", expires_at=longest + timedelta(seconds=1))
    assert grant(expires_at=NOW + timedelta(seconds=1))[0].expires_at == \
        NOW + timedelta(seconds=1)
    refused("expiry_in_past", expires_at=NOW - timedelta(seconds=1))


def test_a_grant_is_exactly_the_consent_asked_for() -> None:
    consent, _ = grant(fields=["full_name", "income_band"], consumer_id=None)
    assert consent == c.Consent("c-1", "p-1", "mortgage-affordability", None,
                                ("full_name", "income_band"), NOW, NOW + timedelta(days=30))


def test_only_fields_the_named_consumers_agreements_release_may_be_consented() -> None:
    names_only = agreement(id=9, consumer_id="COM/OTHERBANK", purpose_code="mortgage-affordability",
                           grants=(FieldGrant("full_name", "full_name"),))
    bands_only = replace(BANK, grants=(FieldGrant("income_band", "annual_income", "income_band"),))
    refused("field_not_in_purpose", fields=["full_name"], agreements=[bands_only, names_only])
    consent, covered = grant(fields=["full_name"], consumer_id=None,
                             agreements=[bands_only, names_only])
    assert covered == [names_only]
    assert consent.fields == ("full_name",)


def test_covering_is_the_agreements_of_the_purpose_and_consumer_that_release_a_field() -> None:
    consent = c.Consent("c-9", "p-1", "mortgage-affordability", "COM/NORTHBANK",
                        ("income_band",), NOW, NOW + timedelta(days=1))
    names_only = replace(BANK, id=5, grants=(FieldGrant("full_name", "full_name"),))
    other_purpose = replace(BANK, id=6, purpose_code="benefit-entitlement")
    candidates = [DWP, BANK, OTHER_LENDER, names_only, other_purpose]
    assert c.covering(consent, candidates) == [BANK]
    assert c.covering(replace(consent, consumer_id=None), candidates) == [BANK, OTHER_LENDER]
    assert c.covering(replace(consent, fields=("full_name",), consumer_id=None),
                      candidates) == [BANK, OTHER_LENDER, names_only]
    assert c.covering(consent, []) == []


def test_the_state_shown_to_the_citizen_at_each_edge() -> None:
    consent, _ = grant()
    end = NOW + timedelta(days=30)
    assert consent.state_at(NOW) == "live"
    assert consent.state_at(end - timedelta(microseconds=1)) == "live"
    assert consent.state_at(end) == "expired"
    withdrawn = c.withdraw(consent, "p-1", NOW + timedelta(hours=1))
    assert withdrawn == replace(consent, withdrawn_at=NOW + timedelta(hours=1))
    assert withdrawn.state_at(NOW) == "withdrawn"
    assert withdrawn.state_at(end + timedelta(days=1)) == "withdrawn"


def test_live_exactly_from_its_grant_until_its_expiry() -> None:
    consent, _ = grant()
    assert consent.live_at(NOW)
    assert not consent.live_at(NOW - timedelta(microseconds=1))
    assert consent.live_at(NOW + timedelta(days=30) - timedelta(microseconds=1))
    assert not consent.live_at(NOW + timedelta(days=30))
    assert not replace(consent, withdrawn_at=NOW + timedelta(days=1)).live_at(NOW)


def test_fields_covered_needs_one_consent_with_every_field() -> None:
    assert c.fields_covered([("income_band", "full_name")], ["income_band", "full_name"])
    assert not c.fields_covered([("income_band",), ("full_name",)], ["income_band", "full_name"])
    assert not c.fields_covered([], ["income_band"])


# The Kantara Consent Receipt v1.1 JSON Schema as published (SOURCE.md beside it says where).
_SCHEMA_TEXT = (Path(__file__).parent / "kantara" / "kantara-consent-receipt-v1_1-schema.json"
                ).read_text()
KANTARA_SCHEMA = json.loads("\n".join(line for line in _SCHEMA_TEXT.splitlines()
                                      if not line.lstrip().startswith("//")))
KANTARA = jsonschema.Draft4Validator(KANTARA_SCHEMA)
SERVICE = c.Service("HM Revenue & Customs: Income", "Check affordability",
                    ("Northbank plc", "Otherbank plc"), ())


def a_receipt(event: str, services=(SERVICE,), at=NOW, **changes: str) -> dict:
    consent, _ = grant(fields=["income_band", "full_name"])
    return c.receipt(
        consent, receipt_id="r-1", event=event, at=at,
        controllers=[c.Controller("Northbank plc")], services=list(services),
        policy_url="https://example.invalid/privacy", public_key='{"kty":"OKP"}', **changes)


def test_the_schema_refuses_what_it_should() -> None:
    KANTARA.check_schema(KANTARA_SCHEMA)
    good = a_receipt("grant")
    for broken in ({**good, "consentTimestamp": -1},
                   {k: v for k, v in good.items() if k != "spiCat"},
                   {**good, "services": [{"service": "s", "purposes": [
                       {**good["services"][0]["purposes"][0], "thirdPartyName": 3}]}]}):
        assert not KANTARA.is_valid(broken)


@pytest.mark.parametrize("event", ["grant", "withdraw"])
def test_each_receipt_is_valid_kantara_v1_1(event: str) -> None:
    KANTARA.validate(a_receipt(event))
    KANTARA.validate(a_receipt(event, services=[
        c.Service("NHS: Health", "fitness", ("DVLA",), ("conditions",))]))


def test_a_grant_receipt_says_exactly_what_was_granted() -> None:
    assert a_receipt("grant", at=NOW + timedelta(seconds=1)) == {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "GB",
        "consentTimestamp": 1795521601,  # 2026-11-24T12:00:01Z
        "collectionMethod": "citizen granted consent through the onceonly API",
        "consentReceiptID": "r-1",
        "publicKey": '{"kty":"OKP"}',
        "language": "en",
        "piiPrincipalId": "p-1",
        "piiControllers": [{"piiController": "Northbank plc", "onBehalf": False,
                            "contact": "Northbank plc", "address": {"addressCountry": "GB"},
                            "email": "", "phone": ""}],
        "policyUrl": "https://example.invalid/privacy",
        "services": [{"service": "HM Revenue & Customs: Income", "purposes": [{
            "purpose": "Check affordability",
            "purposeCategory": ["mortgage-affordability"],
            "consentType": "EXPLICIT",
            "piiCategory": ["income_band", "full_name"],
            "primaryPurpose": True,
            "termination": "until 2026-12-24T12:00:00+00:00, or withdrawal at any time "
                           "(DELETE /v1/me/consents/c-1)",
            "thirdPartyDisclosure": True,
            "thirdPartyName": "Northbank plc, Otherbank plc",
        }]}],
        "sensitive": False,
        "spiCat": [],
    }


def test_a_withdrawal_receipt_says_withdrawn_and_special_category_is_marked() -> None:
    receipt = a_receipt("withdraw", services=[
        c.Service("NHS: Health", "fitness", ("DVLA",), ("conditions", "allergies")),
        c.Service("NHS: Records", "fitness", ("DVLA",), ("conditions",))])
    assert receipt["collectionMethod"] == "citizen withdrew consent through the onceonly API"
    assert [s["purposes"][0]["termination"] for s in receipt["services"]] == [
        "withdrawn at 2026-11-24T12:00:00+00:00; nothing is released under it any more"] * 2
    assert receipt["sensitive"] is True
    assert receipt["spiCat"] == ["allergies", "conditions"]


def test_a_receipt_names_its_jurisdiction_and_language() -> None:
    receipt = a_receipt("grant", jurisdiction="IE", language="ga")
    assert (receipt["jurisdiction"], receipt["language"]) == ("IE", "ga")
    assert receipt["piiControllers"][0]["address"] == {"addressCountry": "IE"}
