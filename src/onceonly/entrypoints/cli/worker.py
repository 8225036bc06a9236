"""`onceonly worker`: a delivery worker process."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from prometheus_client import start_http_server

from onceonly.entrypoints.cli.common import DbOption, console, fail, open_exchange
from onceonly.entrypoints.cli.config import ConfigOption, settings_or_fail, use_config_file
from onceonly.entrypoints.worker import WorkerFigures, deliver_until
from onceonly.logging import configure_logging


def worker(
    db: DbOption = None,
    batch: Annotated[int, typer.Option(
        min=1, max=1000, help="deliveries taken, and sent at once, per round")] = 100,
    timeout: Annotated[float, typer.Option(
        min=0.1, help="seconds to wait for a receiver")] = 10.0,
    poll_seconds: Annotated[float, typer.Option(
        min=0.001, max=3600, help="seconds between looks at the outbox while idle (a report "
                                  "on PostgreSQL wakes the worker at once; this is the "
                                  "safety net, and what finds retries when due)")] = 0.02,
    metrics_port: Annotated[int | None, typer.Option(
        min=0, max=65535, help="serve this worker's figures for Prometheus at "
                               "http://HOST:PORT/metrics (default: not served)")] = None,
    metrics_host: Annotated[str, typer.Option(
        help="the address the figures are served on")] = "127.0.0.1",
    config_file: ConfigOption = None,
) -> None:
    """Deliver life-event notifications by webhook until stopped (Ctrl-C, SIGTERM). Start as
    many as you like on one PostgreSQL database: no delivery is taken by two at once."""
    use_config_file(config_file)
    settings_or_fail()
    configure_logging()
    exchange = open_exchange(db)
    figures = WorkerFigures()
    if metrics_port is not None:
        try:
            server, _ = start_http_server(metrics_port, metrics_host, figures.registry)
        except OSError as exc:
            exchange.close()
            fail(f"cannot serve the worker's figures on {metrics_host}:{metrics_port}: "
                 f"{exc.strerror}")
        bound = server.server_address[1]
        console.print(f"worker figures at http://{metrics_host}:{bound}/metrics")

    async def main() -> int:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        return await deliver_until(exchange.delivery, stop, batch=batch, timeout=timeout,
                                   idle_seconds=poll_seconds, figures=figures)

    try:
        delivered = asyncio.run(main())
    finally:
        exchange.close()
    console.print(f"worker stopped; {delivered} deliveries made")
