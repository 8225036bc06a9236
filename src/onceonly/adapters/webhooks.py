"""Webhook delivery over HTTP: the CloudEvent in structured mode, its detached JWS beside it."""

from __future__ import annotations

import httpx

SIGNATURE_HEADER = "JWS-Signature"  # a detached compact JWS (RFC 7515 appendix F) of the body
CONTENT_TYPE = "application/cloudevents+json"


class HttpxTransport:
    """One connection pool per worker; each POST bounded by `timeout` seconds."""

    def __init__(self, timeout: float = 10.0, max_connections: int = 100) -> None:
        self.client = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections))

    async def send(self, url: str, body: bytes, signature: str) -> str | None:
        try:
            response = await self.client.post(url, content=body, headers={
                "Content-Type": CONTENT_TYPE, SIGNATURE_HEADER: signature})
        except httpx.HTTPError as problem:
            return f"{type(problem).__name__}: {problem}"[:500] or type(problem).__name__
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def close(self) -> None:
        await self.client.aclose()
