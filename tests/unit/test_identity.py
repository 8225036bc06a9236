"""Identity across organisations, without I/O: pairwise pseudonyms and the link rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.crypto.pseudonyms import consumer_key, pseudonym
from onceonly.domain.errors import DomainError
from onceonly.domain.identity import (
    ACCEPT_WEIGHT,
    REVIEW_WEIGHT,
    LinkCandidate,
    LinkStatus,
    Match,
    best_per_record,
    decide,
    postcode_of,
    precision_recall,
    triage,
)
from onceonly.domain.organisations import Principal, Role

secrets = st.binary(min_size=32, max_size=32)
orgs = st.from_regex(r"[A-Z]{2,8}/[A-Z0-9]{1,12}", fullmatch=True)
person_keys = st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def test_a_pseudonym_is_the_documented_derivation():
    # Worked out by hand with the standard library: HKDF-SHA256 (RFC 5869, no salt, info
    # "onceonly pairwise pseudonym " + consumer), then HMAC-SHA256 of the person key, base32.
    key = consumer_key(bytes(range(32)), "GOV/DWP")
    assert key.hex() == "bf1b239ac7794fd25070a97e1f7491243106cac938fe292f2ef968d4be7853aa"
    assert pseudonym(key, "0123456789abcdef01234567") == \
        "l4voenxylwt75bc7wg5rbykpdlslt5dt3mplhbuwpntiep4addqa"


@given(secrets, orgs, orgs, person_keys)
def test_two_consumers_get_different_pseudonyms_for_one_person(secret, one, other, person):
    if one != other:
        assert pseudonym(consumer_key(secret, one), person) != \
            pseudonym(consumer_key(secret, other), person)


@given(secrets, orgs, person_keys, person_keys)
def test_one_consumer_gets_different_pseudonyms_for_two_people(secret, org, person, other):
    key = consumer_key(secret, org)
    assert (pseudonym(key, person) == pseudonym(key, other)) == (person == other)


@given(secrets, secrets, orgs, person_keys)
def test_a_pseudonym_depends_on_the_exchanges_secret(secret, other_secret, org, person):
    if secret != other_secret:
        assert pseudonym(consumer_key(secret, org), person) != \
            pseudonym(consumer_key(other_secret, org), person)


@given(secrets, orgs, person_keys)
def test_a_pseudonym_fits_an_identifiers_pattern_and_hides_the_person_key(secret, org, person):
    named = pseudonym(consumer_key(secret, org), person)
    assert len(named) == 52 and named.isalnum() and named.islower()
    assert person not in named


def match(weight: float, agree: bool, record: str = "D1", person: str = "p1") -> Match:
    return Match(record, person, weight, agree)


@pytest.mark.parametrize(("weight", "agree", "status"), [
    (ACCEPT_WEIGHT, True, LinkStatus.APPLIED),
    (ACCEPT_WEIGHT - 0.01, True, LinkStatus.PENDING),
    (ACCEPT_WEIGHT + 30, False, LinkStatus.PENDING),  # probabilistic: never applied alone
    (REVIEW_WEIGHT, False, LinkStatus.PENDING),
    (REVIEW_WEIGHT - 0.01, True, None),
])
def test_only_an_identifier_agreement_above_the_threshold_is_applied(weight, agree, status):
    assert triage(match(weight, agree)) is status


def test_each_record_keeps_only_its_best_match():
    best = best_per_record([match(7, False, "D2", "p3"), match(12, False, "D1", "p0"),
                            match(12, False, "D1", "p2"), match(10, False, "D1", "p1")])
    assert [(m.record_id, m.person_key) for m in best] == [("D1", "p0"), ("D2", "p3")]
    # of two equal matches, the first found stays
    assert best_per_record([match(12, True), match(12, False)]) == [match(12, True)]


def test_precision_and_recall():
    truth = {"D1": "p1", "D2": "p2", "D3": "p3", "D4": "p4"}
    assert precision_recall({"D1": "p1", "D2": "p9", "D3": "p3"}, truth) == (2 / 3, 2 / 4)
    assert precision_recall({}, truth) == (1.0, 0.0)
    assert precision_recall({"D1": "p1"}, {}) == (0.0, 1.0)


@pytest.mark.parametrize(("address", "postcode"), [
    ("12 Mill Lane, Northtown, NS12 3AB", "NS12 3AB"),
    ("12 mill lane, ns1 3ab", "NS1 3AB"),
    ("12 Mill Lane, Northtown", None),
    (None, None),
])
def test_the_postcode_is_read_from_the_end_of_an_address(address, postcode):
    assert postcode_of(address) == postcode


def candidate(status: LinkStatus = LinkStatus.PENDING) -> LinkCandidate:
    return LinkCandidate(7, "GOV/DVLA", "driver", "SMITH801021J99AB", "p1", 23.9, False,
                         {"full_name": "similar"}, status, NOW)


def guardian(org: str = "GOV/DVLA", role: Role = Role.GUARDIAN) -> Principal:
    return Principal("g", "Guardian", org, role)


def test_a_guardian_of_the_identifiers_organisation_decides():
    later = NOW + timedelta(minutes=5)
    confirmed = decide(candidate(), guardian(), True, "same person", later)
    assert confirmed == replace(candidate(), status=LinkStatus.CONFIRMED, decided_by="g",
                                decided_at=later, reason="same person")
    assert decide(candidate(), guardian(), False, "twins", NOW).status is LinkStatus.REJECTED


def test_a_link_is_decided_with_a_reason():
    with pytest.raises(DomainError) as refused:
        decide(candidate(), guardian(), True, " \u3000\t", NOW)
    assert refused.value.code == "reason_required"


@pytest.mark.parametrize(("who", "status", "code", "detail"), [
    (guardian("GOV/DWP"), LinkStatus.PENDING, "not_your_identifier",
     "only a guardian of GOV/DVLA may decide links of its identifiers"),
    (guardian(role=Role.OFFICER), LinkStatus.PENDING, "role_not_allowed",
     "only a data guardian may decide links"),
    (guardian(), LinkStatus.REJECTED, "already_decided", "the link candidate is rejected"),
    (guardian(), LinkStatus.APPLIED, "already_decided", "the link candidate is applied"),
])
def test_no_one_else_decides_and_nothing_is_decided_twice(who, status, code, detail):
    with pytest.raises(DomainError) as refused:
        decide(candidate(status), who, True, "why not", NOW)
    assert (refused.value.code, refused.value.detail) == (code, detail)


