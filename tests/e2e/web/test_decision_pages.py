"""The public register, the guardian's agreement page and its confirmation pages, the
challenge page and the manager's work queue, clicked through in Chromium: each checked with
axe-core and kept as a screenshot; nothing revoked or cut off until confirmed."""

from __future__ import annotations

import re
from dataclasses import replace

from playwright.sync_api import Page, expect

from tests.e2e.web.conftest import (
    check_accessible,
    expect_charts_drawn,
    fits_phone_width,
    screenshot,
    sign_in_with_token,
)


def test_anyone_reads_the_register_in_english_and_in_welsh(page: Page):
    page.goto("/register")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Register of data-sharing agreements")
    first = page.locator("#agreement-1")
    expect(first).to_contain_text("Department for Work and Pensions")
    expect(first).to_contain_text("Annual income")
    check_accessible(page)
    screenshot(page, "register")
    fits_phone_width(page)
    page.get_by_role("link", name="Darllen y gofrestr yn Gymraeg").click()
    expect(page.locator("#agreement-1")).to_contain_text("Incwm blynyddol")
    check_accessible(page)
    screenshot(page, "register-cy")


def test_a_guardian_decides_from_the_agreement_page_and_confirms_a_revocation(page: Page,
                                                                             portal):
    sign_in_with_token(page, portal.token("guardian:NHS/NHSE"))
    page.get_by_role("link", name="Everything in agreement 6, to decide from").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Driver and Vehicle Licensing Agency asks for information from NHS England")
    expect(page.locator("#special-category-condition")).to_contain_text(
        "UK GDPR Article 9(2)(a)")
    expect(page.get_by_role("table")).to_contain_text("Medical conditions")
    check_accessible(page)
    screenshot(page, "guardian-agreement")
    fits_phone_width(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="Revoke this agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to revoke this agreement?")
    expect(page.locator("#revoking")).to_contain_text("agreement reference 6")
    check_accessible(page)
    screenshot(page, "guardian-confirm-revoke")
    page.get_by_role("link", name="No, go back").click()
    expect(page).to_have_url(re.compile(r"/guardian/agreements/6$"))
    with portal.exchange.uows() as uow:
        assert uow.agreements.get(6).status.value == "approved"


def test_the_kill_switch_is_confirmed_on_a_page_of_its_own(page: Page, portal):
    sign_in_with_token(page, portal.token("guardian:NHS/NHSE"))
    page.goto("/guardian/kill-switch")
    page.get_by_label("Consumer to cut off").select_option("GOV/DVLA")
    page.get_by_label("Reason").fill("suspected misuse")
    page.get_by_role("button", name="Pull the kill switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to cut off Driver and Vehicle Licensing Agency?")
    expect(page.locator("#cut-off")).to_contain_text("agreement reference 6")
    check_accessible(page)
    screenshot(page, "guardian-confirm-kill-switch")
    with portal.exchange.uows() as uow:
        assert uow.agreements.get(6).status.value == "approved"  # not yet
    page.get_by_role("link", name="No, go back").click()
    expect(page).to_have_url(re.compile(r"/guardian/kill-switch$"))


def test_a_guardian_sees_the_held_value_beside_the_proposed_one(page: Page, portal):
    citizen = replace(next(a.principal for a in portal.world.accounts if a.label == "citizen"),
                      person_key=portal.world.citizen_ids["person_key"])
    raised = portal.exchange.accuracy.raise_challenge(
        citizen, "GOV/HMRC/income", "address", "I moved", "2 New Street, Northtown")
    sign_in_with_token(page, portal.token("guardian:GOV/HMRC"))
    page.goto(f"/guardian/challenges/{raised.id}")
    expect(page.locator("#proposed-value")).to_have_text("2 New Street, Northtown")
    expect(page.locator("#held-value")).not_to_be_empty()
    check_accessible(page)
    screenshot(page, "guardian-challenge")


def test_the_manager_reads_the_work_queue_with_its_chart_and_table(page: Page, portal):
    sign_in_with_token(page, portal.token("manager"))
    page.get_by_role("link", name="Work queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Work queue")
    expect_charts_drawn(page, "chart-queue")
    expect(page.locator("#queue-counts")).to_contain_text("Agreements awaiting a decision")
    check_accessible(page)
    screenshot(page, "manager-work-queue")
    fits_phone_width(page)
    screenshot(page, "manager-work-queue-phone")


def test_revoking_from_the_console_goes_through_its_confirmation_page(page: Page, portal):
    sign_in_with_token(page, portal.token("guardian:GOV/HMRC"))
    card = page.locator("#agreement-4")
    card.get_by_label("Decision", exact=True).select_option("revoke")
    card.get_by_label("Reason (recorded with the decision)").fill("contract ended")
    card.get_by_role("button", name="Record decision on agreement 4").click()
    expect(page).to_have_url(re.compile(r"/guardian/agreements/4/revoke\?reason=contract"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Are you sure you want to revoke this agreement?")
    expect(page.locator("#revoking")).to_contain_text("agreement reference 4")
    expect(page.get_by_label("Why are you revoking it?")).to_have_value("contract ended")
    with portal.exchange.uows() as uow:
        assert uow.agreements.get(4).status.value == "approved"  # not until confirmed
    page.get_by_role("button", name="Yes, revoke this agreement").click()
    expect(page.get_by_role("status")).to_contain_text("Revocation recorded")
    with portal.exchange.uows() as uow:
        assert uow.agreements.get(4).status.value == "revoked"
