"""The providers' own stores, read (and corrected) through connectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class ProviderConnector(Protocol):
    """Reads one person's fields from a provider's own store (SQL now; HTTP admits the same)."""

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None: ...
    def write(self, local_id: str, field: str, value: Any) -> bool:
        """Correct one field of the provider's record; False if there is no such record."""
        ...


class Connectors(Protocol):
    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector: ...
