"""The connector of a register of life events (adapters/connectors/events.py): chosen by
`kind: events`, nothing to try at publication, and no records to read or correct."""

from __future__ import annotations

import pytest

from onceonly.adapters.connectors.events import EventsConnector
from onceonly.adapters.connectors.providers import ProviderConnectors
from onceonly.services.ports.connectors import ConnectorUnusable


def test_an_events_dataset_gets_the_events_connector_which_is_usable_as_published() -> None:
    connectors = ProviderConnectors()
    try:
        connector = connectors.for_dataset("GOV/GRO/deaths", {"kind": "events"})
    finally:
        connectors.dispose()

    assert isinstance(connector, EventsConnector)
    assert connector.check(["date_of_death"]) is None


def test_a_register_has_no_records_to_read_or_correct() -> None:
    with pytest.raises(ConnectorUnusable, match="told its events"):
        EventsConnector().fetch("RN1", ["date_of_death"])
    with pytest.raises(ConnectorUnusable, match="told its events"):
        EventsConnector().write("RN1", "date_of_death", None)
