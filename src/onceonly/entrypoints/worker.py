"""The delivery worker's loop, on a thread of its own or as the `onceonly worker` process."""

from __future__ import annotations

import asyncio
import threading

from onceonly.adapters.webhooks import AiohttpTransport
from onceonly.services.delivery import DeliveryService, run_worker


async def deliver_until(service: DeliveryService, stop: asyncio.Event, *, batch: int,
                        timeout: float) -> int:
    transport = AiohttpTransport(timeout=timeout, max_connections=batch)
    try:
        return await run_worker(service, transport, stop, batch=batch)
    finally:
        await transport.close()


class WorkerThread:
    """A worker inside another process (`onceonly demo`, the walkthrough, tests)."""

    def __init__(self, service: DeliveryService, *, batch: int = 100,
                 timeout: float = 10.0) -> None:
        self.service = service
        self.batch = batch
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-worker", daemon=True)

    def start(self) -> WorkerThread:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        async def main() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            await deliver_until(self.service, self._stop, batch=self.batch,
                                timeout=self.timeout)
        asyncio.run(main())
