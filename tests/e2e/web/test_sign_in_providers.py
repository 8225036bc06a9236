"""Staff sign in through their organisation's OpenID provider, in Chromium, against real
providers (panva's oidc-provider in Node): a guardian through their department's (client
secret), a manager through the exchange's own (private_key_jwt); signing out there too.
Each way a sign-in can go wrong is refused with a page that says why, audited, and signs
nobody in: a wrong state, a replayed code, a wrong nonce, an expired ID token, the wrong
audience or issuer, an unsigned or HS256 token, a key the provider does not publish, no
mapped role, another organisation, a person disabled at the provider or in the exchange."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider
from onceonly.entrypoints.web.security import SESSION_COOKIE
from tests.e2e.web.conftest import Portal
from tests.support.openid_providers import Providers, client_key, running_providers

SECRET_VARIABLE = "ONCEONLY_TEST_DWP_CLIENT_SECRET"
DWP, EXCHANGE = "/dwp", "/exchange"
GROUPS = {"data-guardians": Role.GUARDIAN, "officers": Role.OFFICER,
          "service-managers": Role.MANAGER}
DWP_PEOPLE = {
    "dwp-guardian": {"name": "Grace Guardian", "groups": ["data-guardians"], "org": "GOV/DWP"},
    "dwp-officer": {"name": "Oscar Officer", "groups": ["officers"], "org": "GOV/DWP"},
    "dwp-leaver": {"name": "Lee Leaver", "groups": ["data-guardians"], "org": "GOV/DWP"},
    "dwp-nobody": {"name": "Nora Nobody", "groups": ["canteen"], "org": "GOV/DWP"},
    "hmrc-visitor": {"name": "Harry Visitor", "groups": ["officers"], "org": "GOV/HMRC"},
    "dwp-gone": {"name": "Gone Away", "groups": ["officers"], "org": "GOV/DWP",
                 "disabled": True},
}
ADMIN = Principal("exchange.admin", "Administrator", "GOV/EXCHANGE", Role.ADMIN)


@pytest.fixture(scope="module")
def providers(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    """Two departments' providers, registered with the exchange: DWP's (a client secret
    from the environment, an organisation claim), the exchange's own (private_key_jwt)."""
    callback = f"{portal.base_url}/sign-in/callback"
    after = f"{portal.base_url}/sign-in?signed_out=1"
    secret = "the DWP client's secret, long enough"
    pem, public = client_key()
    key_file = tmp_path_factory.mktemp("keys") / "exchange-client.pem"
    key_file.write_text(pem)
    clients = {
        DWP: {"client_id": "onceonly-dwp", "client_secret": secret,
              "token_endpoint_auth_method": "client_secret_basic"},
        EXCHANGE: {"client_id": "onceonly-exchange", "jwks": {"keys": [public]},
                   "token_endpoint_auth_method": "private_key_jwt",
                   "token_endpoint_auth_signing_alg": "RS256"},
    }
    people = {DWP: DWP_PEOPLE,
              EXCHANGE: {"ops-manager": {"name": "Mo Manager", "groups": ["service-managers"]}}}
    os.environ[SECRET_VARIABLE] = secret
    with running_providers([
        {"path": path, "accounts": people[path],
         "clients": [client | {"redirect_uris": [callback], "grant_types": ["authorization_code"],
                               "post_logout_redirect_uris": [after]}]}
        for path, client in clients.items()
    ]) as running:
        sso = portal.exchange.single_sign_on
        sso.register(ADMIN, IdentityProvider(
            "GOV/DWP", running.issuer(DWP), "onceonly-dwp", ClientAuth.CLIENT_SECRET_BASIC,
            f"env:{SECRET_VARIABLE}", person_claim="sub", roles=GROUPS, org_claim="org",
            scopes=("openid", "profile", "groups", "org")))
        sso.register(ADMIN, IdentityProvider(
            "GOV/EXCHANGE", running.issuer(EXCHANGE), "onceonly-exchange",
            ClientAuth.PRIVATE_KEY_JWT, f"file:{key_file}", roles=GROUPS,
            scopes=("openid", "profile", "groups")))
        yield running
    os.environ.pop(SECRET_VARIABLE, None)


# The sign-in page names each organisation as a person would.
NAMES = {"GOV/DWP": "Department for Work and Pensions",
         "GOV/EXCHANGE": "onceonly exchange operator"}


