"""The citizen's pages over HTTP, on SQLite and PostgreSQL. Challenge a value: what each
provider holds is read, and each read audited, when the page is opened, not again when its
form comes back, refused or sent; the form carries what the page showed, and a carried
copy that was altered shows nothing rather than what it claims. Consents: a refusal names
the organisation its problem names, in English and in Welsh."""

from __future__ import annotations

import re
from contextlib import closing

import httpx
import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.demo.citizens import open_citizen_accounts
from tests.e2e.test_web_sign_in import csrf_of, sign_in

ADDRESS = "GOV/DVLA/licences#address"


@pytest.fixture(scope="module")
def client(api):
    [citizen] = open_citizen_accounts(api.exchange, api.world)
    with closing(httpx.Client(base_url=api.base_url, timeout=30)) as client:
        assert sign_in(client, citizen.login, citizen.password).status_code == 303
        yield client


def subject_reads(api) -> int:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == "subject_access.read",
            t.audit_log.c.person_key == api.world.citizen_ids["person_key"])).scalar_one()


def held_seen(page: str) -> str:
    return re.search(r'name="held_seen" value="([^"]*)"', page)[1]


def values_shown(page: str) -> list[str]:
    return re.findall(r'class="govuk-!-display-block held-value">(.*?)</span>', page, re.S)


def test_a_refused_form_shows_what_the_page_showed_without_reading_it_again(api, client):
    before = subject_reads(api)
    opened = client.get("/citizen/challenges")
    assert opened.status_code == 200
    read_on_opening = subject_reads(api) - before
    assert read_on_opening >= 1
    shown = values_shown(opened.text)
    assert shown

    none_picked = client.post("/citizen/challenges", data={
        "csrf_token": csrf_of(opened), "held_seen": held_seen(opened.text),
        "what_is_wrong": "wrong"})

    assert none_picked.status_code == 422 and 'id="held-error"' in none_picked.text
    assert values_shown(none_picked.text) == shown
    assert subject_reads(api) - before == read_on_opening  # no second read, no second entry


def test_a_sent_challenge_says_what_was_held_without_reading_it_again(api, client):
    opened = client.get("/citizen/challenges")
    before = subject_reads(api)

    sent = client.post("/citizen/challenges", data={
        "csrf_token": csrf_of(opened), "held_seen": held_seen(opened.text), "held": ADDRESS,
        "what_is_wrong": "I moved in October"})

    assert sent.status_code == 200
    assert re.search(r"sent to Driver and Vehicle Licensing Agency.*It holds: \S", sent.text,
                     re.S)
    assert subject_reads(api) == before


def test_an_altered_carried_copy_shows_no_values(api, client):
    opened = client.get("/citizen/challenges")
    carried = held_seen(opened.text)
    altered = carried[:-2] + ("AA" if not carried.endswith("AA") else "BB")
    before = subject_reads(api)

    refused = client.post("/citizen/challenges", data={
        "csrf_token": csrf_of(opened), "held_seen": altered, "what_is_wrong": "wrong"})

    assert refused.status_code == 422
    assert values_shown(refused.text) == []
    assert subject_reads(api) == before


@pytest.mark.parametrize(("language", "said"), [
    ("en", "Northbank plc has no agreement for this purpose."),
    ("cy", "Nid oes gan Northbank plc gytundeb ar gyfer y diben hwn."),
])
def test_a_consent_refused_names_the_organisation_in_the_pages_language(
        api, client, language: str, said: str):
    client.get(f"/language/{language}")
    try:
        shown = client.get("/citizen/consents")
        refused = client.post("/citizen/consents", data={
            "csrf_token": csrf_of(shown), "days": "30", "purpose": "benefit-entitlement",
            "consumer": "COM/NORTHBANK", "fields": "income_band"})
    finally:
        client.get("/language/en")
    assert refused.status_code == 422
    assert f'<a href="#days">{said}</a>' in refused.text.replace("&#39;", "'")  # the summary
