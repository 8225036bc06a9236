"""Citizens sign in through GOV.UK One Login, in Chromium, against a One Login-like provider
(oidc-provider in Node: private_key_jwt, `vtr`, pairwise `sub`, the identity claim signed by
its own issuer's key). The first sign-in links the citizen to their record through the
matcher: at once when it is sure, else queued (and the citizen told what happens next);
a proof of identity that is not One Login's is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.single_sign_on import ClientAuth
from onceonly.services.identity import ONE_LOGIN_SCHEME
from onceonly.services.ports.single_sign_on import Client, OneLogin
from tests.e2e.web.conftest import Portal
from tests.support.openid_providers import Providers, client_key, identity_key, running_providers

PATH = "/onelogin"
IDENTITY_ISSUER = "https://identity.integration.account.gov.uk/"
ADMIN = Principal("exchange.admin", "Administrator", "GOV/EXCHANGE", Role.ADMIN)
STRANGER = {"given_name": "Quentin", "family_name": "Nobodyknows", "birthdate": "1901-02-03"}


def citizen_of(portal: Portal) -> dict[str, str]:
    """The demo citizen's name and date of birth, as the index's sources hold them."""
    person = portal.world.citizen_ids["person_key"]
    [record] = [r for r in portal.exchange.identity.sources.reference(ONE_LOGIN_SCHEME)
                if r.record_id == person]
    given, _, family = record.full_name.rpartition(" ")
    return {"given_name": given, "family_name": family,
            "birthdate": record.date_of_birth.isoformat()}


@pytest.fixture(scope="module")
def one_login(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    folder = tmp_path_factory.mktemp("one-login")
    pem, public = client_key()
    (folder / "client.pem").write_text(pem)
    private_identity, public_identity = identity_key()
    forged_identity, _ = identity_key()
    (folder / "identity.jwk").write_text(json.dumps(public_identity))
    citizen = citizen_of(portal)
    misspelt = citizen | {"family_name": citizen["family_name"] + "e"}
    accounts = {"jane": citizen, "stranger": STRANGER, "typo": misspelt,
                "typo2": citizen | {"family_name": citizen["family_name"] + "s"}}
    client = {"client_id": "onceonly-citizens", "jwks": {"keys": [public]},
              "token_endpoint_auth_method": "private_key_jwt",
              "token_endpoint_auth_signing_alg": "RS256", "subject_type": "pairwise",
              "redirect_uris": [f"{portal.base_url}/sign-in/callback"],
              "post_logout_redirect_uris": [f"{portal.base_url}/sign-in?signed_out=1"]}
    with running_providers(
            [{"path": PATH, "one_login": True, "accounts": accounts, "clients": [client]},
             {"path": "/impostor", "one_login": True, "accounts": accounts,
              "clients": [client], "identity_key": forged_identity}],
            identity_issuer=IDENTITY_ISSUER, identity_key=private_identity) as running:
        sso = portal.exchange.single_sign_on
        sso.one_login = OneLogin(Client(running.issuer(PATH), "onceonly-citizens",
                                        ClientAuth.PRIVATE_KEY_JWT,
                                        f"file:{folder / 'client.pem'}", ("openid",)),
                                 '["Cl.Cm.P2"]', IDENTITY_ISSUER)
        sso.openid.identity_key = folder / "identity.jwk"
        yield running


def sign_in(page: Page, login: str) -> None:
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with GOV.UK One Login").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def count(portal: Portal, table, *where) -> int:
    with portal.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def test_a_citizen_signs_in_with_one_login_and_is_linked_to_their_record(
        portal: Portal, one_login: Providers, page: Page, context: BrowserContext):
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/onelogin/auth?" in r.url else None)
    sign_in(page, "jane")
    expect(page).to_have_url(f"{portal.base_url}/citizen")
    query = parse_qs(urlsplit(asked[0]).query)
    assert query["vtr"] == ['["Cl.Cm.P2"]']
    assert "coreIdentityJWT" in query["claims"][0]
    assert query["code_challenge_method"] == ["S256"]
    with portal.exchange.engine.connect() as conn:
        link = conn.execute(select(t.provider_people, t.principals.c.person_key,
                                   t.principals.c.role).join(
            t.principals, t.principals.c.id == t.provider_people.c.principal_id)).one()
    # One Login's pairwise sub, not its account id; the person the index knows.
    assert link.person != "jane" and len(link.person) == 64
    assert (link.person_key, link.role) == (portal.world.citizen_ids["person_key"],
                                            Role.CITIZEN.value)
    # Signing in again finds the link: no second principal.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    sign_in(page, "jane")
    expect(page).to_have_url(f"{portal.base_url}/citizen")
    assert count(portal, t.provider_people) == 1


def test_a_citizen_the_matcher_is_not_sure_of_waits_and_is_told_what_happens(
        portal: Portal, one_login: Providers, page: Page, context: BrowserContext):
    sign_in(page, "typo")
    expect(page.locator("#sign-in-refusal")).to_contain_text(
        "a member of staff now needs to confirm which record is yours")
    assert count(portal, t.citizen_link_requests, t.citizen_link_requests.c.status
                 == "pending") == 1
    assert count(portal, t.audit_log, t.audit_log.c.reason == "identity_pending") == 1
    assert not any(c["name"] == "onceonly_session" for c in context.cookies())
    # Signing in again before anyone confirms (still signed in at One Login): still
    # waiting, and told so again.
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with GOV.UK One Login").click()
    expect(page.locator("#sign-in-refusal")).to_contain_text("needs to confirm")
    # The exchange's administrator confirms the record; the next sign-in goes through.
    sso = portal.exchange.single_sign_on
    [(issuer, person, person_key, _levels)] = sso.waiting_citizens(ADMIN)
    assert person_key == portal.world.citizen_ids["person_key"]
    with pytest.raises(DomainError):
        sso.waiting_citizens(Principal("g", "G", "GOV/DWP", Role.GUARDIAN))
    assert sso.decide_citizen(ADMIN, issuer, person, confirm=True) == person_key
    with pytest.raises(DomainError):
        sso.decide_citizen(ADMIN, issuer, person, confirm=True)  # decided already
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with GOV.UK One Login").click()
    expect(page).to_have_url(f"{portal.base_url}/citizen")


def test_a_citizen_staff_rejected_is_told_so_not_told_to_wait_again(
        portal: Portal, one_login: Providers, page: Page, context: BrowserContext):
    sign_in(page, "typo2")
    expect(page.locator("#sign-in-refusal")).to_contain_text("needs to confirm")
    sso = portal.exchange.single_sign_on
    [(issuer, person, _key, _levels)] = sso.waiting_citizens(ADMIN)
    sso.decide_citizen(ADMIN, issuer, person, confirm=False)
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in with GOV.UK One Login").click()
    expect(page.locator("#sign-in-refusal")).to_contain_text(
        "could not confirm that the record found here is yours")
    assert sso.waiting_citizens(ADMIN) == []
    assert count(portal, t.audit_log, t.audit_log.c.reason == "identity_rejected") == 1
    assert not any(c["name"] == "onceonly_session" for c in context.cookies())


def test_a_citizen_with_no_record_is_told_so(portal: Portal, one_login: Providers,
                                             page: Page, context: BrowserContext):
    sign_in(page, "stranger")
    expect(page.locator("#sign-in-refusal")).to_contain_text("no record of yours was found")
    assert count(portal, t.audit_log, t.audit_log.c.reason == "identity_not_found") == 1
    assert not any(c["name"] == "onceonly_session" for c in context.cookies())


def test_a_proof_of_identity_not_signed_by_its_issuer_is_refused(
        portal: Portal, one_login: Providers, page: Page, context: BrowserContext):
    sso = portal.exchange.single_sign_on
    real = sso.one_login
    sso.one_login = OneLogin(Client(one_login.issuer("/impostor"), *(
        real.client.client_id, real.client.client_auth, real.client.secret,
        real.client.scopes)), real.vtr, real.identity_issuer)
    try:
        sign_in(page, "jane")
        expect(page.locator("#sign-in-refusal")).to_contain_text(
            "its proof of identity was not signed by GOV.UK One Login")
    finally:
        sso.one_login = real
    assert count(portal, t.audit_log, t.audit_log.c.reason == "identity_signature") == 1
    assert not any(c["name"] == "onceonly_session" for c in context.cookies())



def test_without_the_demo_setting_a_password_signs_nobody_in(
        portal: Portal, one_login: Providers, page: Page, context: BrowserContext,
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ONCEONLY_PASSWORD_SIGN_IN", "false")
    page.goto("/sign-in")
    expect(page.get_by_label("Password")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in with GOV.UK One Login")).to_be_visible()
    # A form posted all the same (from a page loaded before) is refused and audited.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = context.request.post("/sign-in/citizen", form={
        "csrf_token": token, "login": portal.citizen.login,
        "password": portal.citizen.password, "code": ""})
    assert answer.status == 403
    assert "GOV.UK One Login" in answer.text()
    assert count(portal, t.audit_log, t.audit_log.c.reason == "password_sign_in_off") == 1
    assert not any(c["name"] == "onceonly_session" for c in context.cookies())


def test_a_citizen_with_no_record_is_told_so_in_welsh_with_the_code_in_small_print(
        portal: Portal, one_login: Providers, page: Page, context: BrowserContext):
    page.goto("/language/cy")
    page.goto("/sign-in")
    page.get_by_role("button", name="Mewngofnodi gyda GOV.UK One Login").click()
    page.locator("input[name=login]").fill("stranger")
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()  # the provider's own page
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ni lwyddwyd i'ch mewngofnodi")
    expect(page.locator("#sign-in-refusal")).to_contain_text(
        "Profodd GOV.UK One Login pwy ydych chi, ond ni chanfuwyd cofnod amdanoch yma.")
    expect(page.locator(".small-print code")).to_have_text("identity_not_found")
    expect(page.get_by_text("no record of yours was found")).to_have_count(0)
    assert not any(c["name"] == "onceonly_session" for c in context.cookies())
