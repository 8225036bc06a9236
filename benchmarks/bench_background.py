"""What a server's background work costs a governed query, in process (BENCHMARKS.md
section 14): the audit log's integration and anomaly detection, both run every second
beside the requests (entrypoints/api/background.py), on the same cores.

    integration  CPU per entry of `AuditService.integrate_batch` in steps of the server's
                 INTEGRATE_STEP, over the entries of governed queries (SQLite, 2,000 people;
                 4,096 queries' entries a round, medians of the rounds). Runs on a tree
                 before this file's levers too: only the service's public methods are used.
    anomaly      CPU per query of one detector pass over an agreement whose window holds
                 10, 60 or 300 s of traffic at 700 queries a second, 700 new notes a pass:
                 the whole window judged by `evaluate` (as every pass did before) beside the
                 kept `ActivityWindow`; thresholds out of reach, as a benchmark sets them.

    uv run python -m benchmarks.bench_background [--only integration|anomaly] [--rounds 3]
"""

from __future__ import annotations

import argparse
import bisect
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from benchmarks import Report, machine_header
from benchmarks.bench_http import AGREEMENT, build, sqlite_database

QUERIES = 4096
RATE = 700  # queries a second, about the exchange's governed rate on a quiet machine


def integration(out: Report, rounds: int) -> None:
    from onceonly.bootstrap import bootstrap
    from onceonly.entrypoints.api.background import INTEGRATE_STEP
    from onceonly.services.queries import QueryCommand

    with sqlite_database() as (url, prefix):
        world = build(url, prefix, 2000)
        exchange = bootstrap(url)
        exchange.audit.integrate()
        figures = []
        for _ in range(rounds):
            for i in range(QUERIES):
                exchange.queries.query_with_token(world["token"], QueryCommand(
                    AGREEMENT, "nino", world["ninos"][i % len(world["ninos"])],
                    ("income_band",), "benefit-entitlement"))
            cpu, more = time.process_time(), True
            while more:
                more = exchange.audit.integrate_batch(INTEGRATE_STEP)[1]
            figures.append((time.process_time() - cpu) / QUERIES * 1e6)
            out(f"integration: {figures[-1]:.1f} us CPU an entry (steps of "
                f"{INTEGRATE_STEP}), load {os.getloadavg()[0]:.1f}")
        exchange.close()
    out(f"integration: median {statistics.median(figures):.1f} us CPU an entry")


def anomaly(out: Report) -> None:
    from onceonly.domain.activity_window import ActivityWindow
    from onceonly.domain.anomaly import DEFAULT_RULES, Activity, Rule, evaluate

    rules = {kind: Rule(kind, 10**9, rule.window) for kind, rule in DEFAULT_RULES.items()}
    now, draw = datetime.now(UTC), random.Random(7)

    def notes(start: datetime, seconds: float, count: int) -> list[Activity]:
        return [Activity(start + timedelta(seconds=seconds * i / count), "officer:GOV/DWP",
                         AGREEMENT, f"P{draw.randrange(2000)}", draw.randrange(10**6), False)
                for i in range(count)]

    for seconds in (10, 60, 300):
        kept = notes(now - timedelta(seconds=seconds), seconds, RATE * seconds)
        new = notes(now, 1, RATE)
        cpu = time.process_time()
        window = list(kept)
        for event in new:
            bisect.insort_right(window, event, key=lambda a: a.at)
        evaluate(AGREEMENT, window, rules, now + timedelta(seconds=1))
        whole = time.process_time() - cpu
        activity = ActivityWindow(now - timedelta(hours=1), kept)
        cpu = time.process_time()
        activity.drop_until(now - timedelta(hours=1))
        activity.add(new)
        activity.finding(AGREEMENT, rules, now + timedelta(seconds=1))
        incremental = time.process_time() - cpu
        out(f"anomaly: window of {seconds:3d} s at {RATE}/s, a pass of {RATE} new notes: "
            f"the whole window judged {whole / RATE * 1e6:6.1f} us a query, the kept window "
            f"{incremental / RATE * 1e6:5.2f} us a query")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("integration", "anomaly"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    out = Report("background")
    out(machine_header("Background work: audit integration and anomaly detection"))
    if args.only != "anomaly":
        integration(out, args.rounds)
    if args.only != "integration":
        anomaly(out)
    out.close()


if __name__ == "__main__":
    main()
