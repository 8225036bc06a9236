"""Each provider host's circuit breaker on /metrics (this process's: a breaker is held in
the server process that calls the provider), as the manager's page shows it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily

from onceonly.adapters.connectors.breaker import BreakerFigures, BreakerState

STATE_NUMBER = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class BreakerCollector:
    def __init__(self, breakers: Callable[[], list[BreakerFigures]]) -> None:
        self.breakers = breakers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = GaugeMetricFamily(
            "onceonly_provider_breaker_state",
            "Circuit breaker of each provider host: 0 closed, 1 half-open, 2 open",
            labels=["host"])
        opened = GaugeMetricFamily(
            "onceonly_provider_breaker_opened",
            "How many times each provider host's breaker has opened since the process started",
            labels=["host"])
        for breaker in self.breakers():
            state.add_metric([breaker.host], STATE_NUMBER[breaker.state])
            opened.add_metric([breaker.host], breaker.opened)
        yield state
        yield opened
