"""The detector keeps each agreement's recent activity between passes and reads only the
new notes; several server processes taking turns still see every note. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from onceonly.services.anomaly import AnomalyService
from tests.integration.test_anomaly_detection import acme_asks, status
from tests.integration.test_use_limits import ninos


def test_detectors_taking_turns_see_every_note(exchange, world):
    exchange.anomaly.set_rule("COM/ACME", None, "many_persons", 8, 600)
    first, second = (AnomalyService(exchange.uows, exchange.clock) for _ in range(2))
    people = iter(ninos(exchange, 8))

    for detector, batch in ((first, 3), (second, 3), (first, 1)):
        for _ in range(batch):
            acme_asks(exchange, world, next(people))
        assert detector.detect() == []  # 3, 6, then 7 people: under the threshold
    acme_asks(exchange, world, next(people))

    assert len(first.detect()) == 1  # the 8th, with the 3 the other process read
    assert status(exchange, 3) == "suspended"


def test_a_kept_window_drops_what_has_aged_and_a_grown_window_reads_back(exchange, world):
    exchange.anomaly.set_rule("COM/ACME", None, "many_persons", 4, 600)
    detector = AnomalyService(exchange.uows, exchange.clock)
    people = iter(ninos(exchange, 8))
    for _ in range(3):
        acme_asks(exchange, world, next(people))
    assert detector.detect() == []
    exchange.clock.advance(timedelta(minutes=61))  # past every window the rules have
    try:
        for _ in range(3):
            acme_asks(exchange, world, next(people))
        assert detector.detect() == []  # 3 in the last 10 minutes, not 6
        # A window longer than any before: the kept one does not reach back so far, and
        # is read again from the database.
        exchange.anomaly.set_rule("COM/ACME", None, "many_persons", 5, 7200)
        acme_asks(exchange, world, next(people))
        assert len(detector.detect()) == 1  # 7 in the last 2 hours
    finally:
        exchange.clock.advance(timedelta(minutes=-61))
