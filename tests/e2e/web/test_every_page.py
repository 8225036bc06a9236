"""Every page of the portals, in English and in Welsh, at 320 px and at desktop width: axe
finds no serious or critical violation and nothing makes the page scroll sideways. Also
the pages every service has (404, accessibility, privacy, cookies) and the API's own
documentation, served from vendored copies under the Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from onceonly.entrypoints.web.i18n import LANGUAGE_COOKIE
from tests.e2e.web.conftest import (
    check_accessible,
    expect_charts_drawn,
    screenshot,
    sign_in_as_citizen,
    sign_in_with_token,
)

NARROW = {"width": 320, "height": 800}
DESKTOP = {"width": 1366, "height": 900}
PUBLIC = ["/", "/sign-in", "/accessibility", "/privacy", "/cookies", "/no-such-page"]
CITIZEN = ["/citizen", "/citizen/consents", "/citizen/consents?agreement=4",
           "/citizen/tell-us-once", "/citizen/tell-us-once/new_address",
           "/citizen/tell-us-once/effective_date", "/citizen/tell-us-once/tell",
           "/citizen/reports", "/citizen/challenges", "/citizen/security"]
GUARDIAN = ["/guardian", "/guardian/queues", "/guardian/kill-switch"]
MANAGER = ["/manager"]
# What each page's heading says in Welsh (one page of each portal), so a test fails if a
# page stays English when Welsh is chosen.
WELSH_HEADINGS = {"/sign-in": "Mewngofnodi", "/citizen": "Pwy sydd wedi cael gafael ar fy nata",
                  "/no-such-page": "Heb ddod o hyd i'r dudalen",
                  "/guardian/kill-switch": "Switsh diffodd", "/manager": "Ffigurau'r gwasanaeth"}


def in_language(browser: Browser, portal, language: str) -> BrowserContext:
    context = browser.new_context(base_url=portal.base_url, viewport=DESKTOP)
    choose(context, portal, language)
    return context


def choose(context: BrowserContext, portal, language: str) -> None:
    host = portal.base_url.split("//")[1].split(":")[0]
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "domain": host,
                          "path": "/"}])


def fits(page: Page, width: int) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than {width}px"


def check_page(page: Page, path: str, language: str) -> None:
    for viewport in (DESKTOP, NARROW):
        page.set_viewport_size(viewport)
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == language
        if language == "cy" and path in WELSH_HEADINGS:
            expect(page.get_by_role("heading", level=1)).to_have_text(WELSH_HEADINGS[path])
        check_accessible(page)
        fits(page, viewport["width"])
        if viewport is NARROW:
            name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
            screenshot(page, f"every-page-{language}-{name or 'start'}-320")


@pytest.mark.parametrize("language", ["en", "cy"])
def test_public_pages(browser: Browser, portal, language: str):
    context = in_language(browser, portal, language)
    page = context.new_page()
    for path in PUBLIC:
        check_page(page, path, language)
    context.close()


@pytest.mark.parametrize("language", ["en", "cy"])
def test_citizen_pages(browser: Browser, portal, language: str):
    context = in_language(browser, portal, "en")  # the helper reads the English labels
    page = context.new_page()
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    page.goto("/citizen/tell-us-once")  # a change chosen: its question pages open
    page.get_by_label("Change of address").check()
    page.get_by_role("button", name="Continue").click()
    choose(context, portal, language)
    for path in CITIZEN:
        check_page(page, path, language)
    context.close()


@pytest.mark.parametrize("language", ["en", "cy"])
@pytest.mark.parametrize(("token", "paths"), [("guardian:GOV/HMRC", GUARDIAN),
                                              ("manager", MANAGER)])
def test_staff_pages(browser: Browser, portal, language: str, token: str, paths: list[str]):
    context = in_language(browser, portal, "en")
    page = context.new_page()
    sign_in_with_token(page, portal.token(token))
    choose(context, portal, language)
    for path in paths:
        check_page(page, path, language)
        if language == "cy":  # their body is Welsh too: nothing in it says otherwise
            assert page.locator("main").get_attribute("lang") is None
    context.close()


def chart_labels(page: Page, canvas: str) -> list[str]:
    """The labels a drawn chart shows: its bars' and its legend's."""
    return page.evaluate("id => { const c = Chart.getChart(id); return [...c.data.labels, "
                         "...c.data.datasets.map(d => d.label)]; }", canvas)


def test_a_welsh_managers_charts_are_labelled_in_welsh(browser: Browser, portal):
    context = in_language(browser, portal, "en")
    page = context.new_page()
    sign_in_with_token(page, portal.token("manager"))
    choose(context, portal, "cy")
    page.goto("/manager")
    expect_charts_drawn(page, "chart-hours", "chart-reasons")
    assert {"Caniatawyd", "Gwrthodwyd"} <= set(chart_labels(page, "chart-hours"))
    page.goto("/manager/queue")
    expect_charts_drawn(page, "chart-queue")
    labels = chart_labels(page, "chart-queue")
    assert "Cytundebau sy'n aros am benderfyniad" in labels
    assert "Eitemau sy'n aros" in labels
    assert "Agreements awaiting a decision" not in labels
    context.close()

def test_the_language_toggle_switches_and_comes_back_to_the_same_page(page: Page):
    page.goto("/accessibility", )
    page.get_by_role("link", name="Cymraeg").click()
    expect(page).to_have_url(f"{page.url.split('/accessibility')[0]}/accessibility")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Datganiad hygyrchedd")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_browser_language_is_honoured(browser: Browser, portal):
    context = browser.new_context(base_url=portal.base_url, locale="cy-GB")
    page = context.new_page()
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("button", name="Mewngofnodi fel dinesydd")).to_be_visible()
    context.close()


def test_the_toggle_never_sends_a_person_to_another_site(page: Page):
    page.goto("/language/cy?back=//elsewhere.example/")
    assert page.url.rstrip("/").endswith(page.url.split("//")[1].split("/")[0])
    expect(page.locator("html")).to_have_attribute("lang", "cy")


def test_a_missing_page_is_a_page_for_a_browser_and_problem_json_for_an_api_client(
        page: Page, portal):
    answer = page.goto("/no-such-page")
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    with portal.api("manager") as api:
        problem = api.get("/no-such-page")
    assert problem.status_code == 404 and problem.json()["code"] == "not_found"


@pytest.mark.parametrize(("path", "drawn"), [("/docs", ".opblock"),
                                             ("/redoc", "[data-section-id]")])
def test_the_api_documentation_works_offline_under_the_policy(page: Page, portal, path: str,
                                                              drawn: str):
    # Nothing comes from outside, and the policy refuses nothing (not even Redoc's logo).
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text or "Refused" in m.text else None)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith(portal.base_url) and
            not r.url.startswith(("data:", "blob:")) else None)
    page.goto(path)
    expect(page.locator(drawn).first).to_be_visible(timeout=20_000)
    page.wait_for_load_state("networkidle")  # Redoc's logo comes after its first sections
    assert not outside, outside
    assert not refused, refused
    screenshot(page, f"api-docs-{path.strip('/')}")
