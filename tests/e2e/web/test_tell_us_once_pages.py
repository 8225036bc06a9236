"""Tell us once, accuracy challenges, the guardian's queues and the delivery figures, clicked
through in headless Chromium: each page checked with axe-core and kept as a screenshot;
another citizen's report, another organisation's delivery and a form without its token
refused."""

from __future__ import annotations

import re
import time
from contextlib import closing

import pytest
from playwright.sync_api import Page, expect

from onceonly.domain.life_events import RetryPolicy
from onceonly.entrypoints.demo.receivers import tell_us_once_running
from onceonly.entrypoints.web.i18n import translations
from onceonly.entrypoints.worker import WorkerThread
from onceonly.services.delivery import DeliveryService
from tests.e2e.web.conftest import (
    SECOND_PASSWORD,
    check_accessible,
    expect_charts_drawn,
    fits_phone_width,
    screenshot,
    sign_in_as_citizen,
    sign_in_with_token,
)

ADDRESS = "gov.onceonly.address.changed"
CLOSED_PORT = "http://127.0.0.1:9"  # discard: nothing listens on it


@pytest.fixture(scope="module")
def dvla_links(portal) -> list:
    """DVLA's driver numbers that matching could not link alone, awaiting its guardian
    (`onceonly identity match --org GOV/DVLA`)."""
    portal.exchange.identity.match("GOV/DVLA")
    dvla = next(a.principal for a in portal.world.accounts if a.label == "guardian:GOV/DVLA")
    waiting = portal.exchange.identity.candidates(dvla)
    assert waiting, "the demo world plants driver numbers matching cannot link alone"
    return waiting


def report_own_address(portal, tell: list[str], new_address: str) -> str:
    """The demo citizen's report through the API (as their app would); its id."""
    with closing(portal.api("citizen")) as api:
        sent = api.post("/v1/me/events", params={"tell": tell}, json={
            "type": ADDRESS, "data": {"new_address": new_address,
                                      "effective_date": "2026-11-01"}})
        assert sent.status_code == 202, sent.text
        return sent.json()["report_id"]


def test_a_citizen_tells_a_change_of_address_and_watches_every_organisation_told(
        page: Page, portal):
    with tell_us_once_running(portal.exchange, portal.world, portal.base_url,
                              poll_seconds=0.2) as stores:
        sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
        page.get_by_role("link", name="Tell us once").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("What has changed?")
        check_accessible(page)
        screenshot(page, "citizen-tell-us-once")
        page.get_by_role("button", name="Continue").click()  # nothing chosen
        expect(page.locator("#type-error")).to_contain_text("Select what has changed")
        check_accessible(page)
        page.get_by_label("Change of address").check()
        page.get_by_role("button", name="Continue").click()

        # One question a page: the address as its lines and a postcode.
        expect(page.get_by_role("heading", level=1)).to_have_text("What is your new address?")
        page.get_by_role("button", name="Continue").click()  # nothing entered yet
        summary = page.get_by_role("alert")
        expect(summary).to_contain_text("Enter the first line of the address")
        expect(summary).to_contain_text("Enter the postcode")
        expect(page.locator("#address-town-error")).to_contain_text("Enter the town or city")
        check_accessible(page)
        screenshot(page, "citizen-tell-us-once-address-errors")
        summary.get_by_role("link", name="Enter the postcode").click()
        expect(page.get_by_label("Postcode")).to_be_focused()
        page.get_by_label("Address line 1").fill("12 Harbour Road")
        page.get_by_label("Town or city").fill("Northtown")
        page.get_by_label("Postcode").fill("NT2 4B")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("#address-postcode-error")).to_contain_text(
            "Enter a real UK postcode")
        expect(page.get_by_label("Address line 1")).to_have_value("12 Harbour Road")
        page.get_by_label("Postcode").fill("nt2 4bb")
        page.get_by_role("button", name="Continue").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("When did you move?")
        moving = page.get_by_role("group", name="When did you move?")
        moving.get_by_label("Day").fill("31")
        moving.get_by_label("Month").fill("2")
        moving.get_by_label("Year").fill("2026")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("#effective_date-error")).to_contain_text("Enter a real date")
        check_accessible(page)
        moving.get_by_label("Day").fill("1")
        moving.get_by_label("Month").fill("11")
        page.get_by_role("button", name="Continue").click()

        tell = page.get_by_role("group", name="Which organisations should we tell?")
        check_accessible(page)
        screenshot(page, "citizen-tell-us-once-whom")
        tell.get_by_role("checkbox", name="NHS England").uncheck()
        page.get_by_role("button", name="Continue").click()

        # Check your answers: a change link goes to its question and comes back here.
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Check your answers before telling them")
        answers = page.locator("#answers")
        expect(answers).to_contain_text("12 Harbour Road")
        expect(answers).to_contain_text("NT2 4BB")
        expect(answers).to_contain_text("1 November 2026")
        expect(page.locator("#who")).not_to_contain_text("NHS England")
        check_accessible(page)
        screenshot(page, "citizen-tell-us-once-check")
        page.get_by_role("link", name="Change What is your new address?").click()
        expect(page.get_by_label("Postcode")).to_have_value("NT2 4BB")
        page.get_by_label("Address line 1").fill("14 Harbour Road")
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Check your answers before telling them")
        expect(answers).to_contain_text("14 Harbour Road")
        page.get_by_role("link", name="Back").click()
        expect(page.get_by_role("group", name="Which organisations should we tell?").get_by_role(
            "checkbox", name="NHS England")).not_to_be_checked()
        page.get_by_role("button", name="Continue").click()
        tell_at = time.monotonic()
        page.get_by_role("button", name="Tell them").click()

        expect(page).to_have_url(re.compile(r"/citizen/reports/[0-9a-f-]{36}\?sent=1$"))
        report_id = re.search(r"reports/([0-9a-f-]{36})", page.url)[1]
        panel = page.locator(".govuk-panel--confirmation")
        expect(panel).to_contain_text("Your change has been sent")
        expect(panel.locator("#reference")).to_have_text(report_id)
        expect(page.locator("#next-steps")).to_contain_text("HM Revenue & Customs is told")
        screenshot(page, "citizen-tell-us-once-sent")
        deliveries = page.get_by_role("region", name="Deliveries")
        for org in ("HM Revenue & Customs", "Department for Work and Pensions",
                    "Driver and Vehicle Licensing Agency", "Northshire County Council"):
            # No reload: the page asks for its status every 2 s until all are settled.
            expect(deliveries.get_by_role("row").filter(has_text=org)).to_contain_text(
                "delivered", timeout=15_000)
        expect(page.locator(".summary")).to_contain_text("4 of 4")
        expect(page.locator("main")).to_contain_text("NHS England: you chose not to tell it")
        assert time.monotonic() - tell_at < 15
        assert page.locator("#deliveries[hx-trigger]").count() == 0  # polling stopped
        nino = portal.world.citizen_ids["nino"]
        assert stores["GOV/HMRC"].applied_for(f"nino:{nino}")
        check_accessible(page)
        screenshot(page, "citizen-report", readme=True)
        fits_phone_width(page)
        screenshot(page, "citizen-report-phone")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="My reports", exact=True).click()
    reports = page.get_by_role("region", name="My reports")
    expect(reports.get_by_role("row").filter(has_text="Change of address").first).to_contain_text(
        "4")
    check_accessible(page)
    screenshot(page, "citizen-reports")


