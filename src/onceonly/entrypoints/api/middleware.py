"""ASGI middleware: request ids and the last resort for faults, a cap on request bodies, and
request metrics."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onceonly.entrypoints.api.problems import send_problem

MAX_BODY_BYTES = 64 * 1024  # a query or an agreement is a few hundred bytes

log = structlog.get_logger("onceonly.api")


class RequestIds:
    """Give each request an id of its own, sent back in `X-Request-Id` and bound into the log
    context so that every line logged while serving it carries it; and be the last resort: a
    fault no handler foresaw is answered with a problem body naming the id, and logged with
    its traceback. Answered here rather than by Starlette's outermost error middleware, which
    re-raises to the server, which then drops the connection under the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        header = (b"x-request-id", request_id.encode())
        started = False

        async def tagged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, tagged)
            except Exception:
                log.exception("internal error", path=scope["path"])
                if started:  # half an answer went out: only closing the connection ends it
                    raise
                await send_problem(tagged, 500, "internal_error",
                                   "the exchange failed to answer this request; it is logged "
                                   "under the request id, which an operator can look up",
                                   request_id=request_id)


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
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await send_problem(send, 413, "body_too_large", detail)
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
        status = [500]

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route: Any = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], path, str(status[0])).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
