"""Governed query over HTTP against an ungoverned read of the same record.

What it measures
    The throughput and latency of the governed query, `POST /v1/queries` (authenticate the
    bearer token, read the agreement afresh, resolve the person, count today's usage,
    decide, read the provider's store through its connector, minimise, reserve the usage
    and write the audit entry in one transaction, sign the canonical JSON with the
    provider's key), against an ungoverned endpoint added for this benchmark only,
    `GET /bench/raw/{nino}`, which reads the same HMRC `annual_income` record through the
    same connector from the same store and returns it as JSON: no authentication, no
    decision, no audit, no signature. Target: the governed query reaches at least 50% of
    the ungoverned endpoint's throughput.

    Both endpoints are served by the same server process in the same run: the app from
    `onceonly.entrypoints.api.app.create_app` (with its middleware), plus the ungoverned
    route, under uvicorn with one worker, bound to 127.0.0.1. The demo world (10,000 people
    by default) is built fresh on SQLite (a temporary folder) and on PostgreSQL (a fresh
    schema in the database `test`; provider stores in schemas of their own; all dropped
    afterwards).

    The load generator is wrk (HTTP/1.1 keep-alive, -t2 -c16 by default) with a Lua script
    that rotates through 2,000 NINOs drawn from the whole population, so no single row is
    hot. The governed request is agreement 1 (DWP asks HMRC for `income_band`, purpose
    `benefit-entitlement`) with the DWP officer's token. After a warm-up of each endpoint,
    governed and ungoverned runs alternate (3 rounds each by default, the order swapped
    every round so drift in the machine's load falls on both); the medians over the rounds
    are reported: requests/s, p50 and p99 latency (wrk's own latency histogram), and the
    server's CPU time per request (from /proc/<pid>/stat, which on a shared machine is
    steadier than throughput). Every response must be 2xx: a refusal (for instance the
    agreement's 100,000-a-day limit) fails the run rather than being timed.

    With --profile, instead of the timed rounds, each endpoint runs once under the same
    load with py-spy sampling whichever server thread holds the GIL, and the Python time
    per request is split into stages (HTTP server and framework, request validation, auth,
    the decision's reads, the store read, reserve + audit + commit, signing, ...). py-spy's
    raw samples are kept in benchmarks/results/.

How to run
    uv run python -m benchmarks http                  # full: 10,000 people, 3 x 15 s each
    uv run python -m benchmarks http --quick          # smoke: 2,000 people, 1 x 3 s each
    uv run python -m benchmarks.bench_http --backend sqlite --duration 10 --rounds 5
    uv run --with py-spy python -m benchmarks.bench_http --profile   # where the time goes
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks import Report, machine_header, results_dir
from benchmarks.load import (  # the server and wrk helpers, shared with the other HTTP benches
    AGREEMENT,
    LUA_GOVERNED,
    LUA_UNGOVERNED,
    exchange_server,
    median,
    run_wrk,
    wrk_scripts,
    wrk_version,
)

POSTGRES = os.environ.get("ONCEONLY_BENCH_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NINOS = 2_000

# -- databases ---------------------------------------------------------------------------


@contextmanager
def sqlite_database() -> Iterator[tuple[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="onceonly-http-"))
    try:
        yield f"sqlite:///{folder / 'exchange.sqlite'}", "store"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_database() -> Iterator[tuple[str, str]]:
    from sqlalchemy import create_engine, text

    schema = f"bench_http_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES)

    def drop() -> None:
        with admin.begin() as conn:
            for name in conn.execute(text(
                    "SELECT nspname FROM pg_namespace WHERE nspname = :s OR nspname LIKE :p"),
                    {"s": schema, "p": f"{schema}\\_%"}).scalars().all():
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))

    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}", schema
    finally:
        drop()
        admin.dispose()


def build(url: str, store_prefix: str, people: int) -> dict[str, Any]:
    from sqlalchemy import select

    from onceonly.adapters.db import tables as t
    from onceonly.bootstrap import bootstrap
    from onceonly.demo.seed import build_world

    exchange = bootstrap(url)
    try:
        t0 = time.perf_counter()
        world = build_world(exchange, url, people=people, store_prefix=store_prefix)
        took = time.perf_counter() - t0
        allow_load(exchange)
        with exchange.engine.connect() as conn:
            ninos = conn.execute(select(t.person_links.c.value)
                                 .where(t.person_links.c.scheme == "nino")).scalars().all()
            limit = conn.execute(select(t.agreements.c.max_queries_per_day)
                                 .where(t.agreements.c.id == AGREEMENT)).scalar_one()
    finally:
        exchange.close()
    sample = random.Random(7).sample(ninos, min(NINOS, len(ninos)))
    return {"token": world.token("officer:GOV/DWP"), "ninos": sample, "build_s": took,
            "limit": limit}


def allow_load(exchange: Any, consumer: str = "GOV/DWP") -> None:
    """Raise the consumer's anomaly thresholds above what a benchmark asks: thousands of
    people a minute, at any hour, would otherwise (rightly) suspend the agreement."""
    from onceonly.domain.anomaly import DEFAULT_RULES

    for kind, default in DEFAULT_RULES.items():
        exchange.anomaly.set_rule(consumer, None, kind.value, 10**9,
                                    int(default.window.total_seconds()))


def usage_today(url: str) -> int:
    from sqlalchemy import func, select

    from onceonly.adapters.db import tables as t
    from onceonly.adapters.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(t.query_usage.c.count), 0))
                                    .where(t.query_usage.c.agreement_id == AGREEMENT))
                       .scalar_one())
    finally:
        engine.dispose()


# -- where the time goes (--profile) -------------------------------------------------------

# Stages of a request, by the first frame (outermost first) that names one. Frames are
# "function (file:line)" as py-spy writes them. A governed query reads and writes in one
# unit of work (services/queries.py): its stages are told apart by the functions called in it.
STAGES = [
    ("background: audit integration, anomaly detection", ("Periodic.",)),
    ("auth: token -> principal (1 read)", ("authenticate (onceonly/services/auth.py",
                                           "identify (onceonly/services/auth.py")),
    ("store read through the connector", ("SqlConnector.fetch", "SqlConnectors.for_dataset",
                                          "raw (benchmarks/load.py")),
    ("reserve + audit write + commit", ("QueryService._record_release", "SqlReleases.",
                                        "SqlUsage.count", "SqlAuditLog.record",
                                        "SqlUnitOfWork.commit", "sha256_hex")),
    ("decision reads (agreement, dataset, person, usage)",
     ("QueryService._agreement ", "SqlAgreements.", "SqlCatalogue.", "SqlPersonIndex.",
      "SqlIdentities.", "SqlStaff.", "name_subject ")),
    ("sign (canonical JSON + Ed25519 JWS)", ("QueryService._signed", "SqlKeyStore.sign_for",
                                             "canonical_json")),
]
# Frames of a thread waiting for work, not doing any: dropped.
IDLE = ("EpollSelector.select", "Condition.wait", "Queue.get", "Event.wait", "Thread.join")


HANDOFF = ("run_sync_in_worker_thread", "run_in_threadpool", "Queue.put", "WorkerThread.run",
           "_WorkItem.run", "ThreadPoolExecutor.submit", "BaseEventLoop.run_in_executor",
           "BaseSelectorEventLoop._write_to_self", "BaseSelectorEventLoop._read_from_self",
           "BaseEventLoop.call_soon_threadsafe", "_SelectorSocketTransport._read_ready__get_buffer")


# Checking out a connection and BEGIN (the write's too, begin_writing), ROLLBACK and close.
UNITS_OF_WORK = ("SqlUnitOfWork.__enter__", "SqlUnitOfWork.__exit__",
                 "SqlUnitOfWork.begin_writing")


# The body read and validated: by FastAPI's dependencies, or by QueryFront, the governed
# query's own front (entrypoints/api/routes/queries.py), which takes FastAPI's steps itself.
PARSING = ("solve_dependencies", "request_body_to_args", "_validate_value",
           "_body (onceonly/entrypoints/api/routes/queries.py", "TypeAdapter.validate_python")
ENDPOINTS = ("QueryFront._answer", "query (onceonly/entrypoints/api/routes/queries.py",
             "released (onceonly/entrypoints/api/routes/queries.py", "raw (")


def stage_of(frames: list[str]) -> str:
    if any(frame.startswith(UNITS_OF_WORK) for frame in frames):
        return "units of work (connection checkout, BEGIN, end)"
    for frame in frames:
        for stage, markers in STAGES:
            if any(frame.startswith(m) for m in markers):
                return stage
    if any(f.startswith("QueryService._query ") for f in frames):
        return "decision and minimisation (in Python)"
    # An async endpoint awaiting a thread: Starlette's, or the API's own (api/dispatch.py).
    if any(f.startswith(HANDOFF) for f in frames[-3:]) \
            or any(f.startswith("WorkerThreads.") for f in frames):
        return "hand-offs between the event loop and the worker threads"
    if any(f.startswith(PARSING) for f in frames):
        return "request parsing and validation"
    if any(f.startswith(ENDPOINTS) for f in frames):
        return "endpoint body (headers, token, response, metrics)"
    if any(f.startswith(("WorkerThread.run", "_WorkItem.run")) for f in frames):
        return "hand-offs between the event loop and the worker threads"
    return "HTTP server and framework (uvicorn, h11, Starlette, middleware)"


def profile_breakdown(raw: Path, requests: int) -> dict[str, float]:
    """Milliseconds per request in each stage, from a py-spy --gil raw file: time holding
    Python's GIL, that is the server's CPU time in Python (and in C called from Python)."""
    stages: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames or frames[-1].startswith(IDLE):
            continue
        stage = stage_of(frames)
        stages[stage] = stages.get(stage, 0) + int(count)
    return {k: v * PROFILE_MS_PER_SAMPLE / requests for k, v in
            sorted(stages.items(), key=lambda kv: -kv[1])}


PROFILE_RATE = 250  # samples a second: more slows the server down noticeably
PROFILE_MS_PER_SAMPLE = 1000 / PROFILE_RATE


def profile(base: str, pid: int, script: Path, seconds: int, threads: int, connections: int,
            log: Path, kind: str, name: str) -> tuple[dict[str, Any], dict[str, float]]:
    """The same load as the timed runs, with py-spy sampling whichever thread holds the GIL:
    where the server's CPU goes, per request. (Waits, for the database or for the GIL, are
    not in it; at this load the server is CPU-bound, so CPU per request sets throughput.)"""
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        raise RuntimeError("--profile needs py-spy: uv run --with py-spy python -m "
                           "benchmarks.bench_http --profile")
    raw = results_dir() / f"http-{name}-{kind}-pyspy.txt"
    recorder = subprocess.Popen(
        [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate",
         str(PROFILE_RATE), "--gil", "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # py-spy attaches
    result = run_wrk(base, script, seconds - 2, threads, connections, pid, log)
    recorder.wait(timeout=seconds + 60)
    return result, profile_breakdown(raw, result["requests"])


# -- one backend --------------------------------------------------------------------------


def check_sample(base: str, world: dict[str, Any]) -> str:
    """One governed query must be a signed 200 (not a refusal) before anything is timed,
    and the ungoverned endpoint must return the same person's record."""
    from onceonly.client import OnceonlyClient

    nino = world["ninos"][0]
    client = OnceonlyClient(base, token=world["token"])
    release = client.query(AGREEMENT, "nino", nino, ["income_band"], "benefit-entitlement")
    raw = httpx.get(f"{base}/bench/raw/{nino}", timeout=10)
    if raw.status_code != 200 or "annual_income" not in raw.json():
        raise RuntimeError(f"the ungoverned endpoint answered {raw.status_code}: {raw.text}")
    return (f"sample: governed 200, signature verified (signed by {release.signed_by}), "
            f"data {release.data}; ungoverned 200, {raw.json()}")


