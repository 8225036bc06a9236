"""The connectors of every dataset, chosen by its connector config's `kind`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonpointer

from onceonly.adapters.connectors.breaker import BreakerFigures
from onceonly.adapters.connectors.contract import check_contract
from onceonly.adapters.connectors.events import EventsConnector
from onceonly.adapters.connectors.http import HttpConnector, HttpConnectors, SigningKey
from onceonly.adapters.connectors.sql import SqlConnector, SqlConnectors


class ProviderConnectors:
    def __init__(self, signing_key: SigningKey | None = None) -> None:
        self.sql = SqlConnectors()
        self.http = HttpConnectors(signing_key)

    def for_dataset(self, dataset_id: str,
                    config: Mapping[str, Any]) -> SqlConnector | HttpConnector | EventsConnector:
        if config.get("kind") == "events":
            return EventsConnector()
        if config.get("kind") == "http":
            try:
                return self.http.for_config(config)
            except jsonpointer.JsonPointerException as problem:  # a field's `pointer`
                raise ValueError(f"a field's pointer does not read: {problem}") from None
        return self.sql.for_dataset(dataset_id, config)

    def check_contract(self, config: Mapping[str, Any], document: Mapping[str, Any],
                       field_types: Mapping[str, str]) -> None:
        """The provider's OpenAPI document against an HTTP connector (contract.py)."""
        check_contract(config, document, field_types)

    def breakers(self) -> list[BreakerFigures]:
        """Each provider host's circuit breaker, for /metrics and the manager's page."""
        return self.http.breakers()

    async def aclose(self) -> None:
        """Close the HTTP connectors' pools of the running event loop (the API's, at its
        end)."""
        await self.http.pools.aclose()

    def dispose(self) -> None:
        self.sql.dispose()
        self.http.close()
