"""What the governed query pays outside governance: the app's middleware, QueryFront and the
answer, with the use case itself replaced by a release made once, in process.

What it measures
    The app from `create_app` over the demo world (2,000 people, SQLite), called as an ASGI
    app directly (no socket, no HTTP parser), `--queries` governed queries a round for 7
    rounds after a warm-up. One real query is answered first; from then on the exchange's
    query use case answers every query with that release at once (naming the same caller),
    so what is timed is everything else the request pays: request ids and the access log,
    the body cap, the request figures, reading and validating the body, the bearer token,
    the decision's figure and the response. The process's CPU time per query, median of the
    rounds. Run it in two checkouts alternately to compare them: the script uses only what
    both have.

How to run
    uv run python -m benchmarks.bench_edge [--queries 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
from typing import Any

from benchmarks.bench_http import build, sqlite_database
from benchmarks.bench_query_front import _drive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=2000, help="a round")
    args = parser.parse_args(argv)
    from onceonly.bootstrap import bootstrap
    from onceonly.entrypoints.api.app import create_app
    from onceonly.logging import configure_logging

    configure_logging()  # as `onceonly serve` does: the access line is part of the cost
    with sqlite_database() as (url, prefix):
        world = build(url, prefix, 2000)
        exchange = bootstrap(url)
        app = create_app(exchange, integrate_every=0)
        answered = exchange.queries.query_awaiting
        kept: dict[str, Any] = {}

        async def once(token: Any, command: Any, run: Any, seen: Any = None) -> Any:
            def noted(principal: Any) -> None:
                kept["caller"] = principal
                if seen is not None:
                    seen(principal)
            kept["release"] = await answered(token, command, run, noted)
            exchange.queries.query_awaiting = made  # from now on: the release made once
            return kept["release"]

        async def made(token: Any, command: Any, run: Any, seen: Any = None) -> Any:
            if seen is not None:
                seen(kept["caller"])
            return kept["release"]

        exchange.queries.query_awaiting = once
        cpu: list[float] = []

        async def rounds() -> None:
            await _drive(app, world["token"], world["ninos"], 200)  # warm-up
            for _ in range(7):
                started = time.process_time()
                statuses = await _drive(app, world["token"], world["ninos"], args.queries)
                cpu.append((time.process_time() - started) / args.queries * 1000)
                assert list(statuses) == [200], statuses

        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            asyncio.run(rounds())
    print(f"outside governance: median {statistics.median(cpu) * 1000:.1f} µs CPU a query "
          f"(rounds {' '.join(f'{r * 1000:.1f}' for r in cpu)}; load "
          f"{os.getloadavg()[0]:.2f})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
