"""A correction reaching a provider's own HTTP API, both ways, on SQLite and PostgreSQL: a
signed JSON merge patch where the dataset takes one (test_http_connector.py), else a
`record.corrected` notification through tell-us-once delivery, which a real receiver
server takes (checking the exchange's Standard Webhooks signature) or the provider reads
from its inbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.webhooks import AiohttpTransport
from onceonly.config import operator_org
from onceonly.domain.errors import DomainError
from onceonly.domain.life_events import RetryPolicy
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.receivers import WebhookKeys
from onceonly.services.delivery import DeliveryService
from tests.e2e.conftest import Api
from tests.e2e.test_http_connector import HMRC, Connect, audit_tail, last_seq
from tests.e2e.test_http_connector import connect as connect  # the fixture

CORRECTED = "gov.onceonly.record.corrected"
NEW_ADDRESS = "9 Notice Lane, Northtown"


class Receiver:
    """HMRC's own webhook receiver: it keeps each notification whose signature verifies."""

    def __init__(self, exchange_url: str) -> None:
        self.keys = WebhookKeys(exchange_url)
        self.taken: list[dict[str, Any]] = []
        self.refused = 0
        self.app = FastAPI()
        self.app.post("/hmrc/corrections")(self.receive)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        try:
            self.keys.verify(request.headers, body)
        except Exception:  # any signature that does not verify is refused
            self.refused += 1
            return Response(status_code=401)
        self.taken.append(json.loads(body))
        return Response(status_code=204)


@pytest.fixture
def receiver(api: Api) -> Iterator[tuple[Receiver, str]]:
    found = Receiver(api.base_url)
    with running(found.app) as base:
        yield found, base + "/hmrc/corrections"
    api.exchange.life_events.set_endpoint(api.principal("guardian:GOV/HMRC"), None)


def deliver_once(api: Api) -> None:
    """One round of a delivery worker with the real webhook transport."""
    service = DeliveryService(api.exchange.uows, api.exchange.clock, api.exchange.envelopes,
                              api.exchange.key_store, operator_org(), RetryPolicy())

    async def send() -> None:
        transport = AiohttpTransport(timeout=10)
        try:
            outgoing = service.claim(100)
            results = [(o, await transport.send(o.claim.url, o.body, o.signature))
                       for o in outgoing]
            service.settle(results)
        finally:
            await transport.close()

    asyncio.run(send())


def challenge(api: Api, value: str) -> int:
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    return api.exchange.accuracy.raise_challenge(citizen, HMRC, "address", "I moved", value).id


def deliveries_to_hmrc(api: Api) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.deliveries)
                            .where(t.deliveries.c.receiver_id == "GOV/HMRC",
                                   t.deliveries.c.agreement_id.is_(None))).scalar_one()


def test_a_provider_without_patch_is_sent_the_correction_as_a_signed_notification(
        api: Api, connect: Connect, receiver: tuple[Receiver, str]) -> None:
    taker, url = receiver
    provider = connect()  # its API takes no PATCH
    api.exchange.life_events.set_endpoint(api.principal("guardian:GOV/HMRC"), url)
    nino = api.world.citizen_ids["nino"]
    done = api.exchange.accuracy.correct(api.principal("guardian:GOV/HMRC"),
                                         challenge(api, NEW_ADDRESS), NEW_ADDRESS, "checked")
    assert done.challenge.status.value == "corrected"
    assert {s.method for s in provider.seen} == {"GET"}  # read, never written
    deliver_once(api)
    assert taker.refused == 0
    (note,) = [n for n in taker.taken if n["type"] == CORRECTED]
    assert note["subject"] == f"nino:{nino}"  # HMRC's own identifier for the person
    assert note["data"] == {"dataset": HMRC, "field": "address", "value": NEW_ADDRESS,
                            "correction_id": done.correction_id}
    with api.exchange.engine.connect() as conn:
        entry = conn.execute(select(t.audit_log).where(t.audit_log.c.action ==
                                                       "challenge.correct")
                             .order_by(t.audit_log.c.seq.desc()).limit(1)).one()
        status = conn.execute(select(t.deliveries.c.status)
                              .where(t.deliveries.c.id == note["id"])).scalar_one()
    assert (entry.outcome, entry.detail["written"]) == ("done", "notice")
    assert status == "delivered"


def test_a_provider_without_an_endpoint_reads_the_correction_from_its_inbox(
        api: Api, connect: Connect) -> None:
    connect()
    value = "10 Inbox Road, Northtown"
    done = api.exchange.accuracy.correct(api.principal("guardian:GOV/HMRC"),
                                         challenge(api, value), value, "checked")
    inbox = api.client.get("/v1/inbox", headers=api.auth("guardian:GOV/HMRC"))
    assert inbox.status_code == 200, inbox.text
    notes = [i["event"] for i in inbox.json() if i["event"]["type"] == CORRECTED]
    assert [(n["data"]["value"], n["data"]["correction_id"]) for n in notes][-1] == (
        value, done.correction_id)


def test_a_notice_for_a_person_the_provider_does_not_hold_is_refused_and_not_queued(
        api: Api, connect: Connect) -> None:
    provider = connect()
    raised = challenge(api, "11 Nowhere Street")
    del provider.records[api.world.citizen_ids["nino"]]
    queued, before = deliveries_to_hmrc(api), last_seq(api)
    with pytest.raises(DomainError) as refused:
        api.exchange.accuracy.correct(api.principal("guardian:GOV/HMRC"), raised,
                                      "11 Nowhere Street", "checked")
    assert refused.value.code == "record_unknown"
    assert [(e.action, e.outcome, e.reason) for e in audit_tail(api, before)] == [
        ("challenge.correct", "deny", "record_unknown")]
    assert deliveries_to_hmrc(api) == queued
