"""The citizen's language over HTTP, on SQLite and PostgreSQL: a citizen who switches the
pages to Welsh finds them in Welsh the next time they sign in, on another browser; and when
they report a death as its informant, the organisation's own webhook server is asked to
answer them in Welsh (`language: cy` on the CloudEvent it receives)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack, closing

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.demo.citizens import open_citizen_accounts
from onceonly.domain.life_events import RetryPolicy
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.receivers import WebhookKeys
from onceonly.entrypoints.web.i18n import LANGUAGE_COOKIE
from onceonly.entrypoints.worker import WorkerThread
from onceonly.services.delivery import DeliveryService
from tests.e2e.test_web_sign_in import sign_in

RECEIVER = "GOV/DWP"


def recording_receiver(keys: WebhookKeys, received: list[dict]) -> FastAPI:
    """An organisation's webhook server: it takes only webhooks the operator signed, and
    keeps each CloudEvent it takes."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/notifications")
    async def take(request: Request) -> Response:
        body = await request.body()
        keys.verify(request.headers, body)
        received.append(json.loads(body))
        return Response(status_code=204)

    return app


@pytest.fixture(scope="module")
def citizen(api):
    [login] = open_citizen_accounts(api.exchange, api.world)
    return login


def test_a_citizen_who_switched_to_welsh_finds_the_pages_in_welsh_at_next_sign_in(
        api, citizen):
    with closing(httpx.Client(base_url=api.base_url, timeout=30)) as first:
        first.headers["Accept-Language"] = "en-GB"
        assert sign_in(first, citizen.login, citizen.password).status_code == 303
        switched = first.get("/language/cy", params={"back": "/citizen"})
        assert switched.status_code == 303
    with closing(httpx.Client(base_url=api.base_url, timeout=30)) as elsewhere:
        elsewhere.headers["Accept-Language"] = "en-GB"  # a new browser, asking for English
        signed_in = sign_in(elsewhere, citizen.login, citizen.password)
        assert signed_in.status_code == 303
        assert signed_in.cookies.get(LANGUAGE_COOKIE) == "cy"
        assert '<html lang="cy"' in elsewhere.get("/citizen").text
        # Choosing English on the pages is kept in turn.
        elsewhere.get("/language/en")
    with api.exchange.engine.connect() as conn:
        kept = conn.execute(select(t.citizen_languages.c.language).where(
            t.citizen_languages.c.person_key == api.world.citizen_ids["person_key"])
        ).scalar_one()
    assert kept == "en"


def test_an_informant_who_chose_welsh_has_the_organisation_told_to_answer_in_welsh(
        api, citizen):
    with closing(httpx.Client(base_url=api.base_url, timeout=30)) as browser:
        assert sign_in(browser, citizen.login, citizen.password).status_code == 303
        browser.get("/language/cy")
    with api.exchange.engine.connect() as conn:
        grn, nino = t.person_links.alias(), t.person_links.alias()
        deceased = conn.execute(
            select(grn.c.value).join(nino, nino.c.person_key == grn.c.person_key)
            .where(grn.c.scheme == "grn", nino.c.scheme == "nino",
                   grn.c.person_key.not_in(select(t.citizen_accounts.c.person_key)))
            .limit(1)).scalar_one()
    received: list[dict] = []
    with ExitStack() as stack:
        url = stack.enter_context(running(recording_receiver(WebhookKeys(api.base_url),
                                                             received)))
        assert api.client.put("/v1/notification-endpoint", headers=api.auth(
            f"guardian:{RECEIVER}"), json={"url": f"{url}/notifications"}).status_code == 204
        told = api.client.post("/v1/events", headers=api.auth("officer:GOV/GRO"), json={
            "specversion": "1.0", "id": f"welsh-death-{deceased}",
            "source": "GOV/GRO/deaths", "type": "gov.onceonly.death.registered",
            "subject": f"grn:{deceased}", "informant": f"grn:{api.world.citizen_ids['grn']}",
            "data": {"full_name": "A Relative", "date_of_death": "2026-11-20"}})
        assert told.status_code == 202, told.text
        report_id = told.json()["report_id"]
        worker = WorkerThread(DeliveryService(
            api.exchange.uows, api.exchange.clock, api.exchange.envelopes,
            api.exchange.key_store, "GOV/EXCHANGE", RetryPolicy(max_attempts=3)),
            batch=20, timeout=5).start()
        stack.callback(worker.stop)
        deadline = time.monotonic() + 30
        while not any(e.get("reportid") == report_id for e in received):
            assert time.monotonic() < deadline, "the organisation's server was not told"
            time.sleep(0.05)
    [event] = [e for e in received if e.get("reportid") == report_id]
    assert event["type"] == "gov.onceonly.death.registered"
    assert event["subject"].startswith("nino:") and event["language"] == "cy"