def test_a_citizen_tells_a_change_of_name_in_welsh(page: Page, portal):
    cy = translations("cy").gettext
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.get_by_role("link", name="Cymraeg").click()
    page.get_by_role("link", name=cy("Tell us once")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(cy("What has changed?"))
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.locator("#type-error")).to_contain_text(cy("Select what has changed"))
    page.get_by_label(cy("Change of name")).check()
    page.get_by_role("button", name=cy("Continue")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(cy("What is your new name?"))
    page.get_by_role("button", name=cy("Continue")).click()
    expect(page.locator("#new_full_name-error")).to_contain_text(cy("Enter your new name"))
    check_accessible(page)
    screenshot(page, "citizen-tell-us-once-cy-name-error")
    page.get_by_label(cy("What is your new name?")).fill("Alys Enwnewydd")
    page.get_by_role("button", name=cy("Continue")).click()
    page.get_by_role("button", name=cy("Continue")).click()  # the name before: optional
    when = page.get_by_role("group", name=cy("When did you start using your new name?"))
    when.get_by_label(cy("Day")).fill("15")
    when.get_by_label(cy("Month")).fill("11")
    when.get_by_label(cy("Year")).fill("2026")
    page.get_by_role("button", name=cy("Continue")).click()
    # Not the Department for Work and Pensions: a later test counts its dead letters.
    page.get_by_role("group", name=cy("Which organisations should we tell?")).get_by_role(
        "checkbox", name="Department for Work and Pensions").uncheck()
    page.get_by_role("button", name=cy("Continue")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        cy("Check your answers before telling them"))
    expect(page.locator("#answers")).to_contain_text("Alys Enwnewydd")
    expect(page.locator("#answers")).to_contain_text("15 Tachwedd 2026")
    check_accessible(page)
    screenshot(page, "citizen-tell-us-once-cy-check")
    fits_phone_width(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name=cy("Tell them")).click()
    expect(page.locator(".govuk-panel--confirmation")).to_contain_text(
        cy("Your change has been sent"))
    check_accessible(page)
    screenshot(page, "citizen-tell-us-once-cy-sent")
    page.goto("/citizen/tell-us-once/check")  # sent: the answers are forgotten
    expect(page).to_have_url(re.compile(r"/citizen/tell-us-once$"))
    # Switched back, so that the language kept with this citizen is English again for the
    # tests that follow (a sign-in shows the pages in the language kept with the account).
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_question_page_is_not_reached_before_a_change_is_chosen(page: Page, portal):
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.context.clear_cookies(name="onceonly_tell_us_once")
    for path in ("/citizen/tell-us-once/new_address", "/citizen/tell-us-once/check",
                 "/citizen/tell-us-once/no-such-question"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/citizen/tell-us-once$"))
    token = page.locator("input[name=csrf_token]").first.input_value()
    sent = page.request.post("/citizen/tell-us-once", form={"csrf_token": token},
                             max_redirects=0)
    assert sent.status == 303 and sent.headers["location"] == "/citizen/tell-us-once"


def test_a_citizen_challenges_a_value_and_the_guardian_corrects_it(page: Page, portal,
                                                                    browser, dvla_links):
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.get_by_role("link", name="Challenge a value").click()
    held = page.get_by_role("group", name="Which value is wrong?")
    dvla = held.get_by_role("group", name="Driver and Vehicle Licensing Agency")
    expect(dvla.get_by_role("radio")).not_to_have_count(0)
    # Special category data is listed, with why it is not challenged here, and no choice.
    special = held.locator(".special-category")
    expect(special.first).to_contain_text("special category data")
    page.get_by_role("button", name="Send the challenge").click()  # nothing picked
    expect(page.locator("#held-error")).to_contain_text(
        "Choose the value that is wrong from the list")
    expect(page.get_by_role("alert")).to_contain_text("Say what is wrong with it")
    check_accessible(page)
    screenshot(page, "citizen-challenges-errors")
    dvla.get_by_role("radio", name="Address").check()
    page.get_by_label("What is wrong with it").fill("I moved in October")
    page.get_by_label("What it should be (optional)").fill("12 Harbour Road, Northtown")
    page.get_by_role("button", name="Send the challenge").click()
    expect(page.get_by_role("status")).to_contain_text(
        "sent to Driver and Vehicle Licensing Agency's guardian")
    challenge_id = re.search(r"Challenge (\d+)", page.get_by_role("status").inner_text())[1]
    check_accessible(page)
    screenshot(page, "citizen-challenges")

    guardian = browser.new_context(base_url=portal.base_url,
                                   viewport={"width": 1280, "height": 900}).new_page()
    try:
        sign_in_with_token(guardian, portal.token("guardian:GOV/DVLA"))
        guardian.get_by_role("link", name="Deliveries, challenges, links").click()
        card = guardian.locator(f"#challenge-{challenge_id}")
        expect(card).to_contain_text("I moved in October")
        expect(card.get_by_label("Corrected value (to correct)")).to_have_value(
            "12 Harbour Road, Northtown")
        expect(guardian.locator(f"#link-{dvla_links[0].id}")).to_be_visible()
        check_accessible(guardian)
        screenshot(guardian, "guardian-queues", readme=True)
        card.get_by_role("button", name=f"Correct challenge {challenge_id}").click()
        expect(guardian.locator(f"#challenge-reason-{challenge_id}-error")).to_contain_text(
            "Say why")
        card.get_by_label("Reason (recorded with the decision)").fill(
            "Confirmed with the council's register")
        card.get_by_role("button", name=f"Correct challenge {challenge_id}").click()
        expect(guardian.get_by_role("status")).to_contain_text(
            f"Challenge {challenge_id} corrected")
        expect(card).to_contain_text("Corrected")
        check_accessible(guardian)
        fits_phone_width(guardian)
    finally:
        guardian.context.close()

    page.reload()
    expect(page.locator(f"#challenge-{challenge_id}")).to_contain_text(
        "Confirmed with the council's register")


def test_a_guardian_sends_a_dead_letter_again_and_another_guardian_cannot(page: Page, portal):
    dwp = next(a.principal for a in portal.world.accounts if a.label == "guardian:GOV/DWP")
    portal.exchange.life_events.set_endpoint(dwp, f"{CLOSED_PORT}/GOV/DWP")
    try:
        report_own_address(portal, ["GOV/DWP"], "14 Harbour Road, Northtown")
        worker = WorkerThread(DeliveryService(
            portal.exchange.uows, portal.clock, portal.exchange.envelopes,
            portal.exchange.key_store, "GOV/EXCHANGE", RetryPolicy(max_attempts=1)),
            batch=20, timeout=2).start()
        try:
            deadline = time.monotonic() + 30
            while not portal.exchange.life_events.dead_letters(dwp):
                assert time.monotonic() < deadline, "no delivery was dead-lettered"
                time.sleep(0.1)
        finally:
            worker.stop()
        [letter] = portal.exchange.life_events.dead_letters(dwp)

        sign_in_with_token(page, portal.token("guardian:GOV/HMRC"))
        page.goto("/guardian/queues")
        expect(page.locator(f"#dead-{letter.id}")).to_have_count(0)
        token = page.locator("input[name=csrf_token]").first.input_value()
        theirs = page.request.post(f"/guardian/deliveries/{letter.id}/redeliver",
                                   form={"csrf_token": token})
        assert theirs.status == 404 and "delivery_unknown" in theirs.text()
        assert portal.exchange.life_events.dead_letters(dwp) == [letter]
        page.context.clear_cookies()

        sign_in_with_token(page, portal.token("guardian:GOV/DWP"))
        page.goto("/guardian/queues")
        row = page.locator(f"#dead-{letter.id}")
        expect(row).to_contain_text("1")
        check_accessible(page)
        screenshot(page, "guardian-dead-letters")
        row.get_by_role("button", name=re.compile("Deliver again")).click()
        expect(page.get_by_role("status")).to_contain_text("queued again")
        expect(page.locator(f"#dead-{letter.id}")).to_have_count(0)
        assert portal.exchange.life_events.dead_letters(dwp) == []
    finally:
        portal.exchange.life_events.set_endpoint(dwp, None)


def test_a_citizen_cannot_open_another_citizens_report_by_url(page: Page, portal):
    report_id = report_own_address(portal, ["GOV/DVLA"], "16 Harbour Road, Northtown")
    sign_in_as_citizen(page, portal.second_login, SECOND_PASSWORD)
    page.get_by_role("link", name="My reports", exact=True).click()
    expect(page.get_by_text("You have not reported anything yet.")).to_be_visible()
    answer = page.goto(f"/citizen/reports/{report_id}")
    assert answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("There is no such report")
    expect(page.locator("main")).not_to_contain_text("Driver and Vehicle Licensing Agency")


def test_a_report_posted_without_its_csrf_token_is_refused(page: Page, portal):
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.goto("/citizen/tell-us-once")
    page.get_by_label("Change of address").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Address line 1").fill("18 Harbour Road")
    page.get_by_label("Town or city").fill("Northtown")
    page.get_by_label("Postcode").fill("NT2 4BB")
    page.get_by_role("button", name="Continue").click()
    moving = page.get_by_role("group", name="When did you move?")
    moving.get_by_label("Day").fill("1")
    moving.get_by_label("Month").fill("11")
    moving.get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # whom to tell: everyone
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before telling them")
    page.locator("form[action='/citizen/tell-us-once'] input[name=csrf_token]").evaluate(
        "input => input.remove()")
    page.get_by_role("button", name="Tell them").click()
    expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("This form could not be checked")


def test_the_manager_sees_delivery_times_by_organisation(page: Page, portal):
    report_own_address(portal, ["GOV/HMRC", "NHS/NHSE"], "20 Harbour Road, Northtown")
    with closing(portal.api("officer:NHS/NHSE")) as nhs:
        for item in nhs.get("/v1/inbox").json():
            assert nhs.post(f"/v1/inbox/{item['delivery_id']}/ack").status_code == 200
    sign_in_with_token(page, portal.token("manager"))
    table = page.locator("#delivery-figures")
    nhs_row = table.get_by_role("row").filter(has_text="NHS England")
    expect(nhs_row.locator("td").nth(4)).not_to_have_text("0")  # delivered
    expect(nhs_row.locator("td").nth(1)).to_have_text(re.compile(r"^\d+\.\d{3}$"))  # p50
    expect_charts_drawn(page, "chart-delivery-times", "chart-delivery-status")
    check_accessible(page)
    screenshot(page, "manager-deliveries", readme=True,
               part=page.locator("section").filter(has=page.locator("#deliveries-heading")))
    fits_phone_width(page)


def test_a_guardian_confirms_an_identity_link_matching_could_not_make_alone(page: Page,
                                                                           portal, dvla_links):
    dvla = next(a.principal for a in portal.world.accounts if a.label == "guardian:GOV/DVLA")
    waiting = dvla_links
    sign_in_with_token(page, portal.token("guardian:GOV/DVLA"))
    page.goto("/guardian/queues")
    card = page.locator(f"#link-{waiting[0].id}")
    expect(card).to_contain_text(waiting[0].value)
    card.locator("summary").click()  # open it
    check_accessible(page)
    card.get_by_label("Reason (recorded with the decision)").fill(
        "Same date of birth and postcode; the name is a typing slip")
    card.get_by_role("button", name=f"Confirm link {waiting[0].id}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Link {waiting[0].id} confirmed")
    expect(page.locator(f"#link-{waiting[0].id}")).to_have_count(0)
    assert waiting[0].id not in {c.id for c in portal.exchange.identity.candidates(dvla)}