def run_backend(name: str, database: Any, args: argparse.Namespace,
                out: Report) -> dict[str, Any]:
    log = results_dir() / f"http-{name}-wrk.log"
    log.write_text("")
    with database as (url, store_prefix):
        out(f"[{name}] building {args.people:,} people ...")
        world = build(url, store_prefix, args.people)
        out(f"[{name}] built in {world['build_s']:.1f} s; starting the server")
        scripts = Path(tempfile.mkdtemp(prefix="onceonly-wrk-"))
        try:
            lua = wrk_scripts(scripts, world, {"governed": LUA_GOVERNED,
                                               "ungoverned": LUA_UNGOVERNED})
            governed_lua, raw_lua = lua["governed"], lua["ungoverned"]
            with exchange_server(url, results_dir() / f"http-{name}-server.log") as (
                    base, pid):
                out(f"[{name}] {check_sample(base, world)}")
                wrk = (args.threads, args.connections)
                # Warm-up: connection pools, page caches, the signing key.
                for script in (governed_lua, raw_lua):
                    run_wrk(base, script, args.warmup, *wrk, pid, log)
                runs: dict[str, list[dict[str, Any]]] = {"governed": [], "ungoverned": []}
                if args.profile:
                    profiles = {}
                    for kind, script in (("governed", governed_lua), ("ungoverned", raw_lua)):
                        result, stages = profile(base, pid, script, max(args.duration, 8),
                                                 *wrk, log, kind, name)
                        profiles[kind] = {"result": result, "stages": stages}
                        print_profile(out, name, kind, result, stages)
                    return {"backend": name, "profiles": profiles}
                for n in range(args.rounds):
                    order = ["governed", "ungoverned"] if n % 2 == 0 else \
                        ["ungoverned", "governed"]
                    for kind in order:
                        if kind == "governed":
                            used = usage_today(url)
                            if used + 2_000 * args.duration > world["limit"]:
                                raise RuntimeError(
                                    f"agreement {AGREEMENT} has used {used:,} of its "
                                    f"{world['limit']:,} queries today; a further run could "
                                    "reach the limit (use a shorter --duration)")
                        script = governed_lua if kind == "governed" else raw_lua
                        result = run_wrk(base, script, args.duration, *wrk, pid, log)
                        runs[kind].append(result)
                        out(f"[{name}] round {n + 1} {kind:10s} {result['rps']:8,.0f} req/s  "
                            f"p50 {result['p50_us'] / 1000:7.2f} ms  "
                            f"p99 {result['p99_us'] / 1000:7.2f} ms  "
                            f"server CPU {result['server_cpu_ms_per_request']:.2f} ms/req")
        finally:
            shutil.rmtree(scripts, ignore_errors=True)
        used = usage_today(url)
    return {"backend": name, "people": args.people, "runs": runs, "usage_today": used,
            "limit": world["limit"]}


