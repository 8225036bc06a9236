"""Accuracy challenges: what a citizen may challenge, one guardian at a time deciding, typed
corrections, who must be told, and the source label of each released field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from onceonly.domain import accuracy as acc
from onceonly.domain.accuracy import ChallengeStatus, PastRelease
from onceonly.domain.agreements import FieldGrant
from onceonly.domain.catalogue import FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from tests.unit.factories import INCOME, NOW, agreement, principal

GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc.guardian")
OTHER_GUARDIAN = principal("GOV/DWP", Role.GUARDIAN, "dwp.guardian")


def challenge(field: str = "full_name", dataset=INCOME) -> acc.Challenge:
    made = acc.raise_challenge(person_key="p-1", dataset=dataset, field=field,
                               what_is_wrong="not my name", proposed_value="Ann Other",
                               now=NOW)
    return replace(made, id=9)


def code_of(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_a_citizen_cannot_challenge_what_they_cannot_see() -> None:
    assert code_of(lambda: challenge("no_such_field")) == "field_not_visible"
    assert code_of(lambda: challenge("conditions")) == "field_not_visible"  # special category
    assert code_of(lambda: challenge(dataset=None)) == "dataset_unknown"
    assert code_of(lambda: acc.raise_challenge(
        person_key="p", dataset=INCOME, field="full_name", what_is_wrong="  ",
        proposed_value=None, now=NOW)) == "reason_required"


def test_a_register_of_life_events_cannot_be_challenged() -> None:
    register = replace(INCOME, id="GOV/GRO/deaths", event_type="gov.onceonly.death.registered")
    assert code_of(lambda: challenge(dataset=register)) == "dataset_not_challengeable"


def test_only_the_providers_guardian_finds_the_challenge() -> None:
    found = challenge()
    assert acc.guardian_of(found, GUARDIAN) is found
    for stranger in (OTHER_GUARDIAN, principal("GOV/HMRC", Role.OFFICER)):
        assert code_of(lambda s=stranger: acc.guardian_of(found, s)) == "challenge_unknown"


def test_one_guardian_claims_a_challenge_and_an_interrupted_claim_can_be_taken_over() -> None:
    found = challenge()
    claimed = acc.claim(found, GUARDIAN, NOW)
    assert claimed.status is ChallengeStatus.CORRECTING
    assert code_of(lambda: acc.claim(claimed, GUARDIAN, NOW + timedelta(seconds=5))) \
        == "challenge_closed"
    later = NOW + acc.CLAIM_TIMEOUT + timedelta(seconds=1)
    assert acc.claim(claimed, GUARDIAN, later).decided_at == later
    done = acc.corrected(claimed, "checked the register", NOW)
    assert done.status is ChallengeStatus.CORRECTED
    assert done.what_is_wrong is None and done.proposed_value is None  # not kept once decided
    assert code_of(lambda: acc.reject(done, GUARDIAN, "no", NOW)) == "challenge_closed"


def test_corrected_values_must_have_the_fields_type() -> None:
    spec = INCOME.field
    assert acc.typed_value(spec("annual_income"), 30_000) == 30_000
    assert acc.typed_value(spec("date_of_birth"), "1980-02-29") == date(1980, 2, 29)
    assert acc.stored_value(spec("date_of_birth"), "1980-02-29") == date(1980, 2, 29)
    assert acc.stored_value(spec("full_name"), None) is None
    for name, bad in (("annual_income", "30000"), ("annual_income", True),
                      ("date_of_birth", "29/02/1980"), ("full_name", ""),
                      ("full_name", "x" * (acc.MAX_TEXT_VALUE + 1)), ("conditions", [1])):
        assert code_of(lambda n=name, b=bad: acc.typed_value(spec(n), b)) \
            == "value_type_mismatch"


def test_recipients_are_those_who_received_the_field_or_a_derivation_within_retention() -> None:
    names = agreement(id=1, retention_days=30)  # income_band (from annual_income), full_name
    short = agreement(id=2, consumer_id="COM/ACME", retention_days=5,
                      grants=(FieldGrant("full_name", "full_name"),))
    elsewhere = agreement(id=3, dataset_id="GOV/DWP/benefits",
                          grants=(FieldGrant("full_name", "full_name"),))
    hidden_until = NOW + timedelta(days=60)
    releases = [
        PastRelease(NOW - timedelta(days=10), "GOV/DWP", 1, ("full_name",), "r1", None),
        PastRelease(NOW - timedelta(days=2), "GOV/DWP", 1, ("income_band",), "r2", None),
        PastRelease(NOW - timedelta(days=10), "COM/ACME", 2, ("full_name",), "r3", None),
        PastRelease(NOW - timedelta(days=1), "GOV/DWP", 3, ("full_name",), "r4", None),
        PastRelease(NOW - timedelta(days=1), "COM/ACME", 2, ("full_name",), "r5",
                    hidden_until),
    ]
    agreements = {1: names, 2: short, 3: elsewhere}
    by_name = acc.recipients(releases, agreements, "GOV/HMRC/income", "full_name", NOW)
    assert [(r.agreement_id, r.release_ids, r.hidden_until) for r in by_name] == [
        (1, ("r1",), None),  # r2 held only the band, not the name
        (2, ("r5",), hidden_until),  # r3 is past ACME's 5-day retention
    ]
    by_income = acc.recipients(releases, agreements, "GOV/HMRC/income", "annual_income", NOW)
    assert [(r.consumer_id, r.fields, r.release_ids) for r in by_income] == [
        ("GOV/DWP", ("income_band",), ("r2",))]


def test_each_released_field_has_its_source_label() -> None:
    grants = (FieldGrant("income_band", "annual_income", "income_band"),
              FieldGrant("full_name", "full_name"), FieldGrant("address", "address"))
    labels = {"annual_income": "verified", "full_name": "verified",
              "address": "citizen-supplied"}
    assert acc.released_sources(grants, labels) == {
        "income_band": "derived", "full_name": "verified", "address": "citizen-supplied"}


def test_a_raised_challenge_is_exactly_what_the_citizen_said() -> None:
    made = acc.raise_challenge(person_key="p-1", dataset=INCOME, field="full_name",
                               what_is_wrong="  not my name ", proposed_value="Ann Other",
                               now=NOW)
    assert made == acc.Challenge(None, "p-1", "GOV/HMRC", "GOV/HMRC/income", "full_name",
                                 "not my name", "Ann Other", ChallengeStatus.OPEN, NOW)


@pytest.mark.parametrize(("call", "detail"), [
    (lambda: challenge(dataset=None), "no such dataset in the catalogue"),
    (lambda: challenge("conditions"), "GOV/HMRC/income shows you no field 'conditions': only "
     "the fields it holds about you, special-category data excepted, can be challenged here"),
    (lambda: acc.raise_challenge(person_key="p", dataset=INCOME, field="full_name",
                                 what_is_wrong="", proposed_value=None, now=NOW),
     "say what is wrong with the value"),
    (lambda: acc.guardian_of(challenge(), OTHER_GUARDIAN),
     "no such challenge about your organisation's data"),
    (lambda: acc.guardian_of(None, GUARDIAN), "no such challenge about your organisation's data"),
    (lambda: acc.reject(challenge(), GUARDIAN, " ", NOW), "say why"),
    (lambda: acc.corrected(challenge(), "", NOW), "say why"),
    (lambda: acc.reject(acc.claim(challenge(), GUARDIAN, NOW), GUARDIAN, "no", NOW),
     "the challenge is correcting"),
    (lambda: acc.typed_value(INCOME.field("annual_income"), "1"),
     "annual_income holds a integer; the corrected value is not one"),
])
def test_each_refusal_says_what_is_wrong(call, detail) -> None:
    with pytest.raises(DomainError) as error:
        call()
    assert error.value.detail == detail
    if detail == "say why":
        assert (error.value.kind, error.value.code) == ("invalid", "reason_required")


def test_a_claim_is_taken_over_only_after_its_timeout() -> None:
    claimed = acc.claim(challenge(), GUARDIAN, NOW)
    assert claimed == replace(challenge(), status=ChallengeStatus.CORRECTING,
                              decided_by="hmrc.guardian", decided_at=NOW)
    at_timeout = NOW + timedelta(minutes=5)
    assert code_of(lambda: acc.claim(claimed, GUARDIAN, at_timeout)) == "challenge_closed"
    other = principal("GOV/HMRC", Role.GUARDIAN, "hmrc.other")
    taken = acc.claim(claimed, other, at_timeout + timedelta(microseconds=1))
    assert (taken.decided_by, taken.decided_at) == ("hmrc.other",
                                                   at_timeout + timedelta(microseconds=1))


def test_a_decision_keeps_its_reason_and_forgets_the_citizens_words() -> None:
    later = NOW + timedelta(hours=1)
    claimed = acc.claim(challenge(), GUARDIAN, NOW)
    assert acc.corrected(claimed, " fixed ", later) == replace(
        claimed, status=ChallengeStatus.CORRECTED, decided_at=later, reason="fixed",
        what_is_wrong=None, proposed_value=None)
    assert acc.reject(challenge(), GUARDIAN, " as recorded ", later) == replace(
        challenge(), status=ChallengeStatus.REJECTED, decided_by="hmrc.guardian",
        decided_at=later, reason="as recorded", what_is_wrong=None, proposed_value=None)


@pytest.mark.parametrize(("kind", "good", "bad"), [
    ("boolean", True, 1),
    ("list", ["a", "b"], ["a", 2]),
    ("list", [], "a"),
    ("string", "x" * 500, 5),
])
def test_typed_values_of_every_type(kind, good, bad) -> None:
    spec = FieldSpec("f", FieldType(kind), Sensitivity.PERSONAL, SourceLabel.VERIFIED)
    assert acc.typed_value(spec, good) == good
    assert code_of(lambda: acc.typed_value(spec, bad)) == "value_type_mismatch"
    assert acc.stored_value(spec, "2020-01-01") == "2020-01-01"  # only dates are parsed


def test_a_release_is_kept_until_exactly_its_retention_ends() -> None:
    deal = agreement(id=1, retention_days=5)
    def told(at):
        release = PastRelease(at, "GOV/DWP", 1, ("full_name",), "r1", None)
        return acc.recipients([release], {1: deal}, "GOV/HMRC/income", "full_name", NOW)
    assert told(NOW - timedelta(days=5)) == []
    assert [r.release_ids for r in told(NOW - timedelta(days=5) + timedelta(microseconds=1))] \
        == [("r1",)]


def test_a_field_with_no_label_is_labelled_derived() -> None:
    assert acc.released_sources((FieldGrant("x", "unlabelled"),), {}) == {"x": "derived"}
    assert acc.typed_value(INCOME.field("full_name"), "x") == "x"
