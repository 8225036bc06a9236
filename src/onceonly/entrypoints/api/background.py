"""Work a server process repeats in the background: integrating the audit log, watching for
anomalies.

Where it runs follows where requests run (dispatch.py). With a server database, on a thread of
its own. With an embedded one, on the event loop between requests: a thread beside them
would contend with them for the interpreter lock and SQLite's writer lock, and the loop,
each time it let go of either, would wait out the thread's whole turn; under load that
stalled every request in flight for tens of milliseconds (BENCHMARKS.md section 2). On the
loop, the work goes in steps, and requests are served between the steps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI

from onceonly.config import timestamp_every

if TYPE_CHECKING:
    from onceonly.bootstrap import Exchange

log = structlog.get_logger("onceonly.background")

# One step of work: True if more is waiting (run the next step soon), else False.
Step = Callable[[], bool]

# Audit entries integrated in one step: on the event loop, under 10 ms.
INTEGRATE_STEP = 128


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: the background work runs while it serves, every
    `app.state.integrate_every` seconds (0: never), and finishes what is left at the end."""
    interval = app.state.integrate_every
    exchange = app.state.exchange
    if exchange.witnesses.configured:
        # A log older than what its witnesses cosigned must not serve (LogBehindWitness
        # says why, and the server stops); witnesses away are named and the server starts.
        try:
            await asyncio.to_thread(exchange.witnesses.check_current)
        except Exception as exc:
            log.error("refusing to serve", reason=str(exc))
            raise
    workers = background_work(exchange, interval) if interval > 0 else []
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            await worker.stop()
        await app.state.exchange.connectors.aclose()  # HTTP providers' pools on this loop


def background_work(exchange: Exchange, interval: float) -> list[Periodic]:
    """Integrating the audit log and watching for harvesting, each every `interval`
    seconds, where the requests run; and, with authorities configured, timestamping the
    signed heads (every ONCEONLY_TSA_EVERY seconds, else every `interval`)."""
    on_the_loop = exchange.embedded_database

    def integrate() -> bool:
        return exchange.audit.integrate_batch(INTEGRATE_STEP)[1]

    def detect() -> bool:
        exchange.anomaly.detect()  # one pass a tick, of up to 10,000 new notes
        return False

    work = [Periodic("audit-integrator", interval, integrate, on_the_loop=on_the_loop),
            Periodic("anomaly-detector", interval, detect, on_the_loop=on_the_loop)]
    if exchange.timestamps.configured:
        # Always on a thread of its own: it waits on the authorities over the network, and
        # must never hold up a request (nor the log: heads wait, counted, while none answers).
        work.append(Periodic("audit-timestamper", timestamp_every() or interval,
                             exchange.timestamps.stamp_waiting, on_the_loop=False))
    if exchange.witnesses.configured:
        work.append(Periodic("audit-witnesses", interval, exchange.witnesses.send_latest,
                             on_the_loop=False))  # waits on the witnesses: a thread
    return work


class Periodic:
    """Runs `step` until it reports nothing waiting, every `interval` seconds until stopped.
    A failure is retried at the next tick (the work waits in the database meanwhile) and
    logged once, with its traceback: the same failure again is counted, not logged, and the
    count is logged when the step recovers or fails otherwise."""

    def __init__(self, name: str, interval: float, step: Step, *, on_the_loop: bool) -> None:
        self.name = name
        self.interval = interval
        self.step = step
        self.on_the_loop = on_the_loop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self._failure: tuple[type[BaseException], str] | None = None
        self._failures = 0  # times in a row the step failed as self._failure says

    def start(self) -> None:
        """From the event loop's thread."""
        if self.on_the_loop:
            self._task = asyncio.get_running_loop().create_task(self._on_the_loop())
        else:
            self._thread = threading.Thread(target=self._on_a_thread, name=self.name,
                                            daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        """Stop ticking, then do what is left (e.g. leave nothing accepted outside a signed
        tree head)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._thread is not None:
            self._stop.set()
            await asyncio.to_thread(self._thread.join)
        self.run_once()

    def run_once(self) -> None:
        """Step until nothing is waiting."""
        while self._step():
            pass

    def _step(self) -> bool:
        try:
            more = self.step()
        except Exception as exc:
            self._failed(exc)
            return False
        if self._failure is not None:
            log.info("background work recovered", work=self.name, failures=self._failures,
                     error=self._failure[1])
            self._failure, self._failures = None, 0
        return more

    def _failed(self, exc: Exception) -> None:
        failure = (type(exc), str(exc))
        if failure == self._failure:
            self._failures += 1
            return
        if self._failure is not None:
            log.warning("background work failed otherwise", work=self.name,
                        failures=self._failures, error=self._failure[1])
        self._failure, self._failures = failure, 1
        log.exception("background work failed", work=self.name, error=failure[1])

    def _on_a_thread(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    async def _on_the_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            while self._step():
                await asyncio.sleep(0)  # requests waiting go first
