"""Bulk extracts, by exception: only under an agreement that allows them, each approved by
the provider's guardian, only the agreed fields for the cohort asked for, kept and handed
over only encrypted to the consumer's public key, downloaded once before an expiry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from onceonly.domain.agreements import Agreement
from onceonly.domain.errors import conflict, forbidden, gone, invalid, not_found
from onceonly.domain.organisations import Principal, Role

EXPIRY = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class BulkExtract:
    id: int | None
    agreement_id: int
    requested_by: str
    requested_at: datetime
    purpose: str
    cohort: tuple[tuple[str, str], ...] | None  # (scheme, value); cleared once built
    cohort_size: int
    recipient_jwk: dict[str, Any]
    status: str = "requested"  # requested, approved, rejected, downloaded
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    jwe: str | None = None
    records: int | None = None
    sha256: str | None = None
    expires_at: datetime | None = None
    downloaded_at: datetime | None = None


def request(officer: Principal, agreement: Agreement, purpose: str,
            cohort: list[tuple[str, str]], recipient_jwk: dict[str, Any], now: datetime,
            active: bool) -> BulkExtract:
    if officer.role is not Role.OFFICER or officer.org_id != agreement.consumer_id:
        raise forbidden("not_agreement_party", "only an officer of the consumer asks for it")
    if not active:
        raise forbidden("agreement_not_active", "the agreement is not active")
    if agreement.bulk_max_records is None:
        raise forbidden("bulk_not_allowed", "this agreement allows no bulk extract: ask for "
                                            "people one at a time")
    if purpose != agreement.purpose_code:
        raise forbidden("purpose_mismatch", f"the agreement's purpose is "
                                            f"{agreement.purpose_code}")
    if not cohort:
        raise invalid("empty_cohort", "name at least one person")
    if len(cohort) > agreement.bulk_max_records:
        raise invalid("cohort_too_large", f"the agreement allows extracts of at most "
                                          f"{agreement.bulk_max_records} people")
    if len(set(cohort)) != len(cohort):
        raise invalid("duplicate_subject", "a person is named twice")
    assert agreement.id is not None
    return BulkExtract(None, agreement.id, officer.id, now, purpose, tuple(cohort),
                       len(cohort), recipient_jwk)


def _guardian(extract: BulkExtract | None, agreement: Agreement | None,
              guardian: Principal) -> tuple[BulkExtract, Agreement]:
    if extract is None or agreement is None or guardian.role is not Role.GUARDIAN \
            or guardian.org_id != agreement.provider_id:
        raise not_found("bulk_extract_unknown", "no such bulk extract for your organisation")
    if extract.status != "requested":
        raise conflict("already_decided", f"the extract is {extract.status}")
    return extract, agreement


def approve(extract: BulkExtract | None, agreement: Agreement | None, guardian: Principal,
            reason: str, now: datetime) -> BulkExtract:
    """The decision; the caller then builds and encrypts the extract (`built`)."""
    extract, agreement = _guardian(extract, agreement, guardian)
    return replace(extract, status="approved", decided_by=guardian.id, decided_at=now,
                   reason=_reason(reason), expires_at=now + EXPIRY)


def reject(extract: BulkExtract | None, agreement: Agreement | None, guardian: Principal,
           reason: str, now: datetime) -> BulkExtract:
    extract, _ = _guardian(extract, agreement, guardian)
    return replace(extract, status="rejected", decided_by=guardian.id, decided_at=now,
                   reason=_reason(reason), cohort=None)


def built(extract: BulkExtract, jwe: str, records: int, sha256: str) -> BulkExtract:
    return replace(extract, jwe=jwe, records=records, sha256=sha256, cohort=None)


def download(extract: BulkExtract | None, officer: Principal, consumer_id: str | None,
             now: datetime) -> BulkExtract:
    if extract is None or officer.role is not Role.OFFICER or officer.org_id != consumer_id:
        raise not_found("bulk_extract_unknown", "no such bulk extract for your organisation")
    if extract.status == "downloaded":
        raise gone("already_downloaded", "a bulk extract is handed over once, and this one "
                                         "has been")
    if extract.status != "approved" or extract.jwe is None:
        raise conflict("not_approved", f"the extract is {extract.status}")
    assert extract.expires_at is not None
    if now >= extract.expires_at:
        raise gone("extract_expired", f"the extract expired at "
                                      f"{extract.expires_at:%Y-%m-%d %H:%M} UTC; ask for "
                                      "a new one")
    return replace(extract, status="downloaded", downloaded_at=now, jwe=None)


def _reason(reason: str) -> str:
    if not reason.strip():
        raise invalid("reason_required", "say why: the reason is recorded and audited")
    return reason.strip()
