"""Challenge a value, in headless Chromium: the citizen sees the value each organisation
holds beside its label, chooses it, and the confirmation says what is held; their access
log shows their own reads; with a provider's system down, the page still lists what it
holds, with a sentence that the values could not be read now."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from onceonly.adapters.db import tables as t
from tests.e2e.test_http_connector import HMRC_FIELDS
from tests.e2e.web.conftest import (
    check_accessible,
    fits_phone_width,
    screenshot,
    sign_in_as_citizen,
)

DVLA = "GOV/DVLA"
HMRC = "GOV/HMRC/income"
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens on it


def organisation_name(portal, org_id: str) -> str:
    return next(o.name for o in portal.exchange.catalogue.read().organisations
                if o.id == org_id)


def held_address(portal, dataset_id: str) -> str:
    """What the provider's own store holds as the citizen's address, read as its connector
    reads it."""
    with portal.exchange.uows() as uow:
        dataset = uow.catalogue.dataset(dataset_id)
        config = uow.catalogue.connector_config(dataset_id)
        local_id = uow.people.identifiers(portal.world.citizen_ids["person_key"], [
            dataset.subject_scheme])[dataset.subject_scheme]
    return portal.exchange.connectors.for_dataset(dataset_id, config).fetch(
        local_id, ["address"])["address"]


def dvla_dataset(portal) -> str:
    with portal.exchange.uows() as uow:
        return next(d.id for d in uow.catalogue.datasets()
                    if d.provider_id == DVLA and d.event_type is None)


def test_the_citizen_sees_the_value_held_and_challenges_it(page: Page, portal):
    address = held_address(portal, dvla_dataset(portal))
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.get_by_role("link", name="Challenge a value").click()
    held = page.get_by_role("group", name="Which value is wrong?")
    dvla = held.get_by_role("group", name=organisation_name(portal, DVLA))
    choice = dvla.get_by_role("radio", name=re.compile("^Address"))
    expect(choice).to_have_accessible_name(re.compile(f"It holds: {re.escape(address)}"))
    check_accessible(page)
    fits_phone_width(page)
    screenshot(page, "citizen-challenge-held-values")

    choice.check()
    page.get_by_label("What is wrong with it").fill("I moved in October")
    page.get_by_role("button", name="Send the challenge").click()
    expect(page.get_by_role("status")).to_contain_text(f"It holds: {address}.")
    check_accessible(page)

    page.goto("/citizen")
    yours = page.locator("tr", has_text="To see what it holds about you")
    expect(yours.first).to_contain_text("You")
    expect(yours.first).to_contain_text("shown to you")


def test_a_provider_down_leaves_the_kinds_of_data_listed_with_a_sentence(page: Page,
                                                                          portal):
    with portal.exchange.engine.connect() as conn:
        original = conn.execute(select(t.datasets.c.connector)
                                .where(t.datasets.c.id == HMRC)).scalar_one()
    down = {"kind": "http", "url": CLOSED_PORT + "/people/{id}", "fields_param": "fields",
            "fields": HMRC_FIELDS, "timeout": 2, "retries": 0}
    with portal.exchange.engine.begin() as conn:
        conn.execute(update(t.datasets).where(t.datasets.c.id == HMRC).values(connector=down))
    try:
        sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
        answered = page.goto("/citizen/challenges")
        assert answered is not None and answered.status == 200
        hmrc_name = organisation_name(portal, "GOV/HMRC")
        hmrc = page.get_by_role("group", name="Which value is wrong?").get_by_role(
            "group", name=hmrc_name)
        expect(hmrc.get_by_role("radio")).not_to_have_count(0)
        expect(hmrc.get_by_role("radio").first).not_to_have_accessible_name(
            re.compile("It holds"))
        expect(page.locator(".held-unread")).to_contain_text(
            f"What {hmrc_name} holds about you could not be read just now")
        expect(page.locator(".held-value").first).to_be_visible()  # the others are read
        check_accessible(page)
        screenshot(page, "citizen-challenge-provider-down")
    finally:
        with portal.exchange.engine.begin() as conn:
            conn.execute(update(t.datasets).where(t.datasets.c.id == HMRC)
                         .values(connector=original))