def start(page: Page, org_id: str) -> None:
    page.goto("/sign-in")
    page.get_by_role("link", name=f"Sign in through {NAMES[org_id]}").click()


def at_provider(page: Page, login: str) -> None:
    """The provider's own sign-in form (its development form: any password)."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def sign_in(page: Page, org_id: str, login: str) -> None:
    start(page, org_id)
    at_provider(page, login)


def sessions(portal: Portal) -> int:
    with portal.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.web_sessions)).scalar_one()


def refusals(portal: Portal, reason: str) -> int:
    with portal.exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == "signin.sso", t.audit_log.c.outcome == "deny",
            t.audit_log.c.reason == reason)).scalar_one()


def signed_in(context: BrowserContext) -> bool:
    return any(c["name"] == SESSION_COOKIE for c in context.cookies())


class Refused:
    """Checks a refusal: its page says why, it is audited once more, and nobody is
    signed in (no new session, no session cookie)."""

    def __init__(self, portal: Portal, context: BrowserContext, reason: str) -> None:
        self.portal, self.context, self.reason = portal, context, reason
        self.before = (sessions(portal), refusals(portal, reason))

    def check(self, page: Page, words: str) -> None:
        expect(page.get_by_role("heading", name="You were not signed in")).to_be_visible()
        expect(page.locator("#sign-in-refusal")).to_contain_text(words)
        assert (sessions(self.portal), refusals(self.portal, self.reason)) == (
            self.before[0], self.before[1] + 1)
        assert not signed_in(self.context)


def test_a_guardian_signs_in_through_their_department_and_out_of_both(
        portal: Portal, providers: Providers, page: Page, context: BrowserContext):
    sign_in(page, "GOV/DWP", "dwp-guardian")
    expect(page).to_have_url(f"{portal.base_url}/guardian")
    assert signed_in(context)
    with portal.exchange.engine.connect() as conn:
        principal = conn.execute(select(t.principals).join(
            t.provider_people, t.provider_people.c.principal_id == t.principals.c.id).where(
            t.provider_people.c.person == "dwp-guardian")).one()
        session = conn.execute(select(t.web_sessions).where(
            t.web_sessions.c.principal_id == principal.id)).one()
    assert (principal.org_id, principal.role, principal.name) == (
        "GOV/DWP", "guardian", "Grace Guardian")
    # No longer than the provider's sign-in (its ID token's hour) allows.
    assert (session.expires_at - datetime.now(UTC)).total_seconds() <= 3600 + 5

    page.get_by_role("button", name="Sign out").click()
    # RP-initiated logout: the provider asks, then sends the browser back.
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(f"{portal.base_url}/sign-in?signed_out=1")
    with portal.exchange.engine.connect() as conn:
        assert conn.execute(select(t.web_sessions.c.revoked_at).where(
            t.web_sessions.c.digest == session.digest)).scalar_one() is not None
    # Signed out at the provider too: signing in again asks for the person again.
    start(page, "GOV/DWP")
    expect(page.locator("input[name=login]")).to_be_visible()


def test_a_manager_signs_in_through_the_exchanges_provider_by_private_key_jwt(
        portal: Portal, providers: Providers, page: Page):
    sign_in(page, "GOV/EXCHANGE", "ops-manager")
    expect(page).to_have_url(f"{portal.base_url}/manager")


@pytest.mark.parametrize(("mode", "reason", "words"), [
    ("wrong_nonce", "id_token_nonce", "it answers another sign-in than this one"),
    ("expired", "id_token_expired", "it has expired"),
    ("wrong_audience", "id_token_audience", "meant for another service"),
    ("wrong_issuer", "id_token_issuer", "issued by another service"),
    ("alg_none", "id_token_algorithm", "not signed in a way this exchange accepts"),
    ("hs256", "id_token_algorithm", "not signed in a way this exchange accepts"),
    ("unpublished_key", "id_token_signature", "not signed by a key the sign-in service "
                                              "publishes"),
])
def test_an_id_token_that_cannot_be_trusted_signs_nobody_in(
        portal: Portal, providers: Providers, page: Page, context: BrowserContext,
        mode: str, reason: str, words: str):
    refused = Refused(portal, context, reason)
    providers.misbehave(DWP, mode)
    sign_in(page, "GOV/DWP", "dwp-officer")
    refused.check(page, words)


def answers_to_the_exchange(page: Page) -> list[str]:
    """The provider's answers as the browser brings them (redirects, which routes miss)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url)
            if "/sign-in/callback?" in request.url else None)
    return seen


def test_an_answer_for_another_sign_in_is_refused(portal: Portal, providers: Providers,
                                                   page: Page, context: BrowserContext):
    refused = Refused(portal, context, "state_mismatch")
    providers.misbehave(DWP, {"state": "a-state-this-browser-never-sent"})
    sign_in(page, "GOV/DWP", "dwp-officer")
    refused.check(page, "did not match the sign-in started here")


def test_an_answer_naming_another_issuer_is_refused(portal: Portal, providers: Providers,
                                                    page: Page, context: BrowserContext):
    refused = Refused(portal, context, "issuer_mismatch")
    providers.misbehave(DWP, {"iss": providers.issuer(EXCHANGE)})
    sign_in(page, "GOV/DWP", "dwp-officer")
    refused.check(page, "came from another sign-in service")


def test_a_code_used_once_is_refused_the_second_time(portal: Portal, providers: Providers,
                                                      page: Page, context: BrowserContext):
    answers = answers_to_the_exchange(page)
    sign_in(page, "GOV/DWP", "dwp-officer")
    expect(page).to_have_url(f"{portal.base_url}/")
    used = parse_qs(urlsplit(answers[0]).query)["code"][0]
    context.clear_cookies()
    refused = Refused(portal, context, "code_rejected")
    providers.misbehave(DWP, {"code": used})
    sign_in(page, "GOV/DWP", "dwp-officer")
    refused.check(page, "did not accept this sign-in")


def test_the_same_answer_twice_signs_in_once(portal: Portal, providers: Providers, page: Page,
                                             context: BrowserContext):
    answers = answers_to_the_exchange(page)
    sign_in(page, "GOV/DWP", "dwp-officer")
    expect(page).to_have_url(f"{portal.base_url}/")
    assert signed_in(context)
    refused = Refused(portal, context, "sign_in_attempt_unknown")
    context.clear_cookies()
    page.goto(answers[0])
    refused.check(page, "was not started here")


@pytest.mark.parametrize(("login", "reason", "words"), [
    ("dwp-nobody", "no_mapped_role", "has not given you a role in this exchange"),
    ("hmrc-visitor", "other_organisation", "another organisation than the one you chose"),
])
def test_someone_the_mapping_does_not_make_staff_here_is_told_why(
        portal: Portal, providers: Providers, page: Page, context: BrowserContext,
        login: str, reason: str, words: str):
    refused = Refused(portal, context, reason)
    sign_in(page, "GOV/DWP", login)
    refused.check(page, words)


def test_someone_disabled_at_their_provider_is_not_signed_in(
        portal: Portal, providers: Providers, page: Page, context: BrowserContext):
    before = sessions(portal)
    sign_in(page, "GOV/DWP", "dwp-gone")
    expect(page).not_to_have_url(f"{portal.base_url}/guardian")
    assert sessions(portal) == before
    assert not signed_in(context)


def test_someone_disabled_in_the_exchange_is_out_at_once_and_refused_after(
        portal: Portal, providers: Providers, page: Page, context: BrowserContext):
    sign_in(page, "GOV/DWP", "dwp-leaver")
    expect(page).to_have_url(f"{portal.base_url}/guardian")
    with portal.exchange.engine.begin() as conn:
        conn.execute(update(t.principals).where(t.principals.c.id == select(
            t.provider_people.c.principal_id).where(
            t.provider_people.c.person == "dwp-leaver").scalar_subquery()).values(
            disabled_at=datetime.now(UTC)))
    page.goto("/guardian")
    expect(page.locator("#session-error")).to_contain_text("has been turned off")
    context.clear_cookies()
    refused = Refused(portal, context, "principal_disabled")
    sign_in(page, "GOV/DWP", "dwp-leaver")
    refused.check(page, "has been turned off")


def test_the_sign_in_page_offers_each_registered_organisation(portal: Portal,
                                                             providers: Providers,
                                                             page: Page):
    page.goto("/sign-in")
    offered = page.get_by_role("link", name="Sign in through").all_inner_texts()
    assert offered == [f"Sign in through {NAMES['GOV/DWP']}",
                       f"Sign in through {NAMES['GOV/EXCHANGE']}"]


