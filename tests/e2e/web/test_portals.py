"""Each portal clicked through as a person would, in headless Chromium: every page checked
with axe-core and kept as a screenshot; refusals shown where the person acts."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from playwright.sync_api import Page, expect

from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
from onceonly.domain.sign_in import ADDRESS_AND_LOGIN, SESSION_LIFETIME
from onceonly.entrypoints.web.security import SESSION_COOKIE
from onceonly.services.agreements import DraftCommand
from tests.e2e.web.conftest import (
    SECOND_PASSWORD,
    check_accessible,
    expect_charts_drawn,
    fits_phone_width,
    screenshot,
    sign_in_as_citizen,
    sign_in_with_token,
)


def ask_about_the_citizen(portal, agreement: int, field: str, purpose: str,
                          officer: str) -> int:
    with portal.api(officer) as api:
        return api.post("/v1/queries", json={
            "agreement_id": agreement, "fields": [field], "purpose": purpose,
            "subject": {"scheme": "nino", "value": portal.world.citizen_ids["nino"]}},
        ).status_code


def test_the_landing_page_leads_to_each_portal_and_the_api_docs(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading", name="onceonly: tell government once")).to_be_visible()
    for name, path in (("Open the citizen portal", "/citizen"),
                       ("Open the guardian console", "/guardian"),
                       ("Open the dashboard", "/manager")):
        expect(page.get_by_role("button", name=name)).to_have_attribute("href", path)
    expect(page.get_by_role("link", name="/docs").first).to_be_visible()
    check_accessible(page)
    screenshot(page, "landing")
    fits_phone_width(page)
    screenshot(page, "landing-phone")


def test_a_citizen_signs_in_sees_who_asked_and_verifies_an_entry(page: Page, portal):
    assert ask_about_the_citizen(portal, 1, "income_band", "benefit-entitlement",
                                 "officer:GOV/DWP") == 200
    assert ask_about_the_citizen(portal, 4, "income_band", "mortgage-affordability",
                                 "officer:COM/NORTHBANK") == 403
    portal.exchange.audit.integrate()  # the server's integrator is off: sign a head now

    page.goto("/sign-in")
    check_accessible(page)
    screenshot(page, "sign-in")
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    expect(page).to_have_url(re.compile(r"/citizen$"))
    log = page.get_by_role("region", name="Access log")
    dwp = log.get_by_role("row").filter(has_text="Department for Work and Pensions").first
    expect(dwp).to_contain_text("benefit-entitlement")
    expect(dwp).to_contain_text("income_band")
    expect(dwp).to_contain_text("released")
    expect(dwp).to_contain_text(re.compile(r"An officer at Department for Work and Pensions "
                                           r"\(reference [0-9a-f]{12}\)"))
    bank = log.get_by_role("row").filter(has_text="Northbank plc").first
    expect(bank).to_contain_text("refused")
    dwp.get_by_role("button", name=re.compile("Verify entry")).click()
    expect(dwp.get_by_role("status")).to_contain_text("Verified.")
    expect(dwp.get_by_role("status")).to_contain_text("signed tree head")
    check_accessible(page)
    screenshot(page, "citizen-access-log", readme=True)
    fits_phone_width(page)
    screenshot(page, "citizen-access-log-phone")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.")


def test_a_citizen_cannot_open_another_citizens_entry_by_url(page: Page, portal):
    ask_about_the_citizen(portal, 1, "income_band", "benefit-entitlement", "officer:GOV/DWP")
    portal.exchange.audit.integrate()
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    link = page.get_by_role("button", name=re.compile("Verify entry")).first
    theirs = link.get_attribute("href")
    page.context.clear_cookies()

    sign_in_as_citizen(page, portal.second_login, SECOND_PASSWORD)
    expect(page.get_by_text("No organisation has asked for your data yet.")).to_be_visible()
    answer = page.goto(theirs)
    assert answer.status == 404
    expect(page.get_by_role("alert")).to_contain_text("There is no such entry in the log")
    expect(page.locator("main")).not_to_contain_text("Verified")
    assert page.goto("/guardian").status == 403


def test_a_guardian_approves_an_agreement_with_a_reason(page: Page, portal):
    officer = next(a.principal for a in portal.world.accounts if a.label == "officer:GOV/DWP")
    now = portal.clock.now()
    draft = portal.exchange.agreements.draft(officer, DraftCommand(
        dataset_id="GOV/HMRC/income",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code="benefit-review", purpose_text="Annual review of awards",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=now, valid_until=now + timedelta(
            days=90), max_queries_per_day=100, retention_days=30,
        assessment=PrivacyAssessment(Risk.MEDIUM, "Income band only, never the amount",
                                     officer.name, now.date())))
    portal.exchange.agreements.transition(officer, draft.id, "submit", "ready for decision")

    sign_in_with_token(page, portal.token("guardian:GOV/HMRC"))
    expect(page).to_have_url(re.compile(r"/guardian$"))
    card = page.locator(f"#agreement-{draft.id}")
    expect(card).to_contain_text("Annual review of awards")
    expect(card).to_contain_text("Medium")
    expect(card).to_contain_text("income_band")
    check_accessible(page)
    screenshot(page, "guardian-console", readme=True)

    card.get_by_label("Decision", exact=True).select_option("approve")
    card.get_by_role("button", name=f"Record decision on agreement {draft.id}").click()
    expect(card.get_by_role("alert")).to_contain_text("every decision is recorded")  # no reason
    card.get_by_label("Reason (recorded with the decision)").fill("Minimal field, clear duty")
    card.get_by_role("button", name=f"Record decision on agreement {draft.id}").click()
    expect(card.locator(".state")).to_have_text("In force")
    expect(card.get_by_role("status")).to_contain_text("Approval recorded")
    assert portal.exchange.agreements.get(officer, draft.id).status.value == "approved"
    check_accessible(page)
    fits_phone_width(page)
    screenshot(page, "guardian-console-phone")


def test_a_guardian_cannot_act_for_another_organisation(page: Page, portal):
    sign_in_with_token(page, portal.token("guardian:GOV/DVLA"))
    page.goto("/guardian/kill-switch")
    check_accessible(page)
    screenshot(page, "guardian-kill-switch")
    page.goto("/guardian")
    # Agreement 6 (DVLA asks NHS England) is not on DVLA's console; its form is made to
    # point at it, as a guardian editing the page would.
    expect(page.locator("#agreement-6")).to_have_count(0)
    card = page.locator("article.agreement").first
    card.evaluate("""card => { const form = card.querySelector('form');
        form.setAttribute('action', '/guardian/agreements/6');
        form.setAttribute('hx-post', '/guardian/agreements/6'); htmx.process(form); }""")
    card.get_by_label("Decision", exact=True).select_option("revoke")
    card.get_by_label("Reason (recorded with the decision)").fill("cutting NHS England off")
    card.get_by_role("button", name=re.compile("Record decision")).click()
    expect(page.locator("#agreement-6").get_by_role("alert")).to_contain_text(
        "Only a data guardian of the organisation that holds the data can do this")
    with portal.exchange.uows() as uow:
        assert uow.agreements.get(6).status.value == "approved"


def test_a_form_posted_without_its_csrf_token_is_refused(page: Page, portal):
    page.goto("/sign-in")
    page.locator("form[action='/sign-in/citizen'] input[name=csrf_token]").evaluate(
        "input => input.remove()")
    page.get_by_label("Login").fill(portal.citizen.login)
    page.get_by_label("Password").fill(portal.citizen.password)
    page.get_by_role("button", name="Sign in as a citizen").click()
    expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("This form could not be checked")
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}


def test_wrong_passwords_slow_sign_in_then_lock_it_with_a_clear_message(page: Page, portal):
    page.goto("/sign-in")
    token = page.locator("input[name=csrf_token]").first.input_value()
    try:
        for attempt in range(ADDRESS_AND_LOGIN.limit - 1):  # a script, waiting when told
            answer = page.request.post("/sign-in/citizen", form={
                "csrf_token": token, "login": portal.citizen.login,
                "password": f"guess number {attempt}"})
            if answer.status == 429:
                portal.clock.advance(timedelta(seconds=int(answer.headers["retry-after"])))
        sign_in_as_citizen(page, portal.citizen.login, "the last guess, by hand")
        expect(page.get_by_role("alert")).to_contain_text(
            re.compile(r"signing in with a password alone is locked for \d+ minutes?\."))
        expect(page.get_by_role("alert")).to_contain_text("the code from your authenticator")
        check_accessible(page)
        screenshot(page, "sign-in-locked")
        sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
        expect(page.get_by_role("alert")).to_contain_text(re.compile(r"locked for \d+ minutes?"))
    finally:
        portal.clock.advance(timedelta(minutes=16))  # let the lock lapse for other tests


def test_forged_expired_and_signed_out_cookies_are_refused(page: Page, portal):
    cookie = {"name": SESSION_COOKIE, "url": portal.base_url}
    page.context.add_cookies([{**cookie, "value": "forged-by-hand"}])
    page.goto("/citizen")
    expect(page.get_by_role("alert")).to_contain_text("You are not signed in")

    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    session = next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    page.get_by_role("button", name="Sign out").click()
    page.context.add_cookies([{**cookie, "value": session}])
    page.goto("/citizen")
    expect(page.get_by_role("alert")).to_contain_text("You signed out of this session")

    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.wait_for_url("**/citizen")  # the sign-in's own navigation has finished
    portal.clock.advance(SESSION_LIFETIME + timedelta(seconds=1))
    try:
        page.goto("/citizen")
    finally:
        portal.clock.advance(-(SESSION_LIFETIME + timedelta(seconds=1)))
    expect(page.get_by_role("alert")).to_contain_text("has expired")


def test_the_manager_sees_the_figures_metrics_counts(page: Page, portal):
    for _ in range(3):
        ask_about_the_citizen(portal, 1, "income_band", "benefit-entitlement",
                              "officer:GOV/DWP")
    ask_about_the_citizen(portal, 4, "income_band", "mortgage-affordability",
                          "officer:COM/NORTHBANK")
    with portal.api("manager") as api:
        metrics = api.get("/metrics").text
    counted = {m[1]: float(m[2]) for m in re.finditer(
        r'onceonly_decisions_total\{outcome="(\w+)",reason="[^"]*"\} ([0-9.e+]+)', metrics)}

    sign_in_with_token(page, portal.token("manager"))
    expect(page).to_have_url(re.compile(r"/manager$"))
    process = page.locator("#process-counters")
    for outcome in ("permit", "deny"):
        total = sum(float(m[2]) for m in re.finditer(
            rf'onceonly_decisions_total\{{outcome="({outcome})",reason="[^"]*"\}} ([0-9.e+]+)',
            metrics))
        rows = process.get_by_role("row").filter(has_text=outcome)
        shown = sum(int(r.locator("td").nth(2).inner_text()) for r in rows.all())
        assert shown == total and outcome in counted
    # The audit log holds every decision, including those made before this check.
    assert int(page.locator("#total-permits").inner_text()) >= counted["permit"]
    assert int(page.locator("#total-refusals").inner_text()) >= counted["deny"]
    expect(page.get_by_role("table").filter(has_text="consent_missing").first).to_be_visible()
    # Agreements by their purpose in words, each reference in small print.
    with portal.exchange.uows() as uow:
        purpose = uow.agreements.get(1).purpose_text
    by_agreement = page.get_by_role("table").filter(has_text=purpose)
    expect(by_agreement.get_by_role("row").filter(has_text=purpose).locator(
        ".small-print")).to_have_text("(agreement reference 1)")
    expect_charts_drawn(page, "chart-hours", "chart-reasons", "chart-agreements")
    check_accessible(page)
    screenshot(page, "manager-dashboard", readme=True)
    fits_phone_width(page)
    screenshot(page, "manager-dashboard-phone")


def test_a_citizen_turns_on_two_step_sign_in_and_then_needs_a_code(page: Page, portal):
    portal.new_citizen("careful-citizen")
    sign_in_as_citizen(page, "careful-citizen", SECOND_PASSWORD)
    page.get_by_role("link", name="Two-step sign-in").click()
    page.get_by_role("button", name="Set up two-step sign-in").click()
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text())
    page.get_by_label("The 6-digit code the app shows now").fill("12345")
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")  # beside the field
    page.get_by_label("The 6-digit code the app shows now").fill(totp.at(portal.clock.now()))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("status")).to_contain_text("Two-step sign-in is on")
    check_accessible(page)
    screenshot(page, "citizen-two-step")
    page.get_by_role("button", name="Sign out").click()

    sign_in_as_citizen(page, "careful-citizen", SECOND_PASSWORD)
    expect(page.locator("#code-error")).to_contain_text("6-digit code")
    portal.clock.advance(timedelta(seconds=30))  # the enrolment's code is spent
    sign_in_as_citizen(page, "careful-citizen", SECOND_PASSWORD,
                       code=totp.at(portal.clock.now()))
    expect(page).to_have_url(re.compile(r"/citizen$"))


def test_a_citizen_previews_grants_and_withdraws_consent(page: Page, portal):
    ask = ("income_band", "mortgage-affordability", "officer:COM/NORTHBANK")
    assert ask_about_the_citizen(portal, 4, *ask) == 403  # no consent yet
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.get_by_role("link", name="My consents").click()
    # Only the organisations that ask for consent are offered; another agreement is refused.
    asking = page.get_by_role("group", name="Which organisation is asking for your consent?")
    expect(asking.get_by_role("radio", name="Northbank plc")).to_be_visible()
    expect(asking).not_to_contain_text("Department for Work and Pensions")  # a duty, not consent
    page.goto("/citizen/consents?agreement=1")
    expect(page.locator("#agreement-error")).to_contain_text("does not need your consent")
    page.get_by_role("radio", name="Northbank plc").check()
    page.get_by_role("button", name="Show me what would be shared").click()
    expect(page).to_have_url(re.compile(r"/citizen/consents\?agreement=4$"))
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Northbank plc")
    expect(preview.get_by_role("row").filter(has_text="income_band")).to_be_visible()
    check_accessible(page)
    screenshot(page, "citizen-consent-preview")
    page.get_by_label("For how long").select_option("90")
    page.get_by_role("button", name="I consent to Northbank plc receiving this").click()
    expect(page.get_by_role("status")).to_contain_text("Consent given to Northbank plc")
    assert ask_about_the_citizen(portal, 4, *ask) == 200

    page.get_by_role("button", name="Withdraw consent for mortgage-affordability").click()
    expect(page.get_by_role("status")).to_contain_text("withdrawn")
    expect(page.locator("main")).to_contain_text("withdrawn")
    assert ask_about_the_citizen(portal, 4, *ask) == 403
    check_accessible(page)
