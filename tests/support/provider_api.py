"""A provider's own HTTP API for tests, on 127.0.0.1: `GET /people/{id}` answers the
person's record as JSON (404 if none), honouring `?fields=a,b` by leaving the others out;
`PATCH /people/{id}` merges a JSON merge patch into it; its OpenAPI document, when given, is
at `/openapi.json`. It keeps its own log of every
request (method, path and query, the identity of its TLS client, whether its signature
verified), and can be made slow, failing, to hang up, or to answer wrong types.

Its TLS, when given, can require a client certificate from its own CA (mutual TLS); its
signature check verifies RFC 9421 signatures against a JWKS (the exchange's)."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from http_message_signatures import (
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    algorithms,
)
from joserfc.jwk import OKPKey


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    client_cn: str | None
    signature_verified: bool | None  # None when the API does not check signatures
    authorization: str | None


@dataclass
class ProviderApi:
    records: dict[str, dict[str, Any]]
    delay: float = 0.0  # seconds before each answer
    gate: threading.Event | None = None  # when given, each answer waits (20 s at most) for it
    status: int | None = None  # answer this status to every request (e.g. 500)
    jwks: Callable[[], Mapping[str, Any]] | None = None  # check RFC 9421 signatures against
    bearer: str | None = None  # require this bearer secret
    openapi: dict[str, Any] | None = None  # served at /openapi.json
    drop: int = 0  # close this many connections without answering (a connection error)
    drop_only: str | None = None  # hang up only on requests of this method
    seen: list[Seen] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    base_url: str = ""

    def start(self, tls: ssl.SSLContext | None = None) -> ProviderApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real API

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                api.connections.append(self.connection)  # closed when the API stops

            def do_GET(self) -> None:
                api.answer(self, None)

            def do_PATCH(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                api.answer(self, self.rfile.read(length))

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (the exchange's timeout) is no fault here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base_url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: no longer listening, and its open keep-alive connections closed."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for connection in self.connections:
            with contextlib.suppress(OSError):  # closed already
                connection.shutdown(socket.SHUT_RDWR)

    def answer(self, request: BaseHTTPRequestHandler, body: bytes | None) -> None:
        parts = urlsplit(request.path)
        if parts.path == "/openapi.json" and self.openapi is not None:
            return _send(request, 200, self.openapi)
        seen = Seen(request.command, parts.path, parse_qs(parts.query), _client_cn(request),
                    self._verified(request, body), request.headers.get("Authorization"))
        self.seen.append(seen)
        # Hang up: the client sees its connection closed, and no answer.
        if self.drop > 0 and self.drop_only in (None, request.command):
            self.drop -= 1
            request.close_connection = True
            return None
        if self.delay:
            time.sleep(self.delay)
        if self.gate is not None:
            self.gate.wait(20)
        if self.status is not None:
            return _send(request, self.status, {"error": "failing on purpose"})
        if seen.signature_verified is False or (
                self.bearer is not None and seen.authorization != f"Bearer {self.bearer}"):
            return _send(request, 401, {"error": "unauthenticated"})
        person = unquote(parts.path.removeprefix("/people/"))
        record = self.records.get(person)
        if record is None:
            return _send(request, 404, {"error": "no such person"})
        if body is not None:
            _merge(record, json.loads(body))
            return _send(request, 204, None)
        wanted = seen.query.get("fields", [""])[0].split(",")
        return _send(request, 200, {k: v for k, v in record.items()
                                    if not wanted[0] or k in wanted or k == "id"})

    def _verified(self, request: BaseHTTPRequestHandler, body: bytes | None) -> bool | None:
        if self.jwks is None:
            return None
        keys = {key["kid"]: key for key in self.jwks()["keys"]}

        class Keys(HTTPSignatureKeyResolver):
            def resolve_public_key(self, key_id: str) -> Any:
                return OKPKey.import_key(keys[key_id]).public_key

            def resolve_private_key(self, key_id: str) -> Any:
                raise NotImplementedError

        message = _Message(request.command, f"{self.base_url}{request.path}",
                           dict(request.headers.items()))
        try:
            verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519,
                                           key_resolver=Keys())
            results = verifier.verify(message)
            if body:
                verifier.verify_body(message, results, body)
        except Exception:  # any failure to verify is a refusal
            return False
        return True


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """A JSON merge patch (RFC 7396), applied in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class _Message:
    def __init__(self, method: str, url: str, headers: dict[str, str]) -> None:
        self.method, self.url, self.headers = method, url, headers


def _client_cn(request: BaseHTTPRequestHandler) -> str | None:
    getpeercert = getattr(request.connection, "getpeercert", None)
    cert = getpeercert() if getpeercert else None
    if not cert:
        return None
    return next(value for rdn in cert["subject"] for key, value in rdn if key == "commonName")


def _send(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)
