"""Webhook delivery over HTTP: the CloudEvent in structured mode, its Standard Webhooks
headers beside it (`webhook-id`, `webhook-timestamp`, `webhook-signature` with a `v1a`
Ed25519 signature) and, deprecated, the detached JWS of the body in `JWS-Signature`.

aiohttp's client, not httpx's: with a hundred requests in flight it sends about fifteen
times as many a second on this kind of machine (see BENCHMARKS.md, tell us once)."""

from __future__ import annotations

import aiohttp

from onceonly.crypto.standard_webhooks import SignedWebhook

CONTENT_TYPE = "application/cloudevents+json"


class AiohttpTransport:
    """One connection pool per worker; each POST bounded by `timeout` seconds. Made inside
    the worker's event loop (aiohttp binds its session to it)."""

    def __init__(self, timeout: float = 10.0, max_connections: int = 100) -> None:
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout),
            connector=aiohttp.TCPConnector(limit=max_connections))

    async def send(self, url: str, body: bytes, signature: SignedWebhook) -> str | None:
        try:
            async with self.session.post(url, data=body, allow_redirects=False, headers={
                    "Content-Type": CONTENT_TYPE, **signature.headers()}) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as problem:
            return f"{type(problem).__name__}: {problem}"[:500]
        return None if 200 <= status < 300 else f"HTTP {status}"

    async def close(self) -> None:
        await self.session.close()
