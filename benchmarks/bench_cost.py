"""What governance costs: Δ, the server's CPU per governed query minus its CPU per ungoverned
read of the same record on the same stack, beside the governed share against two peers.

What it measures
    One server process (the real app from `create_app`, uvicorn, one worker, 127.0.0.1) serves
    three endpoints over the same demo world (SQLite or PostgreSQL, as bench_http builds it):

    - governed: `POST /v1/queries` (the DWP officer's token, agreement 1, `income_band`);
    - FastAPI peer: `GET /bench/raw/{nino}`, a route of the same FastAPI app with all its
      middleware, reading the same HMRC record through the same connector (load.py's);
    - bare peer: `GET /bench/bare/{nino}`, a plain ASGI handler put in front of the app,
      the same connector read and a JSON answer, nothing else.

    wrk drives each in turn (the order rotated every round so drift in the machine's load
    falls on all three); the server's CPU time (user + system, /proc/<pid>/stat) is divided by
    the requests answered. CPU time is steadier than throughput on a shared machine, but
    still moves with the other jobs (caches, frequency), so medians of several rounds are
    reported with the load average before and after each round.

    Δ = governed CPU per request − the FastAPI peer's: what governance adds (authentication,
    decision, release writes, audit, signature), the framework cancelling out. The shares
    (governed throughput / a peer's) are reported beside it for both peers, so a framework
    change is not mistaken for governance.

How to run
    uv run python -m benchmarks.bench_cost                        # both databases, 5 x 8 s
    uv run python -m benchmarks.bench_cost --backend sqlite --rounds 7 --duration 6
    uv run python -m benchmarks.bench_cost --loop asyncio --http h11   # the slower stack
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import Report, machine_header, results_dir
from benchmarks.bench_http import (
    NINOS,
    build,
    check_sample,
    postgres_database,
    sqlite_database,
    usage_today,
)
from benchmarks.load import (
    AGREEMENT,
    LUA_BARE,
    LUA_GOVERNED,
    LUA_UNGOVERNED,
    exchange_server,
    median,
    run_wrk,
    wrk_name,
    wrk_scripts,
)
from onceonly.entrypoints.api.server import SERVER_LOOP

KINDS = ("governed", "fastapi", "bare")

def run_backend(name: str, database: Any, args: argparse.Namespace, out: Report
                ) -> dict[str, Any]:
    log = results_dir() / f"cost-{name}-wrk.log"
    log.write_text("")
    with database as (url, store_prefix):
        out(f"[{name}] building {args.people:,} people ...")
        world = build(url, store_prefix, args.people)
        scripts = Path(tempfile.mkdtemp(prefix="onceonly-cost-"))
        try:
            paths = wrk_scripts(scripts, world, {"governed": LUA_GOVERNED,
                                                 "fastapi": LUA_UNGOVERNED, "bare": LUA_BARE})
            with exchange_server(url, results_dir() / f"cost-{name}-server.log", args.loop,
                                 args.http) as (base, pid):
                out(f"[{name}] {check_sample(base, world)}")
                wrk = (args.threads, args.connections)
                for kind in KINDS:  # warm-up: pools, page caches, the signing key
                    run_wrk(base, paths[kind], args.warmup, *wrk, pid, log)
                runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
                for n in range(args.rounds):
                    order = KINDS[n % 3:] + KINDS[:n % 3]
                    if usage_today(url) + 3_000 * args.duration > world["limit"]:
                        raise RuntimeError(f"agreement {AGREEMENT} is near its daily limit; "
                                           "use fewer rounds or a shorter --duration")
                    for kind in order:
                        load = os.getloadavg()[0]
                        result = run_wrk(base, paths[kind], args.duration, *wrk, pid, log)
                        result["load"] = load
                        runs[kind].append(result)
                        out(f"[{name}] round {n + 1} {kind:9s} {result['rps']:7,.0f} req/s  "
                            f"p50 {result['p50_us'] / 1000:6.2f} ms  server CPU "
                            f"{result['server_cpu_ms_per_request']:.3f} ms/req  "
                            f"(load {load:.2f})")
        finally:
            shutil.rmtree(scripts, ignore_errors=True)
    return {"backend": name, "people": args.people, "runs": runs}


def summarise(out: Report, results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    out()
    out(f"medians over {args.rounds} rounds of {args.duration} s; {wrk_name()} "
        f"-t{args.threads} -c{args.connections}; uvicorn loop={args.loop} http={args.http}")
    out(f"{'backend':10s} {'endpoint':9s} {'req/s':>8s} {'p50 ms':>7s} {'CPU ms/req':>10s}")
    for result in results:
        for kind in KINDS:
            runs = result["runs"][kind]
            out(f"{result['backend']:10s} {kind:9s} {median(runs, 'rps'):8,.0f} "
                f"{median(runs, 'p50_us') / 1000:7.2f} "
                f"{median(runs, 'server_cpu_ms_per_request'):10.3f}")
    out()
    for result in results:
        runs = result["runs"]
        cpu = {k: median(runs[k], "server_cpu_ms_per_request") for k in KINDS}
        rps = {k: median(runs[k], "rps") for k in KINDS}
        # Δ per round (each round has all three, close in time), then the median of those.
        deltas = [g["server_cpu_ms_per_request"] - f["server_cpu_ms_per_request"]
                  for g, f in zip(runs["governed"], runs["fastapi"], strict=True)]
        loads = [r["load"] for k in KINDS for r in runs[k]]
        out(f"{result['backend']}: Δ = {statistics.median(deltas):.3f} ms CPU per request "
            f"(rounds {min(deltas):.3f} to {max(deltas):.3f}; medians "
            f"{cpu['governed']:.3f} − {cpu['fastapi']:.3f}); beyond the bare peer "
            f"{cpu['governed'] - cpu['bare']:.3f} ms")
        out(f"{' ' * len(result['backend'])}  share of throughput: "
            f"{rps['governed'] / rps['fastapi']:.2f} of the FastAPI peer, "
            f"{rps['governed'] / rps['bare']:.2f} of the bare ASGI peer; by CPU "
            f"{cpu['fastapi'] / cpu['governed']:.2f} and {cpu['bare'] / cpu['governed']:.2f}; "
            f"load average {min(loads):.2f} to {max(loads):.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, help="default 10,000 (2,000 with --quick)")
    parser.add_argument("--duration", type=int, help="seconds per run (8; 2 with --quick)")
    parser.add_argument("--rounds", type=int, help="rounds of the three (5; 1 with --quick)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    # By default the server as `onceonly serve` runs it.
    parser.add_argument("--loop", default=SERVER_LOOP["loop"],
                        help="uvicorn's loop: uvloop (as served), asyncio")
    parser.add_argument("--http", default=SERVER_LOOP["http"],
                        help="uvicorn's HTTP parser: httptools (as served), h11")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    args.people = args.people or (2_000 if args.quick else 10_000)
    args.duration = args.duration or (2 if args.quick else 8)
    args.rounds = args.rounds or (1 if args.quick else 5)
    if args.quick:
        args.warmup = min(args.warmup, 1)
    out = Report("cost")
    out(machine_header("cost: governed CPU per request minus an ungoverned read's (Δ)"))
    out(f"load       {wrk_name()} -t{args.threads} -c{args.connections}; {args.rounds} x "
        f"{args.duration} s per endpoint after {args.warmup} s warm-up; {args.people:,} "
        f"people, {NINOS:,} NINOs rotated")
    out(f"server     uvicorn (loop {args.loop}, http {args.http}), 1 worker, 127.0.0.1: "
        "create_app() + GET /bench/raw/{nino} (FastAPI) + GET /bench/bare/{nino} (bare ASGI)")
    backends = {"sqlite": sqlite_database, "postgresql": postgres_database}
    chosen = list(backends) if args.backend == "both" else [args.backend]
    results = [run_backend(name, backends[name](), args, out) for name in chosen]
    summarise(out, results, args)
    out.path.with_suffix(".json").write_text(json.dumps(results, indent=2))
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
