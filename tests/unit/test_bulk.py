"""Bulk extracts: asked for by the consumer's officer under an agreement that allows them,
decided once by the provider's guardian, downloaded once before they expire."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain import bulk
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from tests.unit.factories import NOW, agreement, principal

OFFICER = principal("GOV/DWP", Role.OFFICER, "dwp-o1")
GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g1")
DEAL = agreement(id=3, bulk_max_records=2)
JWK = {"kty": "EC"}
COHORT = [("nino", "QQ123456C"), ("nino", "QQ123457C")]


def refused(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        fn(*args, **kwargs)
    return error.value


def ask(**changes):
    args = dict(officer=OFFICER, agreement=DEAL, purpose="benefit-entitlement",
                cohort=COHORT, recipient_jwk=JWK, now=NOW, active=True)
    args.update(changes)
    return bulk.request(**args)


def test_a_request_is_exactly_what_was_asked_for():
    assert ask() == bulk.BulkExtract(None, 3, "dwp-o1", NOW, "benefit-entitlement",
                                     tuple(COHORT), 2, JWK)
    assert ask(cohort=COHORT[:1]).cohort_size == 1


@pytest.mark.parametrize(("changes", "kind", "code"), [
    ({"officer": principal("GOV/DWP", Role.GUARDIAN)}, ErrorKind.FORBIDDEN,
     "not_agreement_party"),
    ({"officer": principal("GOV/HMRC", Role.OFFICER)}, ErrorKind.FORBIDDEN,
     "not_agreement_party"),
    ({"active": False}, ErrorKind.FORBIDDEN, "agreement_not_active"),
    ({"agreement": agreement(id=3)}, ErrorKind.FORBIDDEN, "bulk_not_allowed"),
    ({"purpose": "fraud"}, ErrorKind.FORBIDDEN, "purpose_mismatch"),
    ({"cohort": []}, ErrorKind.INVALID, "empty_cohort"),
    ({"cohort": [*COHORT, ("nino", "QQ123458C")]}, ErrorKind.INVALID, "cohort_too_large"),
    ({"cohort": [COHORT[0], COHORT[0]]}, ErrorKind.INVALID, "duplicate_subject"),
])
def test_a_request_is_refused(changes, kind, code):
    error = refused(ask, **changes)
    assert (error.kind, error.code) == (kind, code)


def test_refusals_come_in_order_who_then_what():
    # a stranger learns nothing about the agreement's limits
    error = refused(ask, officer=principal("COM/ACME", Role.OFFICER), active=False,
                    agreement=agreement(id=3))
    assert error.code == "not_agreement_party"
    assert refused(ask, active=False, agreement=agreement(id=3)).code == "agreement_not_active"
    assert refused(ask, agreement=agreement(id=3), purpose="x").code == "bulk_not_allowed"
    assert refused(ask, purpose="x", cohort=[]).code == "purpose_mismatch"


def test_approval_and_rejection_by_the_providers_guardian():
    later = NOW + timedelta(hours=1)
    approved = bulk.approve(ask(), DEAL, GUARDIAN, "  lawful ", later)
    assert approved == replace(ask(), status="approved", decided_by="hmrc-g1",
                               decided_at=later, reason="lawful",
                               expires_at=later + timedelta(days=7))
    rejected = bulk.reject(ask(), DEAL, GUARDIAN, " no ", later)
    assert rejected == replace(ask(), status="rejected", decided_by="hmrc-g1",
                               decided_at=later, reason="no", cohort=None)
    for decided in (approved, rejected):
        for decide in (bulk.approve, bulk.reject):
            error = refused(decide, decided, DEAL, GUARDIAN, "again", later)
            assert (error.kind, error.code) == (ErrorKind.CONFLICT, "already_decided")


@pytest.mark.parametrize("decide", [bulk.approve, bulk.reject])
def test_anyone_but_the_providers_guardian_is_told_there_is_no_such_extract(decide):
    for extract, deal, who in [
        (ask(), DEAL, principal("GOV/DWP", Role.GUARDIAN)),
        (ask(), DEAL, principal("GOV/HMRC", Role.OFFICER)),
        (None, DEAL, GUARDIAN),
        (ask(), None, GUARDIAN),
    ]:
        error = refused(decide, extract, deal, who, "why", NOW)
        assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "bulk_extract_unknown")
    error = refused(decide, ask(), DEAL, GUARDIAN, " ", NOW)
    assert (error.kind, error.code) == (ErrorKind.INVALID, "reason_required")


def ready():
    approved = bulk.approve(ask(), DEAL, GUARDIAN, "lawful", NOW)
    return bulk.built(approved, "jwe-text", 2, "ab" * 32)


def test_built_keeps_the_ciphertext_and_forgets_the_cohort():
    made = ready()
    assert (made.jwe, made.records, made.sha256, made.cohort) == ("jwe-text", 2, "ab" * 32,
                                                                  None)
    assert made.status == "approved"


def test_downloaded_once_before_it_expires():
    made = ready()
    last = NOW + timedelta(days=7) - timedelta(microseconds=1)
    taken = bulk.download(made, OFFICER, "GOV/DWP", last)
    assert taken == replace(made, status="downloaded", downloaded_at=last, jwe=None)
    error = refused(bulk.download, taken, OFFICER, "GOV/DWP", last)
    assert (error.kind, error.code) == (ErrorKind.GONE, "already_downloaded")
    error = refused(bulk.download, made, OFFICER, "GOV/DWP", NOW + timedelta(days=7))
    assert (error.kind, error.code) == (ErrorKind.GONE, "extract_expired")
    assert error.detail == ("the extract expired at 2026-12-01 12:00 UTC; ask for a new one")


def test_a_download_before_approval_or_building_is_a_conflict():
    approved = bulk.approve(ask(), DEAL, GUARDIAN, "lawful", NOW)
    for extract in (ask(), approved, bulk.reject(ask(), DEAL, GUARDIAN, "no", NOW)):
        error = refused(bulk.download, extract, OFFICER, "GOV/DWP", NOW)
        assert (error.kind, error.code) == (ErrorKind.CONFLICT, "not_approved")


@pytest.mark.parametrize(("who", "consumer"), [
    (principal("GOV/DWP", Role.GUARDIAN), "GOV/DWP"),
    (principal("COM/ACME", Role.OFFICER), "GOV/DWP"),
    (OFFICER, None),
])
def test_anyone_but_the_consumers_officer_is_told_there_is_no_such_extract(who, consumer):
    for extract in (ready(), None):
        error = refused(bulk.download, extract, who, consumer, NOW)
        assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "bulk_extract_unknown")
    error = refused(bulk.download, None, OFFICER, "GOV/DWP", NOW)
    assert error.code == "bulk_extract_unknown"
