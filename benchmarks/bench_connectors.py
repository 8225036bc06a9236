"""The HTTP connector: a governed query through the exchange to a provider's own API,
against the same load sent straight to that API; and what the connector costs.

What it measures (issue 17, Speed)
    1. The connector's own cost per read, in process: `HttpConnector.fetch_async` (URL
       template, projection parameter, breaker, JSON Pointer lookups and type checks)
       against a bare pooled aiohttp GET and json.loads of the same URL, both on one event
       loop with 16 reads in flight, the provider in a process of its own. The figure is
       this process's CPU time per read (the provider's is not in it). Target: <= 1.3x.
    2. A governed query's CPU in the exchange's server process over the HTTP connector
       against the same query over the SQL connector (the demo's HMRC store), driven by
       wrk. Target: no more than 0.2 ms above. The read's own part of the difference is
       priced in process beside 1.: the SQL connector's read of the same field, on the loop
       as the governed query makes it on SQLite, against the HTTP connector's.
    3. The ratio of the exchange's governed throughput over the HTTP connector to the same
       wrk load sent straight to the provider's API (`GET /people/{nino}?fields=income`),
       with P (the provider's CPU per request) and E (the exchange's) beside it: on one
       machine both share the cores, so the ratio is bounded by P/(P+E); with the exchange
       on a machine of its own it would be about P/E. Target: >= 0.07 here.
    4. The exchange's added latency at a moderate load (wrk -c2): p50 and p99 of the
       governed query over HTTP against the direct call.

    The provider is a lean API of this module's own (`--provide`): aiohttp's low-level
    server over its own SQLite store (HMRC's records, from the demo world), one indexed
    read and one JSON answer a request. The exchange is the real app under uvicorn, one
    worker, on SQLite.

How to run
    uv run python -m benchmarks connectors            # 10,000 people, 3 x 10 s each
    uv run python -m benchmarks connectors --quick    # 2,000 people, 1 x 4 s each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import Report, machine_header, results_dir, server_process
from benchmarks.bench_http import build, sqlite_database
from benchmarks.load import (
    DATASET,
    LUA_COMMON,
    LUA_GOVERNED,
    cpu_seconds,
    exchange_server,
    run_wrk,
    wrk_scripts,
    wrk_version,
)

HMRC_FIELDS = {
    "full_name": {"type": "string", "jmespath": "name.full", "param": "name"},
    "address": {"type": "string", "pointer": "/address", "param": "address"},
    "annual_income": {"type": "integer", "pointer": "/income/annual", "param": "income"},
    "tax_code": {"type": "string", "jmespath": "income.taxCode", "param": "income"},
    "child_benefit_claimant": {"type": "boolean", "pointer": "/childBenefit",
                               "param": "childBenefit"},
}

LUA_DIRECT = LUA_COMMON + """
function request()
  i = i + 1
  return wrk.format("GET", "/people/" .. ninos[(i %% #ninos) + 1] .. "?fields=income")
end
"""


# -- the provider's API (its own process) ---------------------------------------------------


def provide(store: str, port: int) -> None:
    """Child process: HMRC's lean API over its own SQLite store, one indexed read a request.
    GET /people/{nino}[?fields=a,b]; /healthz."""
    import sqlite3

    from aiohttp import web

    db = sqlite3.connect(store, check_same_thread=False)
    read = "SELECT record FROM people WHERE nino = ?"

    async def handle(request: web.BaseRequest) -> web.Response:
        path = request.path
        if path == "/healthz":
            return web.Response(body=b'{"status":"ok"}', content_type="application/json")
        row = db.execute(read, (path.rpartition("/")[2],)).fetchone()
        if row is None:
            return web.Response(status=404, body=b"{}", content_type="application/json")
        record = json.loads(row[0])
        fields = request.query.get("fields")
        if fields:
            wanted = set(fields.split(","))
            record = {k: v for k, v in record.items() if k in wanted or k == "id"}
        return web.Response(body=json.dumps(record).encode(), content_type="application/json")

    async def main() -> None:
        runner = web.ServerRunner(web.Server(handle), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def provider_store(url: str, path: Path) -> None:
    """The provider's own SQLite store: HMRC's records as its API answers them."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (nino TEXT PRIMARY KEY, record TEXT NOT NULL)")
        db.executemany("INSERT INTO people VALUES (?, ?)",
                       [(k, json.dumps(v)) for k, v in hmrc_records(url).items()])


def hmrc_records(url: str) -> dict[str, dict[str, Any]]:
    """HMRC's records from the demo world's store, laid out as its API answers them."""
    from sqlalchemy import MetaData, select

    from onceonly.adapters.connectors.sql import store_table
    from onceonly.adapters.db import tables as t
    from onceonly.adapters.db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        config = conn.execute(select(t.datasets.c.connector)
                              .where(t.datasets.c.id == DATASET)).scalar_one()
    engine.dispose()
    store = make_engine(config["url"])
    with store.connect() as conn:
        rows = conn.execute(select(store_table(MetaData(), config))).mappings().all()
    store.dispose()
    return {r["nino"]: {"id": r["nino"], "name": {"full": r["full_name"]},
                        "address": r["address"],
                        "income": {"annual": r["annual_income"], "taxCode": r["tax_code"]},
                        "childBenefit": r["child_benefit_claimant"]} for r in rows}


def set_connector(url: str, config: dict[str, Any]) -> dict[str, Any]:
    """Point HMRC's dataset at `config`; return what it was."""
    from sqlalchemy import select, update
    from sqlalchemy.exc import OperationalError

    from onceonly.adapters.db import tables as t
    from onceonly.adapters.db.engine import make_engine

    engine = make_engine(url)
    try:
        for _ in range(100):  # the server's own writes may hold SQLite's lock a moment
            try:
                with engine.begin() as conn:
                    before = conn.execute(select(t.datasets.c.connector)
                                          .where(t.datasets.c.id == DATASET)).scalar_one()
                    conn.execute(update(t.datasets).where(t.datasets.c.id == DATASET)
                                 .values(connector=config))
                return dict(before)
            except OperationalError:
                time.sleep(0.1)
        raise RuntimeError("could not re-point the dataset: the database stayed locked")
    finally:
        engine.dispose()


def http_config(provider: str) -> dict[str, Any]:
    return {"kind": "http", "url": provider + "/people/{id}", "fields_param": "fields",
            "fields": HMRC_FIELDS, "timeout": 10, "retries": 1}


# -- 1. the connector's own cost, in process ------------------------------------------------


def connector_cost(provider: str, ninos: list[str], reads: int,
                   sql: dict[str, Any]) -> dict[str, float]:
    """CPU per read in this process: the connector against a bare pooled GET, and the SQL
    connector's read of the same field from the demo's store (as the governed query makes
    it on SQLite: on the loop), which prices the read's part of HTTP against SQL."""
    import aiohttp

    from onceonly.adapters.connectors.http import HttpConnectors
    from onceonly.adapters.connectors.sql import SqlConnectors

    connectors, stores = HttpConnectors(), SqlConnectors()
    connector = connectors.for_config(http_config(provider))
    store = stores.for_dataset(DATASET, sql)

    async def bare(session: aiohttp.ClientSession, nino: str) -> Any:
        async with session.get(f"{provider}/people/{nino}?fields=income") as got:
            return json.loads(await got.read())

    async def measure() -> dict[str, float]:
        figures: dict[str, list[float]] = {"bare": [], "connector": [], "sql": []}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            async def run(kind: str) -> float:
                queue = iter(range(reads))

                async def worker() -> None:
                    for i in queue:
                        nino = ninos[i % len(ninos)]
                        if kind == "bare":
                            await bare(session, nino)
                        elif kind == "sql":
                            store.fetch(nino, ["annual_income"])
                        else:
                            await connector.fetch_async(nino, ["annual_income"])

                cpu = time.process_time()
                await asyncio.gather(*(worker() for _ in range(16)))
                return (time.process_time() - cpu) * 1000 / reads

            for kind in ("bare", "connector", "sql"):  # warm the pools
                await run(kind)
            for n in range(5):
                for kind in (("bare", "connector", "sql") if n % 2 == 0
                             else ("sql", "connector", "bare")):
                    figures[kind].append(await run(kind))
        await connectors.pools.aclose()
        return {k: statistics.median(v) for k, v in figures.items()}

    try:
        return asyncio.run(measure())
    finally:
        connectors.close()
        stores.dispose()


# -- the run -------------------------------------------------------------------------------


def serve_provider(records_file: Path, log: Path):  # type: ignore[no-untyped-def]
    return server_process(lambda port: [sys.executable, "-m", "benchmarks.bench_connectors",
                                        "--provide", str(records_file), "--port", str(port)],
                          log)


def wrk_round(base: str, script: Path, args: argparse.Namespace, connections: int,
              pids: dict[str, int], log: Path) -> dict[str, Any]:
    """One wrk run; CPU per request of each named process (the exchange, the provider)."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result = run_wrk(base, script, args.duration, args.threads, connections,
                     next(iter(pids.values())), log)
    for name, pid in pids.items():
        result[f"{name}_cpu_ms"] = (cpu_seconds(pid) - before[name]) * 1000 / result["requests"]
    return result


def run(args: argparse.Namespace, out: Report) -> None:
    log = results_dir() / "connectors-wrk.log"
    log.write_text("")
    scripts = Path(tempfile.mkdtemp(prefix="onceonly-connectors-"))
    try:
        with sqlite_database() as (url, store_prefix):
            out(f"building {args.people:,} people ...")
            world = build(url, store_prefix, args.people)
            records = scripts / "hmrc.sqlite"
            provider_store(url, records)
            lua = wrk_scripts(scripts, world, {"governed": LUA_GOVERNED, "direct": LUA_DIRECT})
            governed, direct = lua["governed"], lua["direct"]
            with serve_provider(records, results_dir() / "connectors-provider.log") as (
                    provider, provider_pid):
                sql = set_connector(url, http_config(provider))  # the demo's SQL store
                cost = connector_cost(provider, world["ninos"], args.reads, sql)
                out(f"1. CPU per read in process: bare aiohttp GET {cost['bare']:.3f} ms, "
                    f"HTTP connector {cost['connector']:.3f} ms, ratio "
                    f"{cost['connector'] / cost['bare']:.2f} (target <= 1.3); SQL "
                    f"connector {cost['sql']:.3f} ms")
                with exchange_server(url, results_dir() / "connectors-server.log") as (
                        base, pid):
                    runs = measure(args, out, url, sql, provider, base,
                                   {"exchange": pid, "provider": provider_pid},
                                   governed, direct, log)
        summarise(out, args, cost, runs)
    finally:
        shutil.rmtree(scripts, ignore_errors=True)


def measure(args: argparse.Namespace, out: Report, url: str, sql: dict[str, Any],
            provider: str, base: str, pids: dict[str, int], governed: Path, direct: Path,
            log: Path) -> dict[str, list[dict[str, Any]]]:
    """Alternating rounds: governed over SQL, governed over HTTP, direct to the provider;
    then the moderate load for latency."""
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "sql", "http", "direct", "http_moderate", "direct_moderate")}
    configs = {"sql": sql, "http": http_config(provider)}
    for kind in ("sql", "http"):  # warm-up
        set_connector(url, configs[kind])
        run_wrk(base, governed, args.warmup, args.threads, args.connections,
                pids["exchange"], log)
    for n in range(args.rounds):
        order = ["sql", "http", "direct"] if n % 2 == 0 else ["direct", "http", "sql"]
        for kind in order:
            if kind == "direct":
                result = wrk_round(provider, direct, args, args.connections,
                                   {"provider": pids["provider"]}, log)
            else:
                set_connector(url, configs[kind])
                result = wrk_round(base, governed, args, args.connections, pids, log)
            runs[kind].append(result)
            out(f"2/3. round {n + 1} {kind:6s} {result['rps']:8,.0f} req/s  p50 "
                f"{result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms  "
                + "  ".join(f"{k.removesuffix('_cpu_ms')} CPU {v:.3f} ms/req"
                            for k, v in result.items() if k.endswith("_cpu_ms")))
    set_connector(url, configs["http"])
    for n in range(args.rounds):
        for kind in ("http_moderate", "direct_moderate"):
            if kind == "direct_moderate":
                result = wrk_round(provider, direct, args, 2, {"provider": pids["provider"]},
                                   log)
            else:
                result = wrk_round(base, governed, args, 2, pids, log)
            runs[kind].append(result)
            out(f"4. round {n + 1} {kind:16s} {result['rps']:7,.0f} req/s  p50 "
                f"{result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:6.2f} ms")
    return runs


def summarise(out: Report, args: argparse.Namespace, cost: dict[str, float],
              runs: dict[str, list[dict[str, Any]]]) -> None:
    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    e_sql, e_http = med("sql", "exchange_cpu_ms"), med("http", "exchange_cpu_ms")
    p = med("direct", "provider_cpu_ms")
    ratio = med("http", "rps") / med("direct", "rps")
    out()
    out(f"medians over {args.rounds} round(s) of {args.duration} s; {wrk_version()}, "
        f"-t{args.threads} -c{args.connections} (moderate: -c2); {args.people:,} people, "
        "SQLite, one uvicorn worker; provider in its own process")
    out(f"1. connector CPU per read {cost['connector']:.3f} ms vs bare GET "
        f"{cost['bare']:.3f} ms: {cost['connector'] / cost['bare']:.2f}x (target <= 1.3x)")
    out(f"2. exchange CPU per governed query: HTTP connector {e_http:.3f} ms, SQL connector "
        f"{e_sql:.3f} ms: {e_http - e_sql:+.3f} ms (target <= +0.2 ms); of which the read "
        f"itself in process {cost['connector'] - cost['sql']:+.3f} ms (HTTP connector "
        f"{cost['connector']:.3f} − SQL connector {cost['sql']:.3f})")
    out(f"3. throughput: governed over HTTP {med('http', 'rps'):,.0f} req/s, direct "
        f"{med('direct', 'rps'):,.0f} req/s: ratio {ratio:.3f} (target >= 0.07); "
        f"P = {p:.3f} ms, E = {e_http:.3f} ms; bound P/(P+E) = {p / (p + e_http):.3f}; "
        f"with the exchange on a machine of its own about P/E = {p / e_http:.3f}")
    out("4. moderate load (-c2): governed over HTTP p50 "
        f"{med('http_moderate', 'p50_us') / 1000:.2f} / p99 "
        f"{med('http_moderate', 'p99_us') / 1000:.2f} ms, direct p50 "
        f"{med('direct_moderate', 'p50_us') / 1000:.2f} / p99 "
        f"{med('direct_moderate', 'p99_us') / 1000:.2f} ms: added p50 "
        f"{(med('http_moderate', 'p50_us') - med('direct_moderate', 'p50_us')) / 1000:.2f} ms,"
        f" p99 {(med('http_moderate', 'p99_us') - med('direct_moderate', 'p99_us')) / 1000:.2f}"
        " ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reads", type=int, default=5_000)
    parser.add_argument("--provide", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.provide:
        provide(args.provide, args.port)
        return
    if args.quick:
        args.people, args.duration, args.rounds, args.warmup, args.reads = 2_000, 4, 1, 2, 2_000
    out = Report("connectors")
    out(machine_header("HTTP connector: governed query through the exchange beside the "
                       "provider's API called directly"))
    run(args, out)
    out.close()


if __name__ == "__main__":
    main()
