"""`onceonly worker`: a delivery worker process."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from onceonly.entrypoints.cli.common import DbOption, console, open_exchange
from onceonly.entrypoints.worker import deliver_until
from onceonly.logging import configure_logging


def worker(
    db: DbOption = None,
    batch: Annotated[int, typer.Option(
        min=1, max=1000, help="deliveries taken, and sent at once, per round")] = 100,
    timeout: Annotated[float, typer.Option(
        min=0.1, help="seconds to wait for a receiver")] = 10.0,
) -> None:
    """Deliver life-event notifications by webhook until stopped (Ctrl-C, SIGTERM). Start as
    many as you like on one PostgreSQL database: no delivery is taken by two at once."""
    configure_logging()
    exchange = open_exchange(db)

    async def main() -> int:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        return await deliver_until(exchange.delivery, stop, batch=batch, timeout=timeout)

    try:
        delivered = asyncio.run(main())
    finally:
        exchange.close()
    console.print(f"worker stopped; {delivered} deliveries made")
