"""The providers' own stores, read (and corrected) through connectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class ConnectorUnusable(Exception):
    """A connector that cannot serve its dataset: the store or API cannot be reached, or it
    lacks a field. The message names the cause in words a provider's guardian can act on."""


class ProviderConnector(Protocol):
    """Reads one person's fields from a provider's own store (SQL now; HTTP admits the same)."""

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None: ...
    def write(self, local_id: str, field: str, value: Any) -> bool:
        """Correct one field of the provider's record; False if there is no such record."""
        ...
    def check(self, fields: Sequence[str]) -> None:
        """Try the connector once against the provider's store (at a dataset's publication):
        raise ConnectorUnusable when it cannot be reached or cannot give one of `fields`."""
        ...


class Connectors(Protocol):
    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector: ...
