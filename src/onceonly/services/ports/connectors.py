"""The providers' own stores, read (and corrected) through connectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from onceonly.domain.errors import DomainError, ErrorKind


class ConnectorUnusable(Exception):
    """A connector that cannot serve its dataset: the store or API cannot be reached, or it
    lacks a field. The message names the cause in words a provider's guardian can act on."""


class CorrectionsByNotice(ConnectorUnusable):
    """A provider whose system takes no writes from the exchange (an API without PATCH): a
    correction reaches it as a `record.corrected` notification instead, for it to apply."""


class ProviderFailure(DomainError):
    """The provider's system did not give a usable answer: `reason` is
    `provider_unavailable` (refused, down, a 5xx, or its circuit breaker open),
    `provider_timeout`, or `provider_response_invalid` (a field missing or of the wrong type);
    `retry_after` is the seconds after which the caller may try again. A refusal like any
    other (502, or 504 for a timeout), so a use case that reads inside `refusing` audits it."""

    def __init__(self, reason: str, detail: str, retry_after: int | None = None) -> None:
        super().__init__(ErrorKind.UPSTREAM_TIMEOUT if reason == "provider_timeout"
                         else ErrorKind.UPSTREAM, reason, detail)
        self.reason = reason
        self.retry_after = retry_after


class ContractMismatch(DomainError):
    """A connector that the provider's own OpenAPI document contradicts: `field` names the
    dataset's field (or `url`, `fields_param`) where they disagree. Refuses a publication."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(ErrorKind.INVALID, "connector_contract_mismatch", f"{field}: {detail}")
        self.field = field


class ProviderConnector(Protocol):
    """Reads one person's fields from a provider's own store (SQL or HTTP)."""

    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        """The record's `fields`, None if the provider holds no record under `local_id`;
        raises ProviderFailure when the provider's system cannot answer."""
        ...
    def write(self, local_id: str, field: str, value: Any) -> bool:
        """Correct one field of the provider's record; False if there is no such record.
        Raises CorrectionsByNotice when the provider takes corrections as notifications."""
        ...
    def check(self, fields: Sequence[str]) -> None:
        """Try the connector once against the provider's store (at a dataset's publication):
        raise ConnectorUnusable when it cannot be reached or cannot give one of `fields`."""
        ...


@runtime_checkable
class AsyncReading(Protocol):
    """A connector whose reads are network I/O (HTTP): the API awaits them on its event loop
    rather than holding a thread while the provider answers."""

    async def fetch_async(self, local_id: str,
                          fields: Sequence[str]) -> Mapping[str, Any] | None: ...


class Connectors(Protocol):
    def for_dataset(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector: ...


class ContractCheck(Protocol):
    """At publication of a dataset with an HTTP connector and the provider's OpenAPI
    document: raise ContractMismatch where the document contradicts the connector or the
    dataset's `field_types` (field name to catalogue type)."""

    def check_contract(self, config: Mapping[str, Any], document: Mapping[str, Any],
                       field_types: Mapping[str, str]) -> None: ...
