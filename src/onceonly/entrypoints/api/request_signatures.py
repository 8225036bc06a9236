"""ASGI middleware for signed requests (RFC 9421): verify, then note who signed.

A request without `Signature-Input`/`Signature` passes straight through (one scan of the
header list). A signed one is read whole (inside BodyLimit's cap) for its Content-Digest,
verified off the event loop, refused with 401 `{code, detail}` (audited) when it fails,
and otherwise handed on with the same body and `request.state.signed_by` set.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onceonly.domain.errors import DomainError
from onceonly.entrypoints.api.problems import send_problem
from onceonly.services.auth import AuthService
from onceonly.services.request_signatures import SIGNATURE_HEADERS, message


class RequestSignatures:
    def __init__(self, app: ASGIApp, auth: AuthService) -> None:
        self.app = app
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(
                name in SIGNATURE_HEADERS for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            received = await receive()
            if received["type"] == "http.disconnect":
                return
            chunks.append(received.get("body", b""))
            if not received.get("more_body", False):
                break
        body = b"".join(chunks)
        msg = message(scope["method"], str(Request(scope).url),
                      [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
        try:
            signed = await run_in_threadpool(self.auth.verify_signature, msg, body)
        except DomainError as refused:
            await send_problem(send, 401, refused.code, refused.detail,
                               headers=((b"www-authenticate", b"Signature"),))
            return
        scope.setdefault("state", {})["signed_by"] = signed
        replayed = False

        async def again() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, again, send)
