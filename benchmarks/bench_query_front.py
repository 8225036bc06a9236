"""The governed query's route answered by QueryFront (the bare ASGI handler in front of
FastAPI, entrypoints/api/routes/queries.py) against the same app answering it through FastAPI
alone: the server's CPU per governed query, in process.

What it measures
    Two apps from `create_app` over one exchange (the demo world of 2,000 people, SQLite or
    PostgreSQL, as bench_http builds it), one without QueryFront in its middleware. Each is
    called as an ASGI app directly (no socket, no HTTP parser: only what differs between
    them and what they share), `--queries` governed queries a round, the two alternating
    for 7 rounds after a warm-up; the process's CPU time per query, medians, and the
    difference round by round.

How to run
    uv run python -m benchmarks.bench_query_front --backend sqlite
    uv run python -m benchmarks.bench_query_front --backend postgresql --queries 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

from benchmarks.bench_http import build, postgres_database, sqlite_database
from benchmarks.load import AGREEMENT


def _without_front(app: Any) -> Any:
    from onceonly.entrypoints.api.routes.queries import QueryFront

    app.user_middleware = [m for m in app.user_middleware if m.cls is not QueryFront]
    return app


async def _drive(app: Any, token: str, ninos: list[str], queries: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for i in range(queries):
        body = json.dumps({"agreement_id": AGREEMENT, "fields": ["income_band"],
                           "subject": {"scheme": "nino", "value": ninos[i % len(ninos)]},
                           "purpose": "benefit-entitlement"}).encode()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/v1/queries",
                 "raw_path": b"/v1/queries", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"127.0.0.1"),
                             (b"authorization", f"Bearer {token}".encode()),
                             (b"content-type", b"application/json"),
                             (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
        async def receive(messages: list[dict[str, Any]] = [  # noqa: B006 - one a request
                {"type": "http.request", "body": body, "more_body": False}]) -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.sleep(3600)  # never asked for more
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(scope, receive, send)
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--queries", type=int, default=500, help="a round, each app")
    args = parser.parse_args(argv)
    from onceonly.bootstrap import bootstrap
    from onceonly.entrypoints.api.app import create_app
    from onceonly.logging import configure_logging

    configure_logging()  # as `onceonly serve` does: the access log costs both the same
    database = sqlite_database() if args.backend == "sqlite" else postgres_database()
    with database as (url, prefix):
        world = build(url, prefix, 2000)
        exchange = bootstrap(url)
        apps = {"QueryFront": create_app(exchange, integrate_every=0),
                "FastAPI": _without_front(create_app(exchange, integrate_every=0))}
        cpu: dict[str, list[float]] = {name: [] for name in apps}

        async def rounds() -> None:
            for app in apps.values():  # warm-up
                await _drive(app, world["token"], world["ninos"], 50)
            for n in range(7):
                order = list(apps) if n % 2 == 0 else list(apps)[::-1]
                for name in order:
                    started = time.process_time()
                    statuses = await _drive(apps[name], world["token"], world["ninos"],
                                            args.queries)
                    cpu[name].append((time.process_time() - started) / args.queries * 1000)
                    assert list(statuses) == [200], statuses

        asyncio.run(rounds())
    for name, runs in cpu.items():
        print(f"{args.backend} {name:10s} median {statistics.median(runs):.3f} ms CPU a query"
              f" (rounds {' '.join(f'{r:.3f}' for r in runs)})", file=sys.stderr)
    saved = [f - q for f, q in zip(cpu["FastAPI"], cpu["QueryFront"], strict=True)]
    print(f"{args.backend} saved by QueryFront: median of rounds {statistics.median(saved):.3f}"
          f" ms ({min(saved):.3f} to {max(saved):.3f})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
