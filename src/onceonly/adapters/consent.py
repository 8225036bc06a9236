"""Consent until the citizens' consent registry exists: nobody has consented to anything,
so an agreement whose legal basis is consent is refused with `consent_missing`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class NoConsentRecorded:
    def has_consent(
        self, person_key: str, consumer_id: str, purpose: str, fields: Sequence[str], now: datetime
    ) -> bool:
        return False
