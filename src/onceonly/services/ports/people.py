"""The people an organisation names: its identifiers of them (the demo prints a few to try)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class PersonIdentifiers(Protocol):
    def schemes_of(self, org_id: str) -> list[str]:
        """The identifier schemes the organisation names people by."""
        ...

    def identifiers(self, schemes: Sequence[str], limit: int) -> list[tuple[str, str]]:
        """Up to `limit` (scheme, value) pairs the person index links, in order."""
        ...

