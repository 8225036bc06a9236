"""The delivery worker's loop, on a thread of its own or as the `onceonly worker` process:
claim due deliveries, send them all at once, write each outcome as its answer arrives."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence

import structlog
from prometheus_client import CollectorRegistry, Counter, PlatformCollector, ProcessCollector

from onceonly.bootstrap import webhook_transport
from onceonly.services.delivery import DeliveryService, Outgoing, Transport
from onceonly.services.ports.delivery import DoorbellListener

log = structlog.get_logger("onceonly.delivery")


class WorkerFigures:
    """What `onceonly worker --metrics-port` shows: this worker's attempts by outcome, its
    failed rounds, and its process (the exchange-wide delivery figures are on the API's
    /metrics, read from the database)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.attempts = Counter("onceonly_worker_delivery_attempts",
                                "Webhook deliveries this worker sent, by outcome",
                                ["outcome"], registry=self.registry)
        self.failed_rounds = Counter("onceonly_worker_failed_rounds",
                                     "Rounds that failed (the database away, say)",
                                     registry=self.registry)
        for outcome in ("delivered", "failed"):
            self.attempts.labels(outcome)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def count(self, errors: Sequence[str | None]) -> None:
        delivered = sum(error is None for error in errors)
        self.attempts.labels("delivered").inc(delivered)
        self.attempts.labels("failed").inc(len(errors) - delivered)


async def run_worker(service: DeliveryService, transport: Transport, stop: asyncio.Event, *,
                     batch: int = 200, idle_seconds: float = 0.02,
                     figures: WorkerFigures | None = None) -> int:
    """Deliver until `stop` is set; returns how many were delivered."""
    figures = figures or WorkerFigures()
    delivered, pause, rung = 0, idle_seconds, False
    listener = service.doorbell.listen() if service.doorbell is not None else None
    try:
        while not stop.is_set():
            try:
                handed = listener.handed() if listener is not None else []
                outgoing = (service.sign(handed) if handed
                            else await asyncio.to_thread(service.claim, batch, rung=rung))
                delivered += await _send_and_settle(service, transport, outgoing, figures,
                                                    together=bool(handed))
                pause = idle_seconds
            except Exception:  # the database away, say: what was taken is retaken later
                log.exception("delivery round failed; trying again")
                figures.failed_rounds.inc()
                outgoing, pause = [], min(max(pause * 2, 0.5), 30.0)
            rung = False
            if not outgoing:
                rung = await _idle(stop, listener, pause)
    finally:
        if listener is not None:
            listener.close()
    return delivered


async def _idle(stop: asyncio.Event, listener: DoorbellListener | None, pause: float) -> bool:
    """Wait `pause` before polling again, or less: until stopped, or until a report rings
    (its deliveries are then claimed at once, not up to a poll later). Whether it rang."""
    if listener is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        return False
    listening = asyncio.ensure_future(listener.wait(pause))
    _, pending = await asyncio.wait({asyncio.ensure_future(stop.wait()), listening},
                                    return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return listening.done() and not listening.cancelled() and listening.result()


async def _send_and_settle(service: DeliveryService, transport: Transport,
                           outgoing: Sequence[Outgoing], figures: WorkerFigures, *,
                           together: bool = False) -> int:
    """Send the batch all at once and write each outcome as soon as its answer arrives, so a
    worker killed mid-batch leaves to be sent again only what was still in flight. Answers
    that arrive while a write is under way go together in the next one: one transaction per
    answer would cost a round trip each when receivers answer quickly. `together`: one
    report's handful, handed over at its intake, written in one transaction once all have
    answered, so no write competes with its sends."""
    async def send(sent: Outgoing) -> tuple[Outgoing, str | None]:
        return sent, await transport.send(sent.claim.url, sent.body, sent.signature)

    if together:
        results = await asyncio.gather(*(send(o) for o in outgoing))
        await asyncio.to_thread(service.settle, results)
        figures.count([error for _, error in results])
        return sum(error is None for _, error in results)
    waiting = {asyncio.create_task(send(o)) for o in outgoing}
    delivered = 0
    try:
        while waiting:
            answered, waiting = await asyncio.wait(waiting,
                                                   return_when=asyncio.FIRST_COMPLETED)
            results = [task.result() for task in answered]
            await asyncio.to_thread(service.settle, results)
            figures.count([error for _, error in results])
            delivered += sum(error is None for _, error in results)
    finally:  # a write failed: the rest are retaken when their lease ends
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    return delivered


async def deliver_until(service: DeliveryService, stop: asyncio.Event, *, batch: int,
                        timeout: float, idle_seconds: float = 0.02,
                        figures: WorkerFigures | None = None) -> int:
    transport = webhook_transport(timeout=timeout, max_connections=batch)
    try:
        return await run_worker(service, transport, stop, batch=batch,
                                idle_seconds=idle_seconds, figures=figures)
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
