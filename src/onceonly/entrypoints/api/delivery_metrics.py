"""Tell-us-once delivery figures on /metrics: the same figures the manager's dashboard
draws (DashboardService.current_delivery_figures), read from the outbox when scraped, so
every server process exposes the same, whole-exchange numbers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from onceonly.services.dashboard import DashboardService


class DeliveryCollector:
    """A custom collector (no describe: nothing is read when it is registered)."""

    def __init__(self, dashboard: DashboardService) -> None:
        self.dashboard = dashboard

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.dashboard.current_delivery_figures()
        counts = GaugeMetricFamily(
            "onceonly_deliveries_last_24h",
            "Tell-us-once deliveries created in the last 24 hours, by receiver and status",
            labels=["receiver", "status"])
        seconds = GaugeMetricFamily(
            "onceonly_delivery_seconds_last_24h",
            "Time from report to delivery over the last 24 hours, by receiver (p50, p99)",
            labels=["receiver", "quantile"])
        for receiver in figures.receivers:
            for status, count in receiver.counts.items():
                counts.add_metric([receiver.receiver_id, status], count)
            for quantile, value in (("0.5", receiver.p50_seconds),
                                    ("0.99", receiver.p99_seconds)):
                if value is not None:
                    seconds.add_metric([receiver.receiver_id, quantile], value)
        yield counts
        yield seconds
