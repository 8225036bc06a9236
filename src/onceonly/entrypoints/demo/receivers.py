"""The demo organisations' receivers: each hands a notification to its own store
(demo/stores.py), which applies it once.

A webhook receiver checks the exchange's signature (Standard Webhooks `v1a`, by the
operator's key, within five minutes of its timestamp) before applying the event, and
answers. Webhook receivers are one small HTTP app; inbox receivers poll `GET /v1/inbox` and
ack. `tell_us_once_running` runs them all, with a delivery worker, beside a demo exchange.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime

import httpx
import structlog
from fastapi import FastAPI, Request, Response

from onceonly.bootstrap import Exchange
from onceonly.crypto.standard_webhooks import WebhookVerificationError, verify
from onceonly.demo.seed import World
from onceonly.demo.stores import Store, connector_configs, open_stores
from onceonly.demo.world import WEBHOOK_RECEIVERS, notification_receivers
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.worker import WorkerThread

log = structlog.get_logger("onceonly.demo.receivers")


def receiver_app(stores: Mapping[str, Store], keys: WebhookKeys) -> FastAPI:
    """Webhook receivers at POST /receivers/{organisation id}, taking only webhooks signed
    by the exchange's operator."""
    app = FastAPI(title="demo receivers", openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/receivers/{org_path:path}")
    async def receive(org_path: str, request: Request) -> Response:
        store = stores.get(org_path)
        if store is None:
            return Response(status_code=404)
        body = await request.body()
        try:
            keys.verify(request.headers, body)
        except WebhookVerificationError as refused:
            log.warning("webhook refused", org=org_path, why=str(refused))
            return Response(status_code=401)
        store.apply(json.loads(body))
        return Response(status_code=204)

    return app


class WebhookKeys:
    """The keys the exchange signs webhooks with (`whpk_...`, from
    /.well-known/webhook-keys.json), fetched once, and again when a signature matches none
    of them (a key rotated), at most once every `refresh_seconds`."""

    def __init__(self, base_url: str, refresh_seconds: float = 60.0) -> None:
        self.url = f"{base_url}/.well-known/webhook-keys.json"
        self.refresh_seconds = refresh_seconds
        self._keys: list[str] | None = None
        self._fetched_at = 0.0

    def _fetch(self) -> list[str]:
        response = httpx.get(self.url, timeout=10)
        response.raise_for_status()
        self._keys = [key["key"] for key in response.json()["keys"]]
        self._fetched_at = time.monotonic()
        return self._keys

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """The webhook's id if it verifies (see crypto/standard_webhooks.verify)."""
        try:
            return verify(headers, body, self._keys or self._fetch(), now=datetime.now(UTC))
        except WebhookVerificationError:
            if time.monotonic() - self._fetched_at < self.refresh_seconds:
                raise
            return verify(headers, body, self._fetch(), now=datetime.now(UTC))


class InboxPoller:
    """Reads an organisation's inbox every `interval` seconds, applies, acknowledges."""

    def __init__(self, base_url: str, token: str, store: Store, interval: float = 1.0) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10,
                                   headers={"Authorization": f"Bearer {token}"})
        self.store = store
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"inbox {store.org_id}",
                                        daemon=True)

    def poll_once(self) -> int:
        response = self.client.get("/v1/inbox")
        response.raise_for_status()
        items = response.json()
        for item in items:
            self.store.apply(item["event"])
            self.client.post(f"/v1/inbox/{item['delivery_id']}/ack").raise_for_status()
        return len(items)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.client.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except httpx.ConnectError:
                continue  # the exchange is starting, or stopping
            except httpx.HTTPError as problem:
                log.warning("inbox poll failed", org=self.store.org_id, error=str(problem))


@contextmanager
def running_receivers(stores: Mapping[str, Store], exchange_url: str, host: str = "127.0.0.1",
                      port: int = 0) -> Iterator[str]:
    """The webhook receivers served on a loopback port; yields their base URL."""
    with running(receiver_app(stores, WebhookKeys(exchange_url)), host, port) as url:
        yield url


@contextmanager
def tell_us_once_running(exchange: Exchange, world: World, exchange_url: str, *,
                         receivers_port: int = 0, poll_seconds: float = 1.0
                         ) -> Iterator[dict[str, Store]]:
    """Every demo organisation receiving: webhooks for some (each guardian points its
    endpoint at the receivers app), inboxes for the others, and a delivery worker."""
    principals = {a.label: a.principal for a in world.accounts}
    with ExitStack() as stack:
        stores = open_stores(connector_configs(exchange.engine), stack)
        receivers = stack.enter_context(running_receivers(stores, exchange_url,
                                                          port=receivers_port))
        for org in WEBHOOK_RECEIVERS:
            exchange.life_events.set_endpoint(principals[f"guardian:{org}"],
                                              f"{receivers}/receivers/{org}")
        worker = WorkerThread(exchange.delivery).start()
        stack.callback(worker.stop)
        for org in sorted(notification_receivers() - set(WEBHOOK_RECEIVERS)):
            poller = InboxPoller(exchange_url, world.token(f"officer:{org}"), stores[org],
                                 poll_seconds)
            poller.start()
            stack.callback(poller.stop)
        yield stores