def print_profile(out: Report, name: str, kind: str, result: dict[str, Any],
                  stages: dict[str, float]) -> None:
    total = sum(stages.values())
    out(f"[{name}] {kind} under py-spy: {result['rps']:,.0f} req/s, server CPU "
        f"{result['server_cpu_ms_per_request']:.2f} ms/req; Python (GIL-held) time per "
        "request by stage:")
    for stage, ms in stages.items():
        out(f"    {ms:7.3f} ms {ms / total:5.0%}  {stage}")
    out(f"    {total:7.3f} ms        in all")


def summarise(out: Report, results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    out()
    out(f"medians over {args.rounds} round(s) of {args.duration} s each; load generator "
        f"{wrk_version()}, wrk -t{args.threads} -c{args.connections} --latency")
    out(f"{'backend':10s} {'endpoint':11s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'CPU ms/req':>10s}")
    for result in results:
        for kind in ("governed", "ungoverned"):
            runs = result["runs"][kind]
            out(f"{result['backend']:10s} {kind:11s} {median(runs, 'rps'):8,.0f} "
                f"{median(runs, 'p50_us') / 1000:8.2f} {median(runs, 'p99_us') / 1000:8.2f} "
                f"{median(runs, 'server_cpu_ms_per_request'):10.2f}")
    out()
    for result in results:
        gov, raw = result["runs"]["governed"], result["runs"]["ungoverned"]
        ratio = median(gov, "rps") / median(raw, "rps")
        cpu_ratio = median(raw, "server_cpu_ms_per_request") / \
            median(gov, "server_cpu_ms_per_request")
        verdict = "meets" if ratio >= 0.5 else "misses"
        out(f"{result['backend']}: governed/ungoverned throughput = {ratio:.0%} "
            f"({verdict} the >= 50% target); by server CPU per request {cpu_ratio:.0%}; "
            f"agreement {AGREEMENT} used {result['usage_today']:,} of {result['limit']:,} "
            "queries today")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--people", type=int, help="default 10,000 (2,000 with --quick)")
    parser.add_argument("--duration", type=int, help="seconds per run (15; 3 with --quick)")
    parser.add_argument("--rounds", type=int, help="runs of each endpoint (3; 1 with --quick)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile", action="store_true",
                        help="instead of the timed rounds: one run per endpoint under py-spy, "
                             "and where each request's CPU goes")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install -y wrk)", file=sys.stderr)
        return 2
    args.people = args.people or (2_000 if args.quick else 10_000)
    args.duration = args.duration or (3 if args.quick else 15)
    args.rounds = args.rounds or (1 if args.quick else 3)
    if args.quick:
        args.warmup = min(args.warmup, 1)

    out = Report("http")
    out(machine_header("http: governed query against an ungoverned read of the same record"))
    runs = (f"one run of {max(args.duration, 8) - 2} s per endpoint under py-spy"
            if args.profile else f"{args.rounds} x {args.duration} s per endpoint")
    out(f"load       {wrk_version()}; -t{args.threads} -c{args.connections}, {runs} after "
        f"{args.warmup} s warm-up; {args.people:,} people, {NINOS:,} NINOs rotated")
    out("server     uvicorn, 1 worker, 127.0.0.1; the app from create_app() plus "
        "GET /bench/raw/{nino}")
    out()
    backends = {"sqlite": sqlite_database, "postgresql": postgres_database}
    chosen = list(backends) if args.backend == "both" else [args.backend]
    results = [run_backend(name, backends[name](), args, out) for name in chosen]
    if not args.profile:
        summarise(out, results, args)
    out.path.with_suffix(".json").write_text(json.dumps(results, indent=2))
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
