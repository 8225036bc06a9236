"""Scale: build the demo world with a million people, then serve it and measure memory.

What it measures
    1. The demo world is built with N people (default 1,000,000) into a fresh SQLite
       exchange database (and the providers' own SQLite stores beside it) in a temporary
       folder, by `onceonly.bootstrap.bootstrap` + `onceonly.demo.seed.build_world` running
       in a child process of its own. Reported: wall time and CPU time of the build,
       people per second, the child's peak memory (max RSS, from getrusage), and the size
       on disk of the exchange database and of each store.
    2. `onceonly serve --db <that database>` is started as a subprocess (one worker, bound
       to 127.0.0.1), a few hundred governed queries (`POST /v1/queries`, agreement 1, the
       DWP officer's token, NINOs drawn at random from the whole population) are made one
       after another, and the server's memory is read from /proc/<pid>/status: VmRSS after
       start-up, VmRSS after the queries, and VmHWM (its peak).
    The same is done for a 10,000-person world (the size the tests and `make demo` use) as
    the peer, and the ratios are printed.

    Wall times depend on the machine's load (a shared 2-CPU machine, in our runs); CPU time
    is the steadier figure. Memory figures do not depend on load.

How to run
    uv run python -m benchmarks scale                 # 1,000,000 people (and the 10,000 peer)
    uv run python -m benchmarks scale --quick         # 20,000 people, peer 2,000
    uv run python -m benchmarks.bench_scale --people 200000 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks import Report, machine_header, results_dir, server_process

PEER = 10_000
QUERIES = 300


# -- the build, in a child process so that its peak memory is its own ---------------------

def child_build(people: int, folder: Path) -> None:
    from onceonly.bootstrap import bootstrap
    from onceonly.demo.seed import build_world

    url = f"sqlite:///{folder / 'exchange.sqlite'}"
    exchange = bootstrap(url)
    done = 0
    step = max(people // 10, 1)

    def progress(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if done // step != before // step:
            print(f"  ... {done:,} people in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)

    start = time.perf_counter()
    cpu = time.process_time()
    world = build_world(exchange, url, people=people, progress=progress)
    exchange.close()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({
        "people": people, "url": url, "wall_s": wall, "cpu_s": cpu, "maxrss_kib": maxrss_kib,
        "officer_token": world.token("officer:GOV/DWP"), "citizen": world.citizen_ids,
    }))


def build(people: int, folder: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_scale", "--child-build",
         "--people", str(people), "--dir", str(folder)],
        stdout=subprocess.PIPE, text=True, check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- sizes on disk ----------------------------------------------------------------------

def file_size(path: Path) -> int:
    # An SQLite database is its main file plus, while open, its -wal file.
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def sizes(folder: Path) -> dict[str, int]:
    from onceonly.config import beside_database

    database = folder / "exchange.sqlite"
    found = {"exchange": file_size(database)}
    for store in sorted(beside_database(f"sqlite:///{database}", "stores").glob("*.sqlite")):
        found[store.stem] = file_size(store)
    return found


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:,.1f} MiB"


# -- the server -----------------------------------------------------------------------

def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def sample_ninos(folder: Path, n: int, seed: int = 1) -> list[str]:
    """NINOs of people spread across the whole population (not one hot row): the first
    NINO at or after each of n random rows of the person index."""
    with sqlite3.connect(folder / "exchange.sqlite") as conn:
        last = conn.execute("SELECT max(rowid) FROM person_links").fetchone()[0]
        rng = random.Random(seed)
        found: set[str] = set()
        for _ in range(n * 20):
            if len(found) == n:
                break
            row = conn.execute("SELECT value FROM person_links WHERE rowid >= ? AND "
                               "scheme = 'nino' LIMIT 1", (rng.randint(1, last),)).fetchone()
            if row:
                found.add(row[0])
        return sorted(found)


def serve_and_query(built: dict[str, Any], folder: Path, queries: int,
                    log: Path) -> dict[str, Any]:
    ninos = sample_ninos(folder, queries)
    random.Random(2).shuffle(ninos)

    def serve(port: int) -> list[str]:
        return [sys.executable, "-m", "onceonly.entrypoints.cli", "serve", "--db", built["url"],
                "--host", "127.0.0.1", "--port", str(port)]

    with server_process(serve, log) as (base, pid), \
            httpx.Client(base_url=base, timeout=30) as client:
        started = proc_status(pid)
        headers = {"Authorization": f"Bearer {built['officer_token']}"}
        latencies = []
        statuses: dict[int, int] = {}
        for nino in ninos:
            body = {"agreement_id": 1, "subject": {"scheme": "nino", "value": nino},
                    "fields": ["income_band"], "purpose": "benefit-entitlement"}
            t0 = time.perf_counter()
            response = client.post("/v1/queries", json=body, headers=headers)
            latencies.append(time.perf_counter() - t0)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        after = proc_status(pid)
    if statuses.get(200, 0) != len(ninos):
        raise RuntimeError(f"expected every query to be answered 200, got {statuses}")
    return {
        "queries": len(ninos), "statuses": statuses,
        "rss_started_kib": started["VmRSS"], "rss_after_kib": after["VmRSS"],
        "hwm_kib": after["VmHWM"],
        "latency_p50_ms": statistics.median(latencies) * 1000,
        "latency_mean_ms": statistics.fmean(latencies) * 1000,
    }


# -- one world, start to finish --------------------------------------------------------

def measure(people: int, queries: int, out: Report, keep: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"onceonly-scale-{people}-", dir=os.environ.get(
        "ONCEONLY_BENCH_TMP")))
    try:
        out(f"building {people:,} people into {folder} ...")
        built = build(people, folder)
        built["sizes"] = sizes(folder)
        out(f"  built in {built['wall_s']:.1f} s wall, {built['cpu_s']:.1f} s CPU; "
            f"serving it and making {queries} queries ...")
        log = results_dir() / f"scale-server-{people}.log"
        built["server"] = serve_and_query(built, folder, queries, log)
        built["sizes_after_serving"] = sizes(folder)
        return built
    finally:
        if keep:
            out(f"  kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def print_results(out: Report, results: list[dict[str, Any]]) -> None:
    big, peer = results
    out()
    out(f"{'':34s} {big['people']:>14,} {peer['people']:>14,} {'ratio':>8s}")

    def row(label: str, a: float, b: float, fmt: str) -> None:
        out(f"{label:34s} {fmt.format(a):>14s} {fmt.format(b):>14s} {a / b:>7.1f}x")

    out("build (bootstrap + build_world, child process)")
    row("  wall time, s", big["wall_s"], peer["wall_s"], "{:,.1f}")
    row("  CPU time, s", big["cpu_s"], peer["cpu_s"], "{:,.1f}")
    row("  people/s (wall)", big["people"] / big["wall_s"], peer["people"] / peer["wall_s"],
        "{:,.0f}")
    row("  peak memory (max RSS), MiB", big["maxrss_kib"] / 1024, peer["maxrss_kib"] / 1024,
        "{:,.1f}")
    out("size on disk, MiB")
    for name in big["sizes"]:
        row(f"  {name}", big["sizes"][name] / 2**20, peer["sizes"].get(name, 0) / 2**20,
            "{:,.1f}")
    row("  all stores + exchange", sum(big["sizes"].values()) / 2**20,
        sum(peer["sizes"].values()) / 2**20, "{:,.1f}")
    bs, ps = big["server"], peer["server"]
    out(f"server (`onceonly serve`, 1 worker) with the world in its stores, "
        f"{bs['queries']} governed queries made")
    row("  VmRSS after start-up, MiB", bs["rss_started_kib"] / 1024, ps["rss_started_kib"] / 1024,
        "{:,.1f}")
    row("  VmRSS after the queries, MiB", bs["rss_after_kib"] / 1024, ps["rss_after_kib"] / 1024,
        "{:,.1f}")
    row("  VmHWM (peak), MiB", bs["hwm_kib"] / 1024, ps["hwm_kib"] / 1024, "{:,.1f}")
    row("  query latency p50 (sequential), ms", bs["latency_p50_ms"], ps["latency_p50_ms"],
        "{:,.2f}")
    out()
    out(f"server memory with {big['people']:,} people in the demo stores: "
        f"{bs['rss_after_kib'] / 1024:,.0f} MiB RSS (peak {bs['hwm_kib'] / 1024:,.0f} MiB), "
        f"against {ps['rss_after_kib'] / 1024:,.0f} MiB with {peer['people']:,}: "
        f"{bs['rss_after_kib'] / ps['rss_after_kib']:.2f}x")
    out(f"build of {big['people']:,} people: {big['wall_s'] / 60:,.1f} min wall "
        f"({big['people'] / big['wall_s']:,.0f} people/s), {big['cpu_s'] / 60:,.1f} min CPU, "
        f"peak {big['maxrss_kib'] / 1024:,.0f} MiB; "
        f"{sum(big['sizes'].values()) / 2**30:,.2f} GiB on disk")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, help="default 1,000,000 (20,000 with --quick)")
    parser.add_argument("--peer", type=int, help=f"default {PEER:,} (2,000 with --quick)")
    parser.add_argument("--queries", type=int, default=QUERIES)
    parser.add_argument("--quick", action="store_true", help="a smaller world, for a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the built worlds")
    parser.add_argument("--child-build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build:
        child_build(args.people, args.dir)
        return 0
    people = args.people or (20_000 if args.quick else 1_000_000)
    peer = args.peer or (2_000 if args.quick else PEER)

    out = Report("scale")
    out(machine_header(f"scale: the demo world with {people:,} people (peer: {peer:,})"))
    out(f"backend    SQLite (exchange database and one file per provider store), "
        f"sqlite {sqlite3.sqlite_version}")
    out()
    results = [measure(n, args.queries, out, args.keep) for n in (people, peer)]
    print_results(out, results)
    raw = out.path.with_suffix(".json")
    raw.write_text(json.dumps(results, indent=2, default=str))
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
