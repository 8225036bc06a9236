"""The manager's work queue over HTTP, on SQLite and PostgreSQL: an agreement awaiting a
decision with how long it has waited, an accuracy challenge against its month to answer
(in time, then overdue), a dead-lettered delivery, each named in words; only for managers,
with a table beside the chart."""

from __future__ import annotations

import json
import re
from contextlib import closing
from dataclasses import replace
from datetime import timedelta

import httpx

from onceonly.domain.life_events import RetryPolicy
from onceonly.services.delivery import DeliveryService
from tests.e2e.test_api import create, draft_body, moved
from tests.e2e.test_web_guardian import console
from tests.e2e.test_web_guardian_agreement import text_of


def queue_page(api) -> str:
    client, _csrf = console_of(api, "manager")
    with closing(client):
        page = client.get("/manager/queue")
    assert page.status_code == 200, page.text
    return page.text


def console_of(api, label: str) -> tuple[httpx.Client, str]:
    """A signed-in browser-like client for a member of staff who has no guardian console."""
    client = httpx.Client(base_url=api.base_url, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)[1]
    assert client.post("/sign-in/staff", data={"csrf_token": token,
                                               "token": api.world.token(label)}
                       ).status_code == 303
    return client, token


def counts_of(html: str) -> dict[str, int]:
    data = json.loads(re.search(r'id="queue-data">(.*?)</script>', html, re.S)[1])
    return dict(zip(data["labels"], data["counts"], strict=True))


def dead_letter_one(api) -> None:
    """A delivery whose receiver never answers, tried once and dead-lettered."""
    dwp = api.principal("guardian:GOV/DWP")
    api.exchange.life_events.set_endpoint(dwp, "http://127.0.0.1:9/GOV/DWP")
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    api.exchange.life_events.report_own(citizen, {
        "type": "gov.onceonly.address.changed",
        "data": {"new_address": "1 New Street, Northtown, NS1 1AA",
                 "effective_date": "2026-11-01"}}, ["GOV/DWP"])
    delivery = DeliveryService(api.exchange.uows, api.exchange.clock, api.exchange.envelopes,
                               api.exchange.key_store, "GOV/EXCHANGE",
                               RetryPolicy(max_attempts=1))
    outgoing = [o for o in delivery.claim(50) if o.claim.delivery.receiver_id == "GOV/DWP"]
    delivery.settle([(o, "connection refused") for o in outgoing])


def test_the_work_queue_shows_what_waits_and_for_how_long(api):
    before = counts_of(queue_page(api))
    draft = create(api, "officer:GOV/DWP", draft_body(api))
    moved(api, "officer:GOV/DWP", draft["id"], "submit")
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    api.exchange.accuracy.raise_challenge(citizen, "GOV/HMRC/income", "address", "I moved",
                                          "1 New Street, Northtown")
    dead_letter_one(api)
    api.clock.advance(timedelta(days=3, hours=2))

    page = queue_page(api)
    text = text_of(page)
    counts = counts_of(page)
    assert counts["Agreements awaiting a decision"] == before["Agreements awaiting a decision"] + 1
    assert counts["Challenges within a month"] == before["Challenges within a month"] + 1
    assert counts["Dead-lettered deliveries"] >= before["Dead-lettered deliveries"] + 1
    assert "Department for Work and Pensions" in text
    assert f"agreement reference {draft['id']}" in text  # by its purpose; the number aside
    assert "3 days, 2 hours" in text
    assert "In time" in text and "connection refused" in text
    assert 'id="queue-counts"' in page  # the chart's figures as a table beside it

    api.clock.advance(timedelta(days=31))
    overdue = queue_page(api)
    assert counts_of(overdue)["Challenges past a month"] >= 1
    assert "Overdue" in text_of(overdue)


def test_the_work_queue_is_for_managers_only(api):
    client, _csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        refused = client.get("/manager/queue")
    assert refused.status_code == 403
