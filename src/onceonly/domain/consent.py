"""Citizens' consents: granted for a purpose, to one consumer or any consumer with an
agreement for that purpose, for named fields, until an expiry or a withdrawal; and the
Kantara Consent Receipt v1.1 that records each grant and each withdrawal.

A purpose exists when some agreement (in any state) names it: consent can be given before
the agreement it is for is approved, never for a purpose nobody has asked to use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from onceonly.domain.agreements import PURPOSE_CODE, Agreement
from onceonly.domain.errors import conflict, invalid, not_found

RECEIPT_VERSION = "KI-CR-v1.1.0"
MAX_CONSENT_DAYS = 3 * 365  # consent is asked for again at least this often


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    person_key: str
    purpose: str
    consumer_id: str | None  # None: any consumer with an agreement for the purpose
    fields: tuple[str, ...]  # as released (an agreement's grant names)
    granted_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None = None

    def live_at(self, now: datetime) -> bool:
        return self.withdrawn_at is None and self.granted_at <= now < self.expires_at

    def applies(self, consumer_id: str, purpose: str, now: datetime) -> bool:
        """Whether this consent, now, speaks for `consumer_id`'s `purpose` (whatever its
        fields): live, for the purpose, to that consumer or to any. The one liveness rule:
        the database reads in adapters/db/consents.py are held to it by a test."""
        return (self.live_at(now) and self.purpose == purpose
                and self.consumer_id in (None, consumer_id))

    def covers(self, consumer_id: str, purpose: str, fields: Iterable[str],
               now: datetime) -> bool:
        """Whether this consent, now, lets `consumer_id` receive `fields` for `purpose`."""
        return self.applies(consumer_id, purpose, now) and set(fields) <= set(self.fields)

    def state_at(self, now: datetime) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "live" if now < self.expires_at else "expired"


def fields_covered(consented: Iterable[Sequence[str]], asked: Sequence[str]) -> bool:
    """Whether one of the live consents (their fields) covers every field asked for."""
    return any(set(asked) <= set(fields) for fields in consented)


def grant(*, consent_id: str, person_key: str, purpose: str, consumer_id: str | None,
          fields: Sequence[str], expires_at: datetime, now: datetime,
          agreements: Iterable[Agreement]) -> tuple[Consent, list[Agreement]]:
    """A new consent, checked against the agreements that exist; with the agreements it
    covers (what its receipt describes). Refuses a purpose no agreement names, a consumer
    with no agreement for it, fields no such agreement releases, and an expiry that is past
    or too far."""
    if not PURPOSE_CODE.match(purpose):
        raise invalid("purpose_unknown", f"{purpose!r} is not a purpose code")
    for_purpose = [a for a in agreements if a.purpose_code == purpose]
    if not for_purpose:
        raise invalid("purpose_unknown", f"no agreement names the purpose {purpose!r}")
    covered_agreements = [a for a in for_purpose if consumer_id in (None, a.consumer_id)]
    if not covered_agreements:
        raise invalid("consumer_not_in_purpose",
                      f"{consumer_id} has no agreement for the purpose {purpose!r}",
                      org_id=consumer_id)
    if not fields:
        raise invalid("no_fields", "name at least one field the consent covers")
    if len(set(fields)) != len(fields):
        raise invalid("duplicate_field", "a field is named twice")
    released = {g.name for a in covered_agreements for g in a.grants}
    outside = [f for f in fields if f not in released]
    if outside:
        raise invalid("field_not_in_purpose",
                      f"no agreement for {purpose!r} releases: {', '.join(outside)}")
    if expires_at <= now:
        raise invalid("expiry_in_past", "the consent's expiry must be in the future")
    if expires_at > now + timedelta(days=MAX_CONSENT_DAYS):
        raise invalid("expiry_too_far",
                      f"a consent lasts at most {MAX_CONSENT_DAYS} days; grant it again then")
    consent = Consent(consent_id, person_key, purpose, consumer_id, tuple(fields), now,
                      expires_at)
    return consent, covering(consent, covered_agreements)


def covering(consent: Consent, agreements: Iterable[Agreement]) -> list[Agreement]:
    """The agreements a consent lets release something: what its receipts describe."""
    return [a for a in agreements if a.purpose_code == consent.purpose
            and consent.consumer_id in (None, a.consumer_id)
            and any(g.name in consent.fields for g in a.grants)]


def withdraw(consent: Consent | None, person_key: str, now: datetime) -> Consent:
    """The citizen's own consent, withdrawn. Someone else's is answered exactly like one
    that does not exist: the caller learns nothing (see `refusal_reason` for the audit)."""
    if consent is None or consent.person_key != person_key:
        raise not_found("consent_unknown", "you have no such consent")
    if consent.withdrawn_at is not None:
        raise conflict("already_withdrawn", "this consent was withdrawn already")
    return replace(consent, withdrawn_at=now)


def refusal_reason(consent: Consent | None, person_key: str, code: str) -> str:
    """The reason the audit log records: it tells someone else's consent from none."""
    if consent is not None and consent.person_key != person_key:
        return "consent_not_yours"
    return code


@dataclass(frozen=True, slots=True)
class Controller:
    """A PII controller as a receipt names it: an organisation that will receive the data."""

    name: str


@dataclass(frozen=True, slots=True)
class Service:
    """Where the data comes from: a provider's dataset, with what each receipt needs."""

    name: str
    purpose_text: str
    recipients: tuple[str, ...]  # names of the consumers it is disclosed to
    special_fields: tuple[str, ...]  # special-category source fields it draws on


def receipt(consent: Consent, *, receipt_id: str, event: str, at: datetime,
            controllers: Sequence[Controller], services: Sequence[Service],
            policy_url: str, public_key: str, jurisdiction: str = "GB",
            language: str = "en") -> dict[str, Any]:
    """The Kantara Initiative Consent Receipt v1.1 for a grant or a withdrawal (`event`)."""
    termination = (f"withdrawn at {at.isoformat()}; nothing is released under it any more"
                   if event == "withdraw" else
                   f"until {consent.expires_at.isoformat()}, or withdrawal at any time "
                   f"(DELETE /v1/me/consents/{consent.id})")
    special = sorted({f for s in services for f in s.special_fields})
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": jurisdiction,
        "consentTimestamp": int(at.timestamp()),
        "collectionMethod": ("citizen withdrew consent through the onceonly API"
                             if event == "withdraw" else
                             "citizen granted consent through the onceonly API"),
        "consentReceiptID": receipt_id,
        "publicKey": public_key,
        "language": language,
        "piiPrincipalId": consent.person_key,
        "piiControllers": [
            {"piiController": c.name, "onBehalf": False, "contact": f"{c.name}",
             "address": {"addressCountry": jurisdiction}, "email": "", "phone": ""}
            for c in controllers
        ],
        "policyUrl": policy_url,
        "services": [
            {"service": s.name, "purposes": [{
                "purpose": s.purpose_text,
                "purposeCategory": [consent.purpose],
                "consentType": "EXPLICIT",
                "piiCategory": list(consent.fields),
                "primaryPurpose": True,
                "termination": termination,
                "thirdPartyDisclosure": True,
                "thirdPartyName": ", ".join(s.recipients),
            }]}
            for s in services
        ],
        "sensitive": bool(special),
        "spiCat": special,
    }
