"""Audit evidence (issue 21): RFC 3161 timestamps, witnesses and archive bundles.

What it measures
    1. What timestamping and witnessing add to a governed query: QueryService.query on a
       demo world (SQLite), in alternating blocks with the background work off, and on:
       integration, timestamping by a local authority (`openssl ts -reply` behind HTTP on
       127.0.0.1) and cosigning by a witness (a second exchange's witness, served on
       127.0.0.1), each on a thread every 50 ms, as a server runs them. Per-query wall time,
       median of the block medians.
    2. Heads timestamped per second with a local authority: K signed heads stamped by
       TimestampService (request, HTTP, check of the answer against the root, store),
       beside the same K requests POSTed to the authority alone, and beside the authority
       run without HTTP (`openssl ts -reply` per request): the floor.
    3. A bundle of N entries (default 1,000,000, all about one provider) on SQLite (or
       PostgreSQL, with --backend):
       `BundleService.export` to a file and `audit.bundles.verify` of it offline, beside
       bare hashlib doing the same number of SHA-256 calls verification needs (one leaf
       hash and one node hash per proof step, on inputs of the same sizes).

How to run
    uv run --group bench python -m benchmarks.bench_evidence            # N = 1,000,000
    uv run --group bench python -m benchmarks.bench_evidence --quick    # N = 50,000
    uv run --group bench python -m benchmarks.bench_evidence --only 3 --entries 200000
    uv run --group bench python -m benchmarks.bench_evidence --only 3 --backend SQLite,PostgreSQL \
        --repeat 3 --verify-repeat 1   # exports and offline checks timed, medians
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

import httpx
from sqlalchemy import insert
from tests.support.tsa import TestAuthority

from benchmarks import Report, machine_header
from benchmarks.bench_http import postgres_database
from onceonly.adapters.clock import SystemClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key
from onceonly.adapters.timestamp_authority import HttpTimestampAuthority
from onceonly.audit.bundles import verify
from onceonly.audit.entries import AuditEntry
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.crypto.timestamps import load_roots, request_for
from onceonly.services.bundles import BundleKeys, BundleService
from onceonly.services.timestamps import TimestampService


def operator(exchange: Exchange) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.organisations).values(id="GOV/EXCHANGE", name="Operator"))
        add_signing_key(conn, "GOV/EXCHANGE", datetime.now(UTC), envelopes=exchange.envelopes)


def fresh(folder: Path, name: str) -> Exchange:
    exchange = bootstrap(f"sqlite:///{folder / name}.sqlite", clock=SystemClock())
    upgrade(exchange.engine)
    return exchange


def seconds(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


# -- 1. on a governed query ----------------------------------------------------------------


class Ticking:
    """`steps` run on a thread of their own every `interval` seconds until stopped."""

    def __init__(self, steps: list[Callable[[], object]], interval: float) -> None:
        self.steps, self.interval = steps, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.failures = 0

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            for step in self.steps:
                try:
                    step()
                except Exception:  # noqa: BLE001 (counted, as a server's Periodic does)
                    self.failures += 1

    def __enter__(self) -> Ticking:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def query_cost(out: Report, folder: Path, people: int, queries: int, blocks: int) -> None:
    from onceonly.bootstrap import witness_for, witnesses_for
    from onceonly.crypto.cosignatures import Witness, load_key, new_key
    from onceonly.demo.seed import build_world
    from onceonly.entrypoints.api.app import create_witness_app
    from onceonly.entrypoints.api.server import running
    from onceonly.services.queries import QueryCommand

    exchange = fresh(folder, "query")
    world = build_world(exchange, str(exchange.engine.url), people=people)
    witness_db = fresh(folder, "witness")
    key_file = folder / "witness.pem"
    key_file.write_bytes(new_key())
    logs = folder / "logs.json"
    logs.write_text(json.dumps({"logs": [{"origin": "bench/audit", "log_org": "GOV/EXCHANGE",
                                          "jwks": exchange.key_store.jwks()}]}))
    witness_db.witness = witness_for(witness_db.uows, witness_db.clock, key_file=key_file,
                                     logs_file=logs, name="bench/witness")
    vkey = Witness("bench/witness", load_key(key_file.read_bytes()).public_key()).vkey
    tsa = TestAuthority(folder / "tsa")
    officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
    command = QueryCommand(agreement_id=1, scheme="nino", value=world.citizen_ids["nino"],
                           fields=("income_band",), purpose="benefit-entitlement")
    roots = load_roots(tsa.ca_file.read_bytes())
    stamps = TimestampService(exchange.uows, exchange.clock,
                              [HttpTimestampAuthority(tsa.url)], lambda: roots)
    figures: dict[str, list[float]] = {}
    try:
        with running(create_witness_app(witness_db)) as base:
            witnesses = witnesses_for(exchange.uows, exchange.clock, origin="bench/audit",
                                      configured=[(f"{base}/witness", vkey)])
            steps = [exchange.audit.integrate, stamps.stamp_waiting, witnesses.send_latest]
            for _ in range(blocks):
                for way, every in (("off", None), ("1 s", 1.0), ("50 ms", 0.05)):
                    exchange.audit.integrate()
                    if every is None:
                        times = _queries(exchange, officer, command, queries)
                    else:
                        with Ticking(steps, every):
                            times = _queries(exchange, officer, command, queries)
                    figures.setdefault(way, []).append(statistics.median(times))
            stamped, cosigned = stamps.waiting(), witnesses.cosignatures(
                exchange.audit.tree_head().head.tree_size)
    finally:
        tsa.close()
    off, every_s, often = (statistics.median(figures[w]) * 1e6
                           for w in ("off", "1 s", "50 ms"))
    out(f"   demo world of {people:,} people, SQLite; {blocks} alternating blocks of "
        f"{queries:,} queries each way; per-query wall time, median of block medians")
    out(f"   {'background work off':<58}{off:>9.0f} µs")
    out(f"   {'integrate + timestamp + cosign every 1 s (as a server)':<58}{every_s:>9.0f} µs"
        f"{(every_s / off - 1) * 100:>+9.1f}%")
    out(f"   {'the same every 50 ms, on threads':<58}{often:>9.0f} µs"
        f"{(often / off - 1) * 100:>+9.1f}%")
    out(f"   afterwards: {stamped} heads waiting for a timestamp, {len(cosigned)} cosignature "
        "on the latest head")


def _queries(exchange: Exchange, officer: object, command: object, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        exchange.queries.query(officer, command)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    return times


# -- 2. heads timestamped per second -------------------------------------------------------


def stamping_rate(out: Report, folder: Path, heads: int) -> None:
    exchange = fresh(folder, "stamps")
    operator(exchange)
    for n in range(heads):
        with exchange.uows(write=True) as uow:
            uow.audit.record(AuditEntry("bench", "done", None, None, detail={"n": n}),
                             datetime.now(UTC))
            uow.commit()
        exchange.audit.integrate()
    tsa = TestAuthority(folder / "tsa2")
    try:
        roots = load_roots(tsa.ca_file.read_bytes())
        service = TimestampService(exchange.uows, exchange.clock,
                                   [HttpTimestampAuthority(tsa.url)], lambda: roots)

        def stamp_all() -> None:
            while service.stamp_waiting(limit=64):
                pass

        ours = seconds(stamp_all)
        assert service.waiting() == 0
        queries = [request_for(f"head {n}".encode()).der for n in range(heads)]
        with httpx.Client() as client:
            bare_http = seconds(lambda: [client.post(tsa.url, content=q) for q in queries])
        tsa.down()
        bare = seconds(lambda: [tsa.reply(q) for q in queries])
    finally:
        tsa.close()
    out(f"   {heads:,} signed heads; the authority is `openssl ts -reply` (a process per "
        "request) behind a small HTTP server")
    out(f"   {'':<58}{'heads/s':>9}{'vs floor':>10}")
    out(f"   {'openssl ts -reply alone, no HTTP (the floor)':<58}{heads / bare:>9.0f}"
        f"{1:>9.2f}x")
    out(f"   {'POSTed to the authority, nothing checked or kept':<58}{heads / bare_http:>9.0f}"
        f"{bare_http / bare:>9.2f}x")
    out(f"   {'TimestampService: request, HTTP, check, store':<58}{heads / ours:>9.0f}"
        f"{ours / bare:>9.2f}x")


# -- 3. bundles ----------------------------------------------------------------------------


def bundle(out: Report, folder: Path, entries: int, batch: int = 10_000,
           backend: str = "SQLite", repeat: int = 3, verify_repeat: int = 1) -> None:
    """Export timed `repeat` times and checked offline `verify_repeat` times, beside the
    bare SHA-256 calls, alternating; medians."""
    with bundle_exchange(folder, backend) as exchange:
        _bundle_on(out, folder, exchange, entries, batch, backend, repeat, verify_repeat)


@contextmanager
def bundle_exchange(folder: Path, backend: str) -> Iterator[Exchange]:
    if backend == "SQLite":
        exchange = fresh(folder, "bundle")
        try:
            yield exchange
        finally:
            exchange.close()
        return
    with postgres_database() as (url, _prefix):
        exchange = bootstrap(url, clock=SystemClock())
        upgrade(exchange.engine)
        try:
            yield exchange
        finally:
            exchange.close()


# long: one benchmark's setup, timed runs and report, in the order they print.
def _bundle_on(out: Report, folder: Path, exchange: Exchange, entries: int, batch: int,
               backend: str, repeat: int, verify_repeat: int) -> None:
    operator(exchange)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for first in range(0, entries, batch):
        with exchange.uows(write=True) as uow:
            for n in range(first, min(first + batch, entries)):
                uow.audit.record(AuditEntry(
                    "query.release", "permit", f"officer-{n % 50}", "GOV/DWP", agreement_id=1,
                    provider_id="GOV/HMRC", purpose="benefit-entitlement",
                    person_key=f"P{n:07d}", fields=("income_band",),
                    values_hash=f"{n:064x}"), now)
            uow.commit()
    exchange.audit.integrate()
    setup = time.perf_counter() - started
    service = BundleService(exchange.uows, exchange.clock, BundleKeys(
        exchange.key_store.jwks, list, list), origin="bench/audit", log_org="GOV/EXCHANGE")
    path = folder / "hmrc.bundle"

    def export() -> None:
        with path.open("wb") as file:
            service.export("GOV/HMRC", now - timedelta(days=1), now + timedelta(days=1), file)

    reports = []

    def check() -> None:
        with path.open("rb") as lines:
            reports.append(verify(lines))

    export_runs = [seconds(export)]
    leaf_sizes, steps = [], 0
    with path.open("rb") as lines:
        next(lines)
        for line in lines:
            row = json.loads(line)
            leaf_sizes.append(len(row["leaf"]) + 1)
            steps += len(row["proof"])
    leaf_input = [b"\x00" * size for size in leaf_sizes]
    node_input = b"\x01" + bytes(64)

    def bare() -> None:
        [sha256(x).digest() for x in leaf_input]
        [sha256(node_input).digest() for _ in range(steps)]

    bare_runs, verify_runs = [seconds(bare)], []
    for run in range(1, max(repeat, verify_repeat)):
        if run < repeat:
            export_runs.append(seconds(export))
        bare_runs.append(seconds(bare))
    for _ in range(verify_repeat):
        verify_runs.append(seconds(check))
    assert reports[0].ok and reports[0].entries == entries, reports[0].problems
    export_s, bare_s = statistics.median(export_runs), statistics.median(bare_runs)
    verify_s = statistics.median(verify_runs)
    size_mb = path.stat().st_size / 1e6
    out(f"   {backend}: {entries:,} entries about one provider (appended and integrated in "
        f"{setup:.0f} s); bundle {size_mb:,.0f} MB, {steps / entries:.1f} proof hashes per entry")
    out(f"   {'':<58}{'seconds':>9}{'vs hashlib':>12}   runs")
    out(f"   {'bare hashlib: the SHA-256 calls verification needs':<58}{bare_s:>9.1f}"
        f"{1:>11.2f}x   {_runs(bare_runs)}")
    out(f"   {'export (read, encode, prove from stored nodes, write)':<58}{export_s:>9.1f}"
        f"{export_s / bare_s:>11.2f}x   {_runs(export_runs)}")
    out(f"   {'verify-bundle offline (parse, hash, check each proof)':<58}{verify_s:>9.1f}"
        f"{verify_s / bare_s:>11.2f}x   {_runs(verify_runs)}")


def _runs(figures: list[float]) -> str:
    return ", ".join(f"{s:.1f}" for s in figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--entries", type=int)
    parser.add_argument("--only", default="1,2,3")
    parser.add_argument("--backend", default="SQLite",
                        help="section 3's databases: SQLite, PostgreSQL or both, by commas")
    parser.add_argument("--repeat", type=int, default=3, help="section 3's exports")
    parser.add_argument("--verify-repeat", type=int, default=1,
                        help="section 3's offline verifications")
    args = parser.parse_args()
    entries = args.entries or (50_000 if args.quick else 1_000_000)
    out = Report("evidence")
    out(machine_header("audit evidence: timestamps, witnesses, bundles"))
    only = {int(x) for x in args.only.split(",")}
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as work:
        folder = Path(work)
        if 1 in only:
            out("\n-- 1. what timestamping and witnessing add to a governed query")
            query_cost(out, folder, people=500 if args.quick else 2_000,
                       queries=200 if args.quick else 500, blocks=3 if args.quick else 6)
        if 2 in only:
            out("\n-- 2. heads timestamped per second, local authority")
            stamping_rate(out, folder, heads=100 if args.quick else 500)
        if 3 in only:
            out(f"\n-- 3. a bundle of {entries:,} entries: export and offline verification")
            for backend in args.backend.split(","):
                bundle(out, folder, entries, backend=backend, repeat=args.repeat,
                       verify_repeat=args.verify_repeat)
    out.close()


if __name__ == "__main__":
    sys.exit(main())
