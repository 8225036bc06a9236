"""A circuit breaker per provider host: after repeated failures the exchange stops calling
the host for a while and refuses at once; one probe after the pause closes it again if the
host answers, or opens it for another pause if not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are refused at once until the pause ends
    HALF_OPEN = "half_open"  # the pause ended: one probe call is under way


@dataclass(frozen=True, slots=True)
class BreakerFigures:
    host: str
    state: BreakerState
    failures: int  # consecutive failures counted while closed
    opened: int  # how many times it has opened


class Breaker:
    """Thread-safe: the API's event loop and the worker threads share one breaker a host."""

    def __init__(self, host: str, *, threshold: int = 5, pause: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.threshold = threshold
        self.pause = pause
        self.clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened = 0
        self._opened_at = 0.0
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """None if a call may go now (closed, or the half-open probe); else the seconds left
        before the next probe."""
        if self._state is BreakerState.CLOSED:  # the usual case: one read, no lock
            return None
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return None
            now = self.clock()
            left = self._opened_at + self.pause - now
            if left <= 0:  # the pause is over (or a probe went unanswered for as long)
                self._state = BreakerState.HALF_OPEN  # this call is the probe
                self._opened_at = now
                return None
            return left

    def succeeded(self) -> None:
        # Nothing to reset (the usual case): as if it ran just before a concurrent failure.
        if self._state is BreakerState.CLOSED and self._failures == 0:
            return
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self.threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self.clock()
                self._opened += 1
                self._failures = 0

    def figures(self) -> BreakerFigures:
        with self._lock:
            return BreakerFigures(self.host, self._state, self._failures, self._opened)
