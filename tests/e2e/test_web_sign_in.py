"""The web portals over HTTP, without a browser, on SQLite and PostgreSQL: signing in, the
session cookie's flags, CSRF tokens, failed sign-ins slowing the guesser and no one else
(a stranger's thousand failures from one address), the client's address taken from
X-Forwarded-For only from a trusted proxy, refused sessions, and pages that are not the
caller's."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import bootstrap
from onceonly.demo.citizens import open_citizen_accounts
from onceonly.domain.errors import DomainError
from onceonly.domain.sign_in import (
    ACCOUNT,
    ADDRESS_AND_LOGIN,
    LOCK_FOR,
    SESSION_LIFETIME,
    Counters,
    SignInClosed,
)
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.web.security import SESSION_COOKIE, VISITOR_COOKIE
from onceonly.services.accounts import AccountService
from onceonly.services.queries import QueryCommand
from tests.e2e.test_cli import cli, flat

PASSWORD = "a long second password"


@pytest.fixture(scope="module")
def citizens(api):
    """The demo citizen's account, a second citizen's, and an access to the first."""
    [first] = open_citizen_accounts(api.exchange, api.world)
    with api.exchange.engine.connect() as conn:
        other_key = conn.execute(
            select(t.person_links.c.person_key)
            .where(t.person_links.c.person_key != api.world.citizen_ids["person_key"])
            .limit(1)).scalar_one()
    api.exchange.accounts.open_account("second-citizen", PASSWORD,
                                               person_key=other_key)
    api.exchange.queries.query(api.principal("officer:GOV/DWP"), QueryCommand(
        1, "nino", api.world.citizen_ids["nino"], ("income_band",), "benefit-entitlement"))
    api.exchange.audit.integrate()
    return first


def browser(api) -> httpx.Client:
    """A client of its own (its own cookies), like a second browser."""
    return httpx.Client(base_url=api.base_url, timeout=30)


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in(client: httpx.Client, login: str, password: str, code: str = "",
            **headers) -> httpx.Response:
    token = csrf_of(client.get("/sign-in"))
    return client.post("/sign-in/citizen", headers=headers, data={
        "csrf_token": token, "login": login, "password": password, "code": code})


def staff_sign_in(client: httpx.Client, token: str, **headers) -> httpx.Response:
    return client.post("/sign-in/staff", headers=headers,
                       data={"csrf_token": csrf_of(client.get("/sign-in")), "token": token})


def test_a_citizen_signs_in_and_gets_a_session_cookie_that_only_the_server_reads(api,
                                                                                 citizens):
    with browser(api) as client:
        signed_in = sign_in(client, citizens.login, citizens.password)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/citizen"
        cookie = signed_in.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http on the loopback address only
        page = client.get("/citizen")
        assert page.status_code == 200 and "Department for Work and Pensions" in page.text
        assert "benefit-entitlement" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_when_served_over_https(api, citizens):
    with browser(api) as client:
        # A TLS-terminating proxy on this machine says so (trusted by default).
        signed_in = sign_in(client, citizens.login, citizens.password,
                            **{"X-Forwarded-Proto": "https"})
    assert signed_in.status_code == 303 and "Secure" in signed_in.headers["set-cookie"]


def test_a_form_without_its_csrf_token_or_with_anothers_is_refused(api, citizens):
    with browser(api) as client, browser(api) as other:
        client.get("/sign-in")
        missing = client.post("/sign-in/citizen", data={"login": citizens.login,
                                                        "password": citizens.password})
        assert missing.status_code == 403 and "This form could not be checked" in missing.text
        forged = client.post("/sign-in/citizen", data={
            "csrf_token": "forged.token", "login": citizens.login,
            "password": citizens.password})
        assert forged.status_code == 403
        assert "This form has expired or was not sent from this page" in forged.text
        someone_elses = client.post("/sign-in/citizen", data={
            "csrf_token": csrf_of(other.get("/sign-in")), "login": citizens.login,
            "password": citizens.password})
        assert someone_elses.status_code == 403
        assert SESSION_COOKIE not in client.cookies and VISITOR_COOKIE in client.cookies
        # Signed in, a form from before signing in (bound to the visitor) is refused too.
        stale = csrf_of(client.get("/sign-in"))
        assert sign_in(client, citizens.login, citizens.password).status_code == 303
        out = client.post("/sign-out", data={"csrf_token": stale})
        assert out.status_code == 403 and client.get("/citizen").status_code == 200


def test_wrong_passwords_from_one_address_slow_it_down_then_lock_it(api, citizens):
    moved = timedelta()
    with browser(api) as client:
        token = csrf_of(client.get("/sign-in"))
        answers = []
        try:
            for i in range(ADDRESS_AND_LOGIN.limit):  # waiting out each delay it is told of
                answers.append(client.post("/sign-in/citizen", data={
                    "csrf_token": token, "login": citizens.login,
                    "password": f"wrong guess {i}"}))
                if answers[-1].status_code == 429:
                    wait = timedelta(seconds=int(answers[-1].headers["retry-after"]))
                    api.clock.advance(wait)
                    moved += wait
            assert [a.status_code for a in answers] == [401, 401] + [429] * 8
            assert [a.headers.get("retry-after") for a in answers[2:]] == [
                str(5 * 2 ** i) for i in range(7)] + ["900"]
            slowed = answers[2].text
            assert "There have been too many failed sign-ins. Try again in 5 seconds." in slowed
            assert "the code from your authenticator app" in slowed
            api.clock.advance(-timedelta(seconds=900))  # back to the lock's start
            moved -= timedelta(seconds=900)
            right = client.post("/sign-in/citizen", data={
                "csrf_token": token, "login": citizens.login, "password": citizens.password})
            assert right.status_code == 429 and SESSION_COOKIE not in client.cookies
            assert "alone is locked for 15 minutes." in right.text
            api.clock.advance(LOCK_FOR)
            moved += LOCK_FOR
            assert sign_in(client, citizens.login, citizens.password).status_code == 303
        finally:
            api.clock.advance(-moved)


ATTACKER = "203.0.113.66"  # behind the proxy on this machine (trusted by default)
TARGET_PASSWORD = "the targeted citizen's password"


def refused_code(action) -> str:
    with pytest.raises(DomainError) as refused:
        action()
    return refused.value.code


def test_a_strangers_thousand_failures_from_one_address_shut_out_nobody_else(api, citizens):
    """A thousand made-up logins, then a thousand guesses at one citizen's password, all
    from one address; then from that address, through the portal: another citizen and a
    guardian sign in, the guessed account is locked to it, and its holder's second factor
    gets in. The use case is driven directly (argon2 at its cheapest) for the thousands."""
    real = api.exchange.accounts
    fast = AccountService(api.exchange.uows, api.clock, real.sealer, real.operator_org,
                                 hasher=PasswordHasher(time_cost=1, memory_cost=8,
                                                       parallelism=1))
    with api.exchange.engine.connect() as conn:
        person = conn.execute(select(t.person_links.c.person_key).where(
            t.person_links.c.person_key.not_in(select(t.citizen_accounts.c.person_key)))
            .limit(1)).scalar_one()
    fast.open_account("targeted", TARGET_PASSWORD, person_key=person)
    holder = fast.sign_in("targeted", TARGET_PASSWORD, None, "192.0.2.1").principal
    totp = pyotp.TOTP(fast.begin_totp(holder).secret)
    fast.confirm_totp(holder, totp.at(api.clock.now()))

    made_up = Counter(refused_code(lambda i=i: fast.sign_in(
        f"made-up-{i}", "a guessed password", None, ATTACKER)) for i in range(1000))
    assert made_up == {"sign_in_failed": 1000}

    moved = timedelta()
    guessed: Counter[str] = Counter()
    try:
        for i in range(1000):  # it waits out each delay; once locked, it hammers on
            with pytest.raises(DomainError) as refused:
                fast.sign_in("targeted", f"guess number {i}", None, ATTACKER)
            guessed[refused.value.code] += 1
            if isinstance(refused.value, SignInClosed) and refused.value.code == \
                    "sign_in_slowed":
                wait = timedelta(seconds=refused.value.retry_after)
                api.clock.advance(wait)
                moved += wait
        assert guessed == {"sign_in_failed": 2, "sign_in_slowed": 7, "sign_in_locked": 991}

        forwarded = {"X-Forwarded-For": ATTACKER}
        with browser(api) as client:
            assert sign_in(client, "second-citizen", PASSWORD, **forwarded).status_code == 303
        with browser(api) as client:
            assert staff_sign_in(client, api.world.token("guardian:GOV/HMRC"),
                                 **forwarded).status_code == 303
        with browser(api) as client:
            locked = sign_in(client, "targeted", TARGET_PASSWORD, **forwarded)
            assert locked.status_code == 429
            assert re.search(r"alone is locked for (1[0-5]|[1-9]) minutes?\.", locked.text)
            assert "the code from your authenticator app" in locked.text
            assert 0 < int(locked.headers["retry-after"]) <= 900
            # The account itself counted the ten failures before the address's lock: that
            # closes it for its first short wait, no more. Past that wait, from elsewhere the
            # account is open: the password is checked, the code asked.
            key = Counters.of("targeted", None).account
            with api.exchange.uows() as uow:
                account = uow.throttle.counts([key])[key]
            assert account.failures == ACCOUNT.free
            assert account.closed_until <= api.clock.now() + ACCOUNT.first_delay
            api.clock.advance(ACCOUNT.first_delay)
            moved += ACCOUNT.first_delay
            elsewhere = sign_in(client, "targeted", TARGET_PASSWORD)
            assert elsewhere.status_code == 401 and 'id="code-error"' in elsewhere.text
            signed_in = sign_in(client, "targeted", TARGET_PASSWORD,
                                totp.at(api.clock.now()), **forwarded)
            assert signed_in.status_code == 303 and signed_in.headers["location"] == "/citizen"
    finally:
        api.clock.advance(-moved)


def counted_under(api, login: str, address: str) -> bool:
    key = Counters.of(login, address).address_and_login
    with api.exchange.uows() as uow:
        return key in uow.throttle.counts([key])


def test_the_forwarded_address_counts_only_from_a_trusted_proxy(api):
    # The default trusts a proxy on this machine: its X-Forwarded-For is the client.
    with browser(api) as client:
        sign_in(client, "by-proxy", "a wrong password", **{"X-Forwarded-For": "198.51.100.7"})
    assert counted_under(api, "by-proxy", "198.51.100.7")
    assert not counted_under(api, "by-proxy", "127.0.0.1")
    # Through a chain of trusted proxies, the right-most address that is not one of them:
    # what the client wrote into the header itself is not believed.
    chain = create_app(api.exchange, integrate_every=0,
                       trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    with running(chain) as base, httpx.Client(base_url=base, timeout=30) as client:
        sign_in(client, "by-chain", "a wrong password",
                **{"X-Forwarded-For": "192.0.2.99, 198.51.100.8, 10.1.2.3"})
    assert counted_under(api, "by-chain", "198.51.100.8")
    assert not counted_under(api, "by-chain", "192.0.2.99")
    # No proxy trusted: the headers are ignored, the peer's own address counts.
    direct = create_app(api.exchange, integrate_every=0, trusted_proxies=[])
    with running(direct) as base, httpx.Client(base_url=base, timeout=30) as client:
        refused = sign_in(client, "direct", "a wrong password",
                          **{"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"})
        assert refused.status_code == 401
        signed_in = sign_in(client, "second-citizen", PASSWORD,
                            **{"X-Forwarded-Proto": "https"})
    assert counted_under(api, "direct", "127.0.0.1")
    assert not counted_under(api, "direct", "198.51.100.9")
    assert signed_in.status_code == 303 and "Secure" not in signed_in.headers["set-cookie"]


def test_forged_expired_and_signed_out_session_cookies_are_refused(api, citizens):
    with browser(api) as client:
        client.cookies.set(SESSION_COOKIE, "forged-session-id")
        forged = client.get("/citizen")
        assert forged.status_code == 401 and "You are not signed in" in forged.text

        client.cookies.clear()
        sign_in(client, citizens.login, citizens.password)
        session = client.cookies[SESSION_COOKIE]
        page = client.get("/citizen")
        client.post("/sign-out", data={"csrf_token": csrf_of(page)})
        assert SESSION_COOKIE not in client.cookies
        client.cookies.set(SESSION_COOKIE, session)  # replayed after signing out
        replayed = client.get("/citizen")
        assert replayed.status_code == 401 and "You signed out of this session" in replayed.text

        client.cookies.clear()
        sign_in(client, citizens.login, citizens.password)
        api.clock.advance(SESSION_LIFETIME + timedelta(seconds=1))
        try:
            expired = client.get("/citizen")
        finally:
            api.clock.advance(-(SESSION_LIFETIME + timedelta(seconds=1)))
        assert expired.status_code == 401 and "has expired" in expired.text


def test_a_citizen_cannot_open_another_citizens_entries(api, citizens):
    with browser(api) as first, browser(api) as second:
        sign_in(first, citizens.login, citizens.password)
        index = int(re.search(r'/citizen/access/(\d+)/verify', first.get("/citizen").text)[1])
        own = first.get(f"/citizen/access/{index}/verify")
        assert own.status_code == 200 and "Verified." in own.text
        sign_in(second, "second-citizen", PASSWORD)
        theirs = second.get(f"/citizen/access/{index}/verify")
        assert theirs.status_code == 404 and "There is no such entry in the log" in theirs.text
        assert "Department for Work and Pensions" not in second.get("/citizen").text


def test_pages_of_another_role_are_refused(api, citizens):
    with browser(api) as client:
        sign_in(client, citizens.login, citizens.password)
        for path in ("/guardian", "/guardian/kill-switch", "/manager"):
            page = client.get(path)
            assert page.status_code == 403 and "role_not_allowed" in page.text
    with browser(api) as client:
        assert staff_sign_in(client, api.world.token("guardian:GOV/HMRC")).status_code == 303
        assert client.get("/citizen").status_code == 403


def test_a_guardian_cannot_decide_for_another_organisation(api, citizens):
    with browser(api) as client:
        staff_sign_in(client, api.world.token("guardian:GOV/DVLA"))
        token = csrf_of(client.get("/guardian"))
        # Agreement 6: DVLA asks NHS England; only NHS England's guardians decide on it.
        refused = client.post("/guardian/agreements/6", headers={"HX-Request": "true"},
                              data={"csrf_token": token, "action": "revoke",
                                    "reason": "trying to cut it off"})
        assert refused.status_code == 403
        assert "Only a data guardian of the organisation that holds the data can do this" in \
            refused.text
        # Agreement 1 (DWP asks HMRC) is not theirs at all: not even shown.
        unseen = client.post("/guardian/agreements/1", data={
            "csrf_token": token, "action": "revoke", "reason": "trying"})
        assert unseen.status_code == 404 and "There is no such agreement" in unseen.text
        assert "income_band" not in unseen.text
        missing_reason = client.post("/guardian/agreements/6", data={
            "csrf_token": token, "action": "revoke", "reason": " "})
        assert missing_reason.status_code == 422 and "say why" in missing_reason.text.lower()
    with api.exchange.uows() as uow:
        assert {uow.agreements.get(n).status.value for n in (1, 6)} == {"approved"}


def test_signing_in_with_a_bad_token_or_empty_fields_says_so_beside_the_field(api):
    with browser(api) as client:
        bad = staff_sign_in(client, "oo_not-a-token")
        assert bad.status_code == 401 and 'id="token-error"' in bad.text
        empty = client.post("/sign-in/citizen", data={
            "csrf_token": csrf_of(client.get("/sign-in")), "login": "", "password": ""})
        assert empty.status_code == 422
        assert 'id="login-error"' in empty.text and 'id="password-error"' in empty.text


def test_the_demo_prints_a_citizen_password_that_signs_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    result = cli("demo", "--seed-only", "--people", "50", "--db", url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    printed = re.search(r"login (\S+)\s+password (\S+)", flat(result.stdout))
    assert printed is not None, result.stdout
    login, password = printed.groups()
    assert (tmp_path / "exchange.logins.txt").read_text() == f"{login}\t{password}\n"
    assert (tmp_path / "exchange.logins.txt").stat().st_mode & 0o077 == 0
    exchange = bootstrap(url)
    try:
        signed_in = exchange.accounts.sign_in(login, password, None, "127.0.0.1")
        assert signed_in.principal.person_key is not None
    finally:
        exchange.close()


def test_a_citizen_cannot_withdraw_another_citizens_consent(api, citizens):
    with browser(api) as first, browser(api) as second:
        sign_in(first, citizens.login, citizens.password)
        shown = first.get("/citizen/consents", params={"agreement": "4"})
        assert shown.status_code == 200 and "income_band" in shown.text
        granted = first.post("/citizen/consents", data={
            "csrf_token": csrf_of(shown), "agreement": "4", "days": "30",
            "purpose": "mortgage-affordability", "consumer": "COM/NORTHBANK",
            "fields": "income_band"})
        assert granted.status_code == 200 and "Consent given to Northbank plc" in granted.text
        consent_id = re.search(r'/citizen/consents/([0-9a-f-]+)/withdraw', granted.text)[1]

        sign_in(second, "second-citizen", PASSWORD)
        refused = second.post(f"/citizen/consents/{consent_id}/withdraw",
                              data={"csrf_token": csrf_of(second.get("/citizen/consents"))})
        assert refused.status_code in (403, 404) and 'class="govuk-error-summary"' in refused.text
        assert "Not withdrawn" in refused.text
        assert "live" in first.get("/citizen/consents").text
        withdrawn = first.post(f"/citizen/consents/{consent_id}/withdraw",
                               data={"csrf_token": csrf_of(granted)})
        assert withdrawn.status_code == 200 and "withdrawn" in withdrawn.text


def test_serve_refuses_a_trusted_proxy_that_is_not_an_address(tmp_path, monkeypatch):
    monkeypatch.setenv("ONCEONLY_TRUSTED_PROXIES", "10.0.0.1,the-proxy")
    result = cli("serve", "--db", f"sqlite:///{tmp_path / 'exchange.sqlite'}", cwd=tmp_path)
    assert result.returncode == 2
    assert "'the-proxy' is not an IP address or network" in flat(result.stderr + result.stdout)
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []
