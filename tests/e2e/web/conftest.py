"""The portals in a real browser: Debian's Chromium driven by Playwright, against the real
server on a loopback port over the demo world (SQLite; the HTTP-level tests beside cover
PostgreSQL). One browser for the session, one world and server per module, a fresh browser
context (cookies) per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright
from sqlalchemy import select

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.citizens import CitizenLogin, open_citizen_accounts
from onceonly.demo.seed import World, build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from tests.conftest import WORLD_PEOPLE

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
AXE = "/static/vendor/axe-core/axe.min.js"
SECOND_PASSWORD = "the second citizen's password"
PHONE = {"width": 390, "height": 844}


@dataclass
class Portal:
    """The running server and what stands behind it."""

    base_url: str
    exchange: Exchange
    world: World
    clock: MovableClock
    citizen: CitizenLogin
    second_login: str = "second-citizen"

    def new_citizen(self, login: str) -> None:
        """An account (password SECOND_PASSWORD) for a person who has none yet."""
        with self.exchange.engine.connect() as conn:
            taken = select(t.citizen_accounts.c.person_key)
            person = conn.execute(select(t.person_links.c.person_key)
                                  .where(t.person_links.c.person_key.not_in(taken))
                                  .limit(1)).scalar_one()
        self.exchange.accounts.open_account(login, SECOND_PASSWORD, person_key=person)

    def token(self, label: str) -> str:
        return self.world.token(label)

    def api(self, label: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30,
                            headers={"Authorization": f"Bearer {self.token(label)}"})


# Closed when the browser tests end: Playwright's synchronous API keeps an event loop running
# on the main thread while it is open, where later tests run loops of their own.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: run "
                    "`apt-get install chromium` (as root), then run the tests again",
                    pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'exchange.sqlite'}"
    clock = MovableClock()
    exchange = bootstrap(url, clock=clock)
    upgrade(exchange.engine)
    world = build_world(exchange, url, people=WORLD_PEOPLE)
    [citizen] = open_citizen_accounts(exchange, world)
    with running(create_app(exchange, integrate_every=0)) as base:
        portal = Portal(base, exchange, world, clock, citizen)
        portal.new_citizen(portal.second_login)
        yield portal
    exchange.close()


@pytest.fixture
def context(browser: Browser, portal: Portal) -> Iterator[BrowserContext]:
    fresh = browser.new_context(base_url=portal.base_url, viewport={"width": 1280, "height": 900})
    yield fresh
    fresh.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def check_accessible(page: Page) -> None:
    """axe-core in the page (the vendored copy): no serious or critical WCAG 2.x A/AA
    violation."""
    page.add_script_tag(url=AXE)
    results = page.evaluate("""async () => await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})""")
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}: "
        f"{[n['target'] for n in v['nodes']][:5]}" for v in bad)


def expect_charts_drawn(page: Page, *ids: str) -> None:
    """Every named canvas holds a Chart.js chart. The library loads deferred, after the
    page's text is visible, so this waits for it (and fails when a chart never comes)."""
    page.wait_for_function(
        "ids => window.Chart !== undefined && ids.every(id => Chart.getChart(id))",
        arg=list(ids), timeout=10_000)


def fits_phone_width(page: Page) -> None:
    """At phone width nothing makes the page scroll sideways (wide tables scroll inside
    their own region)."""
    page.set_viewport_size(PHONE)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => "
                  "requestAnimationFrame(done)))")  # let resize observers (charts) run
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, (f"the page is {overflow}px wider than a phone's screen; widest: "
                           f"{page.evaluate(WIDEST)}")


# What sticks out of the page's width, for a failing width check to name.
WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .slice(-5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
        ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


def screenshot(page: Page, name: str, *, readme: bool = False,
               part: Locator | None = None) -> None:
    """Kept as a test artefact (the whole page, or only `part` of it); the README's copies
    are refreshed on request (ONCEONLY_README_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if part is None:
        page.screenshot(path=str(path), full_page=True)
    else:
        part.screenshot(path=str(path))
    if readme and os.environ.get("ONCEONLY_README_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / f"{name}.png")


def sign_in_as_citizen(page: Page, login: str, password: str, code: str = "") -> None:
    page.goto("/sign-in")
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(password)
    if code:
        page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in as a citizen").click()


def sign_in_with_token(page: Page, token: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Your API token").fill(token)
    page.get_by_role("button", name="Sign in with my token").click()
