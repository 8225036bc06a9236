"""The circuit breaker of a provider host, on a clock the test moves."""

from __future__ import annotations

import pytest

from onceonly.adapters.connectors.breaker import Breaker, BreakerState
from onceonly.adapters.connectors.http_answers import is_type


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_the_threshold_in_a_row_and_a_success_resets_the_count() -> None:
    clock = Clock()
    breaker = Breaker("hmrc", threshold=3, pause=10, clock=clock)
    breaker.failed()
    breaker.failed()
    breaker.succeeded()  # not in a row
    breaker.failed()
    breaker.failed()
    assert breaker.admit() is None
    assert breaker.figures().failures == 2
    breaker.failed()
    figures = breaker.figures()
    assert (figures.state, figures.opened, figures.failures) == (BreakerState.OPEN, 1, 0)
    clock.now += 4
    assert breaker.admit() == pytest.approx(6)


def test_after_the_pause_one_probe_goes_and_its_outcome_decides() -> None:
    clock = Clock()
    breaker = Breaker("dvla", threshold=1, pause=10, clock=clock)
    breaker.failed()
    clock.now += 10
    assert breaker.admit() is None  # the probe
    assert breaker.figures().state is BreakerState.HALF_OPEN
    assert breaker.admit() == pytest.approx(10)  # others wait while it is out
    breaker.failed()  # the probe failed: open for another pause
    assert (breaker.figures().state, breaker.figures().opened) == (BreakerState.OPEN, 2)
    clock.now += 9.5
    assert breaker.admit() == pytest.approx(0.5)
    clock.now += 0.5
    assert breaker.admit() is None
    breaker.succeeded()
    assert breaker.figures().state is BreakerState.CLOSED
    assert breaker.admit() is None


def test_a_probe_never_answered_lets_another_go_after_a_pause() -> None:
    clock = Clock()
    breaker = Breaker("gro", threshold=1, pause=5, clock=clock)
    breaker.failed()
    clock.now += 5
    assert breaker.admit() is None
    clock.now += 5
    assert breaker.admit() is None


@pytest.mark.parametrize(("kind", "value", "ok"), [
    ("string", "x", True), ("string", 1, False),
    ("integer", 3, True), ("integer", True, False), ("integer", 3.0, False),
    ("boolean", False, True), ("boolean", 0, False),
    ("list", ["a"], True), ("list", "a", False),
    ("date", "2024-02-29", True), ("date", "2024-02-30", False),
    ("date", "2024-02-29T10:00:00", False), ("date", 20240229, False),
    ("money", 1, False),
])
def test_a_providers_value_is_of_the_datasets_type(kind: str, value: object, ok: bool) -> None:
    assert is_type(kind, value) is ok
