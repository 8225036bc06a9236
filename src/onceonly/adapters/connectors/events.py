"""The connector of a register of life events (`kind: events`): its events are told to the
exchange as they happen (a registrar's report, a citizen's change of name), so there is no
store behind it to read or to try."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onceonly.services.ports.connectors import ConnectorUnusable


class EventsConnector:
    def fetch(self, local_id: str, fields: Sequence[str]) -> Mapping[str, Any] | None:
        raise ConnectorUnusable("a register of life events is told its events; it holds no "
                                "records to read")

    def write(self, local_id: str, field: str, value: Any) -> bool:
        raise ConnectorUnusable("a register of life events is told its events; it holds no "
                                "records to correct")

    def check(self, fields: Sequence[str]) -> None:
        """Nothing to reach: the register's events arrive through the exchange itself."""
