"""What a provider's API answered, read as the exchange reads it: the status as a record,
no record (404) or a failure, and the record's fields found and checked against their
catalogue types."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import aiohttp

from onceonly.adapters.connectors.http_config import ABSENT, FieldSpec
from onceonly.services.ports.connectors import ProviderFailure

UNAVAILABLE, TIMEOUT, INVALID = ("provider_unavailable", "provider_timeout",
                                 "provider_response_invalid")
NO_RECORD = object()  # a 404: the provider holds no such record


class Refused(ProviderFailure):
    """A 4xx other than 404, or a request the exchange could not make (its secret or key
    missing): no fault of the provider's host, so not counted by its breaker."""


class NotJson(ProviderFailure):
    """An answer that is not JSON: the provider is up and answered wrongly."""


async def answer(got: aiohttp.ClientResponse, retry_after: int) -> Any:
    """The answer's JSON document, NO_RECORD for a 404, None for a 204; ProviderFailure for
    anything else."""
    if got.status == 404:
        return NO_RECORD
    if got.status >= 500:
        raise ProviderFailure(UNAVAILABLE, f"the provider answered HTTP {got.status}",
                              retry_after)
    if got.status >= 400:  # it refused the exchange's request: its access or this config
        raise Refused(UNAVAILABLE, f"the provider refused the exchange's request "
                      f"(HTTP {got.status})", retry_after)
    if got.status == 204:
        return None
    try:
        return json.loads(await got.read())
    except ValueError:
        raise NotJson(INVALID, "the provider's answer is not JSON") from None


def record_of(document: Any, specs: Sequence[FieldSpec]) -> dict[str, Any]:
    """The fields `specs` name, from the provider's answer, each of its type."""
    record: dict[str, Any] = {}
    for spec in specs:
        value = spec.find(document)
        if value is ABSENT:
            raise ProviderFailure(INVALID, f"the provider's answer has no {spec.name} "
                                           f"(at {spec.where})")
        if not is_type(spec.type, value):
            raise ProviderFailure(INVALID, f"the provider's {spec.name} is not of type "
                                           f"{spec.type}")
        record[spec.name] = value
    return record


def is_type(kind: str, value: Any) -> bool:
    """Whether a provider's value is of the catalogue type `kind` (dates as ISO 8601)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "date" and isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return len(value) == 10
    return False
