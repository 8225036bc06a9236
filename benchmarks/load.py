"""The server and the load every HTTP benchmark of the governed query shares (bench_http,
bench_cost, bench_connectors): the exchange's server process, and wrk runs against it.

The server is the real app from `create_app` under uvicorn, one worker, on 127.0.0.1, with
two ungoverned reads of the same HMRC record through the same connector beside it:
`GET /bench/raw/{nino}`, a route of the same FastAPI app, and `GET /bench/bare/{nino}`, a
plain ASGI handler in front of the app. `exchange_server` starts it in a process of its
own (`python -m benchmarks.load --serve URL --port N`) and yields its base URL and pid.

wrk runs with a Lua script (`wrk_scripts` writes them for a world) that rotates through the
world's NINOs and prints its figures as one JSON line; `run_wrk` returns them with the
server's CPU time per request (user + system, from /proc/<pid>/stat).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from benchmarks import server_process

DATASET = "GOV/HMRC/income"
AGREEMENT = 1


# -- the server --------------------------------------------------------------------------


def add_ungoverned_route(app: Any, exchange: Any) -> None:
    """`GET /bench/raw/{nino}`: the HMRC record's annual income, read through the same
    connector the governed query uses. No auth, no decision, no audit, no signature."""
    from fastapi.responses import JSONResponse

    from onceonly.adapters.db.group_commit import AtCommit
    from onceonly.entrypoints.api.dispatch import blocking_runner

    with exchange.uows() as uow:
        config = uow.catalogue.connector_config(DATASET)
    connector = exchange.connectors.for_dataset(DATASET, config)

    # As the governed query, without its wait for a sync: a read commits nothing.
    run_blocking = blocking_runner(exchange.embedded_database, AtCommit())

    @app.get("/bench/raw/{nino}", include_in_schema=False)
    async def raw(nino: str) -> JSONResponse:
        record = await run_blocking(lambda: connector.fetch(nino, ["annual_income"]))
        if record is None:
            return JSONResponse({"code": "not_found"}, 404)
        return JSONResponse(record)


def bare_peer(app: Any, exchange: Any) -> Any:
    """A plain ASGI app answering `GET /bench/bare/{nino}` itself (the connector read, run
    where the governed query's blocking steps run, and a JSON body) and passing every other
    request to `app`."""
    from onceonly.adapters.db.group_commit import AtCommit
    from onceonly.entrypoints.api.dispatch import blocking_runner

    with exchange.uows() as uow:
        config = uow.catalogue.connector_config(DATASET)
    connector = exchange.connectors.for_dataset(DATASET, config)
    # Where the governed query's steps run, without its wait for a sync: a read commits nothing.
    run_blocking = blocking_runner(exchange.embedded_database, AtCommit())
    prefix = "/bench/bare/"
    headers = [(b"content-type", b"application/json")]

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(prefix):
            await app(scope, receive, send)
            return
        nino = scope["path"][len(prefix):]
        record = await run_blocking(lambda: connector.fetch(nino, ["annual_income"]))
        status, body = (200, record) if record is not None else (404, {"code": "not_found"})
        content = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})

    return asgi


def serve(url: str, port: int, loop: str = "auto", http: str = "auto") -> None:
    """Child process: the exchange's server, with both ungoverned reads beside it."""
    import uvicorn

    from onceonly.bootstrap import bootstrap
    from onceonly.entrypoints.api.app import create_app
    from onceonly.logging import configure_logging

    configure_logging()  # as `onceonly serve` does
    exchange = bootstrap(url)
    app = create_app(exchange)
    add_ungoverned_route(app, exchange)
    # As `onceonly serve` runs it: no access log of uvicorn's own, the proxy headers read by
    # the app alone.
    uvicorn.run(bare_peer(app, exchange), host="127.0.0.1", port=port, workers=1,
                access_log=False, log_level="warning", proxy_headers=False, loop=loop,
                http=http)


def exchange_server(url: str, log: Path, loop: str = "auto",
                    http: str = "auto") -> AbstractContextManager[tuple[str, int]]:
    """The exchange's server over the database at `url`, in a process of its own: its base
    URL and pid once /healthz answers; stopped afterwards. Its output goes to `log`."""
    return server_process(
        lambda port: [sys.executable, "-m", "benchmarks.load", "--serve", url,
                      "--port", str(port), "--loop", loop, "--http", http], log)


# -- wrk ---------------------------------------------------------------------------------


LUA_COMMON = """
local ninos = {%(ninos)s}
local threads = 0
function setup(thread)
  thread:set("offset", threads * 997)
  threads = threads + 1
end
function init(args)
  i = offset or 0
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "connect_errors": %%d, ' ..
    '"read_errors": %%d, "write_errors": %%d, "timeouts": %%d, "p50_us": %%d, ' ..
    '"p90_us": %%d, "p99_us": %%d, "mean_us": %%.1f, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    latency.max))
end
"""

LUA_GOVERNED = LUA_COMMON + """
local headers = {["Authorization"] = "Bearer %(token)s",
                 ["Content-Type"] = "application/json"}
function request()
  i = i + 1
  local nino = ninos[(i %% #ninos) + 1]
  local body = '{"agreement_id": %(agreement)d, "subject": {"scheme": "nino", "value": "' ..
    nino .. '"}, "fields": ["income_band"], "purpose": "benefit-entitlement"}'
  return wrk.format("POST", "/v1/queries", headers, body)
end
"""

LUA_UNGOVERNED = LUA_COMMON + """
function request()
  i = i + 1
  return wrk.format("GET", "/bench/raw/" .. ninos[(i %% #ninos) + 1])
end
"""

LUA_BARE = LUA_COMMON + """
function request()
  i = i + 1
  return wrk.format("GET", "/bench/bare/" .. ninos[(i %% #ninos) + 1])
end
"""


def wrk_scripts(folder: Path, world: dict[str, Any],
                scripts: dict[str, str]) -> dict[str, Path]:
    """Each Lua script of `scripts` (by name) filled in for `world` (its NINOs and token),
    written to `folder`; their paths by name."""
    values = {"ninos": ", ".join(f'"{n}"' for n in world["ninos"]),
              "token": world["token"], "agreement": AGREEMENT}
    paths = {}
    for name, lua in scripts.items():
        paths[name] = folder / f"{name}.lua"
        paths[name].write_text(lua % values)
    return paths


def wrk_version() -> str:
    proc = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (proc.stdout or proc.stderr).splitlines()[0].strip()


def wrk_name() -> str:
    """wrk's version, without its copyright line."""
    return wrk_version().split(" Copyright")[0]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(base: str, script: Path, seconds: int, threads: int, connections: int,
            server_pid: int, log: Path) -> dict[str, Any]:
    cpu0 = cpu_seconds(server_pid)
    proc = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "--latency", "-s", str(script), base],
        capture_output=True, text=True, timeout=seconds + 60,
    )
    cpu = cpu_seconds(server_pid) - cpu0
    with log.open("a") as raw:
        raw.write(f"$ wrk -t{threads} -c{connections} -d{seconds}s --latency -s {script} "
                  f"{base}\n{proc.stdout}{proc.stderr}\n")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("WRKJSON "))
    result = json.loads(line.removeprefix("WRKJSON "))
    errors = {k: result[k] for k in ("non2xx", "connect_errors", "read_errors", "write_errors",
                                     "timeouts") if result[k]}
    if errors:
        raise RuntimeError(f"wrk saw errors {errors} (see {log}): refusals are not timed")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["server_cpu_ms_per_request"] = cpu * 1000 / max(result["requests"], 1)
    return result


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the benchmarks' exchange server (internal)")
    parser.add_argument("--serve", metavar="URL", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", default="auto", help="uvicorn's loop: asyncio, uvloop")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP parser: h11, httptools")
    args = parser.parse_args(argv)
    serve(args.serve, args.port, args.loop, args.http)


if __name__ == "__main__":
    main()
