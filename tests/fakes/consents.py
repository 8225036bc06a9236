"""Citizens' consents with their receipts, and the consent check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from onceonly.domain.consent import Consent, fields_covered
from onceonly.services.ports.consents import ConsentCheckUnitOfWork
from tests.fakes.data import FakeData


class FakeConsents:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def add(self, consent: Consent, receipt: str) -> None:
        self.data.consents[consent.id] = (consent, receipt, None)

    def get(self, consent_id: str) -> Consent | None:
        found = self.data.consents.get(consent_id)
        return found[0] if found else None

    def withdraw(self, consent: Consent, receipt: str) -> bool:
        stored, grant, _ = self.data.consents[consent.id]
        if stored.withdrawn_at is not None:
            return False
        self.data.consents[consent.id] = (
            replace(stored, withdrawn_at=consent.withdrawn_at), grant, receipt)
        return True

    def of_person(self, person_key: str) -> list[tuple[Consent, str, str | None]]:
        mine = [found for found in self.data.consents.values() if found[0].person_key == person_key]
        return sorted(mine, key=lambda found: found[0].granted_at, reverse=True)

    def live_fields(self, person_key: str, purpose: str, consumer_id: str,
                    now: datetime) -> list[tuple[str, ...]]:
        return [c.fields for c, _, _ in self.data.consents.values()
                if c.person_key == person_key and c.purpose == purpose
                and c.consumer_id in (None, consumer_id) and c.live_at(now)]


class FakeConsentRegistry:
    def has_consent(self, uow: ConsentCheckUnitOfWork, person_key: str, consumer_id: str,
                    purpose: str, fields: Sequence[str], now: datetime) -> bool:
        return fields_covered(uow.consents.live_fields(person_key, purpose, consumer_id, now),
                              fields)
