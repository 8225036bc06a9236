"""ASGI middleware: request ids and the last resort for faults, a cap on request bodies, and
request metrics."""

from __future__ import annotations

import contextlib
import os
import re
import time
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onceonly.entrypoints.api.problems import route_of, send_problem

MAX_BODY_BYTES = 64 * 1024  # a query or an agreement is a few hundred bytes

log = structlog.get_logger("onceonly.api")


# An id a caller or a proxy gave is kept only if it is plainly an id: it is written into
# every log line of the request and sent back.
GIVEN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

access_log = structlog.get_logger("onceonly.access")


def request_id_of(scope: Scope) -> str:
    """The id in X-Request-ID if it is plainly one (letters, digits, `._:-`, at most 128),
    else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if GIVEN_ID.fullmatch(given):
                return given
    return os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, for less


class RequestIds:
    """Give each request an id, from X-Request-ID or made, sent back in `X-Request-Id` and
    bound into the log context so that every line logged while serving it carries it (and
    every problem body answering it); write one access log line for it; and be the last
    resort: a fault no handler foresaw is answered with a problem body naming the id, and
    logged with its traceback. Answered here rather than by Starlette's outermost error
    middleware, which re-raises to the server, which then drops the connection under the
    answer.

    The access line holds the method, the route's template (never the path: it may name a
    person), the status, the duration, the client's address, and the caller's organisation
    and role: never a token, a query string, a header or a body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500
        state = scope.setdefault("state", {})
        answering = False  # the answer's start has gone out
        logged = False

        def log_access() -> None:  # once, before the answer's end goes out
            nonlocal logged
            if not logged:
                logged = True
                _log_access(scope, state, status, time.perf_counter() - started)

        async def tagged(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                answering = True
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                log_access()
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, tagged)
            except Exception:
                log.exception("internal error", route=route_of(scope))
                if answering:  # half an answer went out: only closing the connection ends it
                    raise
                await send_problem(tagged, 500, "internal_error",
                                   "the exchange failed to answer this request; it is logged "
                                   "under the request id, which an operator can look up",
                                   request_id=request_id)
            finally:
                log_access()  # no answer ended: a fault mid-answer, or the client gone


def _log_access(scope: Scope, state: Any, status: int, seconds: float) -> None:
    organisation, role = _caller(state if isinstance(state, dict) else {})
    client = scope.get("client")
    access_log.info("request", method=scope["method"], route=route_of(scope), status=status,
                    duration_ms=round(seconds * 1000, 3),
                    client=client[0] if client else None,
                    organisation=organisation, role=role)


def _caller(state: dict[str, Any]) -> tuple[str | None, str | None]:
    """Who called: an API caller (caller.note_caller), or a portal page's signed-in
    principal (web/portal.py); (None, None) for no one known."""
    if "caller" in state:
        return state["caller"]
    principal = state.get("web_principal")
    if principal is not None:
        return principal.org_id, principal.role.value
    return None, None


HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class StrictTransport:
    """HSTS on every answer to a request that came over TLS: served over TLS here, or
    proxied over it (X-Forwarded-Proto from a trusted proxy, which ProxyHeadersMiddleware,
    outside this, has made the request's scheme). Never over plain http, where a browser
    ignores it and an attacker could strip it anyway."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def strict(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), HSTS]}
            await send(message)

        await self.app(scope, receive, strict)


class BodyLimit:
    """Refuse bodies over the cap with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"the request body is over {self.limit} bytes"
        announced = framed = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.limit:
                    await send_problem(send, 413, "body_too_large", detail)
                    return
                announced = True
            elif name == b"transfer-encoding":
                framed = True
        if announced and not framed:
            # The server reads no more than Content-Length announces: nothing to watch.
            await self.app(scope, receive, send)
            return
        seen = 0
        tripped = False
        responded = False

        async def limited() -> Message:
            nonlocal seen, tripped
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    tripped = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            # FastAPI turns an error while reading the body into its own 400; once the
            # limit has tripped, what the app says is dropped and the 413 is sent instead.
            nonlocal responded
            if tripped:
                return
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited, guarded)
        if tripped and not responded:
            await send_problem(send, 413, "body_too_large", detail)


class _TooLarge(Exception):
    pass


class Metrics:
    """This process's request figures, in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "onceonly_http_requests", "HTTP requests", ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "onceonly_http_request_duration_seconds", "HTTP request latency", ["route"],
            registry=registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.decisions = Counter(
            "onceonly_decisions", "Policy decisions on queries", ["outcome", "reason"],
            registry=registry,
        )
        # Each labelled child looked up once: `labels()` costs the hot path more than the
        # figure it moves. Keyed as the families are, so no more children than they hold.
        # (A child is made on its first use, not before: until then the figure is absent.)
        self._answered: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._decided: dict[tuple[str, str], Any] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered: counted by method, route and status, timed by route."""
        key = (method, route, status)
        children = self._answered.get(key)
        if children is None:
            children = self._answered[key] = (
                self.requests.labels(method, route, str(status)), self.latency.labels(route))
        children[0].inc()
        children[1].observe(seconds)

    def decided(self, outcome: str, reason: str = "") -> None:
        """One query decided: `permit`, or `deny` with the refusal's code."""
        key = (outcome, reason)
        child = self._decided.get(key)
        if child is None:
            child = self._decided[key] = self.decisions.labels(outcome, reason)
        child.inc()


def every_process(registry: CollectorRegistry) -> CollectorRegistry:
    """The request figures of every server process: under `onceonly serve --workers N` each
    worker writes its own to files in PROMETHEUS_MULTIPROC_DIR, read together here; in a
    single process, its own registry."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return registry
    combined = CollectorRegistry()
    MultiProcessCollector(combined)
    return combined


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route: Any = scope.get("route")
            self.metrics.answered(scope["method"], getattr(route, "path", "unmatched"), status,
                                  time.perf_counter() - started)
