"""An entry of the citizen's access log checked in their own browser (Chromium's Web Crypto:
SHA-256 for the inclusion proof, Ed25519 for the signed tree head): a real entry verifies;
a proof tampered with on its way to the browser, a head signed by no key of the log's
operator, and an entry changed on the way each say the entry does not verify."""

from __future__ import annotations

import base64
import json
import re

from playwright.sync_api import Page, Route, expect

from tests.e2e.web.conftest import check_accessible, screenshot, sign_in_as_citizen
from tests.e2e.web.test_portals import ask_about_the_citizen


def open_check_page(page: Page, portal) -> None:
    assert ask_about_the_citizen(portal, 1, "income_band", "benefit-entitlement",
                                 "officer:GOV/DWP") == 200
    portal.exchange.audit.integrate()  # the server's integrator is off: sign a head now
    sign_in_as_citizen(page, portal.citizen.login, portal.citizen.password)
    expect(page).to_have_url(re.compile(r"/citizen$"))
    page.get_by_role("link", name=re.compile(r"Check entry \d+ in your own browser")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("in your own browser")


def changed(route: Route, change) -> None:
    """The real answer, changed by `change` on its way to the browser."""
    answer = route.fetch()
    body = answer.json()
    change(body)
    route.fulfill(response=answer, body=json.dumps(body))


def flip_first_byte(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_a_real_entry_verifies_in_the_browser_saying_what_was_checked(page: Page, portal):
    open_check_page(page, portal)
    check_accessible(page)
    page.get_by_role("button", name=re.compile(r"Check entry \d+")).click()
    status = page.locator("#verify-result")
    expect(status).to_contain_text("Verified in your browser.")
    steps = page.get_by_role("list", name="What was checked")
    expect(steps.get_by_role("listitem")).to_have_count(4)
    expect(steps).to_contain_text("SHA-256 fingerprint")
    expect(steps).to_contain_text("inclusion proof")
    expect(steps).to_contain_text("Ed25519")
    check_accessible(page)
    screenshot(page, "citizen-verify-in-browser")


def test_a_tampered_inclusion_proof_does_not_verify(page: Page, portal):
    open_check_page(page, portal)
    page.route("**/v1/audit/proof/inclusion*", lambda route: changed(
        route, lambda proof: proof.update(audit_path=[flip_first_byte(proof["audit_path"][0]),
                                                      *proof["audit_path"][1:]])))
    page.get_by_role("button", name=re.compile(r"Check entry \d+")).click()
    status = page.locator("#verify-result")
    expect(status).to_contain_text("Does not verify.")
    expect(status).to_contain_text("does not lead to the root")
    check_accessible(page)
    screenshot(page, "citizen-verify-tampered")


def test_a_head_signed_by_no_key_of_the_operator_does_not_verify(page: Page, portal):
    open_check_page(page, portal)
    page.route("**/.well-known/jwks.json", lambda route: changed(
        route, lambda jwks: jwks.update(keys=[dict(k, x=base64.urlsafe_b64encode(
            bytes(32)).decode().rstrip("=")) for k in jwks["keys"]])))
    page.get_by_role("button", name=re.compile(r"Check entry \d+")).click()
    expect(page.locator("#verify-result")).to_contain_text("Does not verify.")
    expect(page.locator("#verify-result")).to_contain_text("signature")


def test_an_entry_changed_on_its_way_does_not_verify(page: Page, portal):
    open_check_page(page, portal)
    page.route("**/citizen/access/*/entry.json", lambda route: changed(
        route, lambda body: body["entry"].update(purpose="something else")))
    page.get_by_role("button", name=re.compile(r"Check entry \d+")).click()
    expect(page.locator("#verify-result")).to_contain_text(
        "the entry shown is not the entry the log holds")
