"""The dashboard's delivery figures: counts by status and nearest-rank p50/p99 of the time
from report to delivery, per receiving organisation."""

from __future__ import annotations

from datetime import UTC, datetime

from onceonly.services.dashboard import delivery_figures, percentile
from onceonly.services.ports.dashboard import DeliveryTimes

SINCE = datetime(2026, 11, 25, 9, tzinfo=UTC)


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([1.0, 2.0], 0.5) == 1.0


def test_figures_count_each_status_and_time_only_what_was_delivered():
    times = DeliveryTimes(
        counts={("GOV/HMRC", "delivered"): 4, ("GOV/HMRC", "pending"): 1,
                ("GOV/DWP", "failed"): 1, ("GOV/DWP", "pending"): 1},
        seconds={"GOV/HMRC": [9.0, 0.3, 0.1, 0.2]})  # as read: not sorted
    figures = delivery_figures(times, SINCE)
    dwp, hmrc = figures.receivers
    assert hmrc.receiver_id == "GOV/HMRC"
    assert hmrc.counts == {"pending": 1, "delivered": 4, "failed": 0}
    assert (hmrc.p50_seconds, hmrc.p99_seconds) == (0.2, 9.0)
    assert dwp.counts == {"pending": 1, "delivered": 0, "failed": 1}
    assert dwp.p50_seconds is None and dwp.p99_seconds is None
    assert not figures.truncated
