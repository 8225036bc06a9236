"""Work a server process repeats in the background: integrating the audit log."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger("onceonly.background")


class Periodic:
    """Runs `work` every `interval` seconds on a daemon thread until stopped. A failure is
    logged and retried at the next tick: the entries wait in the database meanwhile."""

    def __init__(self, name: str, interval: float, work: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.work = work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def run_once(self) -> None:
        try:
            self.work()
        except Exception:
            log.exception("background work failed", work=self.name)
