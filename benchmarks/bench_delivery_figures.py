"""The manager's delivery figures: what reading p50/p99 delivery times and counts by status
per receiving organisation costs, beside the database counting alone.

What it measures
    A fresh database (the demo world, 50 people, for its agreements) holding N deliveries
    created over the last 24 hours, spread over the seven receiving organisations (95 %
    delivered after a random 20 to 500 ms, 4 % pending, 1 % failed), on SQLite and
    PostgreSQL:
    - the figures the dashboard and /metrics show
      (`DashboardService.current_delivery_figures`: the rows of the window read into
      Python, grouped, sorted, nearest-rank percentiles), against its peer,
    - the counts alone, aggregated in the database (`SELECT receiver_id, status, count(*)
      ... GROUP BY receiver_id, status` over the same window; no percentiles).
    Milliseconds per read, median over the repetitions.

How to run
    uv run python -m benchmarks.bench_delivery_figures            # 100,000 deliveries, x 7
    uv run python -m benchmarks.bench_delivery_figures --quick    # 10,000, x 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from benchmarks import Report, machine_header
from benchmarks.bench_http import postgres_database, sqlite_database
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import bootstrap
from onceonly.demo.seed import build_world

BACKENDS = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}
RECEIVERS = ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO", "LA/NORTHSHIRE", "NHS/NHSE",
             "GOV/VETERANS")
CHUNK = 5_000


def fill(exchange: Any, deliveries: int) -> None:
    """One report and `deliveries` outbox rows under it, over the last 24 hours."""
    rng = random.Random(7)
    now = exchange.clock.now()
    with exchange.engine.connect() as conn:
        agreement = conn.execute(select(t.agreements.c.id).limit(1)).scalar_one()
    report = str(uuid.uuid4())
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.life_event_reports).values(
            id=report, source="GOV/GRO/deaths", event_id="bench", type="bench",
            person_key="bench", reported_by="bench", reporter_org="GOV/GRO",
            received_at=now, digest="0" * 64, event={}, not_told=[]))
    for start in range(0, deliveries, CHUNK):
        rows = []
        for _ in range(min(CHUNK, deliveries - start)):
            created = now - timedelta(seconds=rng.uniform(0, 86_000))
            fate = rng.random()
            status = "delivered" if fate < 0.95 else "pending" if fate < 0.99 else "failed"
            rows.append({
                "id": str(uuid.uuid4()), "report_id": report, "agreement_id": agreement,
                "receiver_id": rng.choice(RECEIVERS), "mode": "webhook", "status": status,
                "attempts": 1, "next_attempt_at": created, "created_at": created,
                "delivered_at": created + timedelta(seconds=rng.uniform(0.02, 0.5))
                if status == "delivered" else None})
        with exchange.engine.begin() as conn:
            conn.execute(insert(t.deliveries), rows)


def per_read_ms(read: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        read()
    return (time.perf_counter() - start) / count * 1e3


def run(report: Report, backend: str, deliveries: int, repeat: int) -> None:
    with BACKENDS[backend]() as (url, _prefix):
        exchange = bootstrap(url)
        upgrade(exchange.engine)
        build_world(exchange, url, people=50)
        fill(exchange, deliveries)
        since = exchange.clock.now() - timedelta(hours=24)
        d = t.deliveries

        def counts_in_database() -> list[Any]:
            with exchange.engine.connect() as conn:
                return conn.execute(select(d.c.receiver_id, d.c.status, func.count())
                                    .where(d.c.created_at >= since)
                                    .group_by(d.c.receiver_id, d.c.status)).all()

        figures = exchange.dashboard.current_delivery_figures()
        assert sum(sum(r.counts.values()) for r in figures.receivers) >= deliveries
        reads = {"figures": exchange.dashboard.current_delivery_figures,
                 "counts": counts_in_database}
        timings: dict[str, list[float]] = {name: [] for name in reads}
        for turn in range(repeat):
            for name in (("figures", "counts") if turn % 2 == 0 else ("counts", "figures")):
                timings[name].append(per_read_ms(reads[name], 3))
        exchange.close()
    ours, peer = (statistics.median(timings[k]) for k in ("figures", "counts"))
    hmrc = next(r for r in figures.receivers if r.receiver_id == "GOV/HMRC")
    report(f"{backend:<11} {deliveries:,} deliveries: figures (p50/p99 + counts) "
           f"{ours:8.1f} ms   counts in the database {peer:7.1f} ms   ({ours / peer:.1f}x)"
           f"   [HMRC p50 {hmrc.p50_seconds:.3f} s, p99 {hmrc.p99_seconds:.3f} s]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=sorted(BACKENDS), action="append")
    options = parser.parse_args(argv)
    if options.quick:
        options.deliveries, options.repeat = 10_000, 3
    report = Report("delivery-figures")
    report(machine_header("the manager's delivery figures beside counting in the database"))
    report(f"reads      3 per repetition x {options.repeat} repetitions (median)")
    for backend in options.backend or list(BACKENDS):
        run(report, backend, options.deliveries, options.repeat)
    report(f"raw output {report.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
