"""Citizens' accounts and web sessions, through the service on SQLite and PostgreSQL:
argon2 passwords, TOTP, lock-out after repeated failures (held in the database, so every
process sees it), and forged, expired and signed-out sessions refused."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import bootstrap
from onceonly.demo.citizens import open_citizen_accounts
from onceonly.domain.errors import DomainError
from onceonly.domain.sign_in import ACCOUNT_THROTTLE, SESSION_LIFETIME
from onceonly.services.citizen_accounts import SignInLocked


@pytest.fixture
def citizen(exchange, world):
    [login] = open_citizen_accounts(exchange, world)
    return login


def refusal(action) -> DomainError:
    with pytest.raises(DomainError) as refused:
        action()
    return refused.value


def test_the_demo_citizen_signs_in_with_the_printed_password(exchange, world, citizen):
    signed_in = exchange.citizen_accounts.sign_in(citizen.login, citizen.password, None,
                                                  "127.0.0.1")
    assert signed_in.principal.person_key == world.citizen_ids["person_key"]
    assert exchange.citizen_accounts.session(signed_in.session_id) == signed_in.principal
    with exchange.engine.connect() as conn:
        stored = conn.execute(select(t.citizen_accounts.c.password_hash)).scalar_one()
        sessions = conn.execute(select(t.web_sessions.c.digest)).scalars().all()
    assert stored.startswith("$argon2id$") and citizen.password not in stored
    assert signed_in.session_id not in sessions and len(sessions) == 1  # only its digest


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(exchange, citizen):
    wrong = refusal(lambda: exchange.citizen_accounts.sign_in(
        citizen.login, "not the password at all", None, "10.0.0.1"))
    unknown = refusal(lambda: exchange.citizen_accounts.sign_in(
        "nobody-here", "not the password at all", None, "10.0.0.1"))
    assert (wrong.code, wrong.detail) == (unknown.code, unknown.detail) == (
        "sign_in_failed", "the login or password is not right")


def test_a_hundred_wrong_passwords_lock_the_account_until_the_lock_ends(exchange, clock,
                                                                        citizen):
    service = exchange.citizen_accounts
    codes = [refusal(lambda i=i: service.sign_in(citizen.login, f"wrong password {i}", None,
                                                 f"10.0.{i}.1")).code for i in range(100)]
    limit = ACCOUNT_THROTTLE.limit
    assert codes[:limit - 1] == ["sign_in_failed"] * (limit - 1)
    assert codes[limit - 1:] == ["sign_in_locked"] * (100 - limit + 1)
    # Locked means locked: the right password is refused too, from any address.
    locked = refusal(lambda: service.sign_in(citizen.login, citizen.password, None, "10.9.9.9"))
    assert isinstance(locked, SignInLocked) and "locked until" in locked.detail
    # Another server process (a second exchange on the same database) sees the same lock.
    other = bootstrap(str(exchange.engine.url.render_as_string(hide_password=False)),
                      clock=clock)
    try:
        assert refusal(lambda: other.citizen_accounts.sign_in(
            citizen.login, citizen.password, None, "10.9.9.9")).code == "sign_in_locked"
    finally:
        other.close()
    clock.advance(ACCOUNT_THROTTLE.lock_for + timedelta(seconds=1))
    assert service.sign_in(citizen.login, citizen.password, None, "10.9.9.9").principal


def test_one_client_guessing_across_accounts_is_locked_out(exchange, citizen):
    service = exchange.citizen_accounts
    codes = {refusal(lambda i=i: service.sign_in(f"someone-{i}", "a wrong password", None,
                                                 "192.0.2.7")).code for i in range(60)}
    assert "sign_in_locked" in codes
    assert refusal(lambda: service.sign_in(citizen.login, citizen.password, None,
                                           "192.0.2.7")).code == "sign_in_locked"
    assert service.sign_in(citizen.login, citizen.password, None, "192.0.2.8").principal


def test_forged_expired_and_signed_out_sessions_are_refused(exchange, clock, citizen):
    service = exchange.citizen_accounts
    assert refusal(lambda: service.session(None)).code == "session_missing"
    assert refusal(lambda: service.session("forged-session-id")).code == "session_unknown"
    first = service.sign_in(citizen.login, citizen.password, None, "127.0.0.1")
    service.sign_out(first.session_id)
    assert refusal(lambda: service.session(first.session_id)).code == "session_ended"
    second = service.sign_in(citizen.login, citizen.password, None, "127.0.0.1")
    clock.advance(SESSION_LIFETIME + timedelta(seconds=1))
    assert refusal(lambda: service.session(second.session_id)).code == "session_expired"
    with exchange.engine.connect() as conn:
        refused = conn.execute(select(t.audit_log.c.reason)
                               .where(t.audit_log.c.action == "session")).scalars().all()
    assert sorted(refused) == ["session_ended", "session_expired", "session_unknown"]


def test_totp_enrolment_then_sign_in_needs_a_fresh_code(exchange, clock, citizen):
    service = exchange.citizen_accounts
    principal = service.sign_in(citizen.login, citizen.password, None, "127.0.0.1").principal
    enrolment = service.begin_totp(principal)
    totp = pyotp.TOTP(enrolment.secret)
    wrong = f"{(int(totp.at(clock.now())) + 1) % 1_000_000:06d}"
    assert refusal(lambda: service.confirm_totp(principal, wrong)).code == "code_invalid"
    assert refusal(lambda: service.confirm_totp(principal, "12 34")).code == "code_invalid"
    service.confirm_totp(principal, totp.at(clock.now()))
    with exchange.engine.connect() as conn:
        sealed = conn.execute(select(t.citizen_accounts.c.totp)).scalar_one()
    assert enrolment.secret not in str(sealed)  # stored sealed
    assert refusal(lambda: service.sign_in(citizen.login, citizen.password, None,
                                           "127.0.0.1")).code == "code_required"
    # The code that confirmed the enrolment is spent; the next one signs in, once.
    clock.advance(timedelta(seconds=30))
    code = totp.at(clock.now())
    assert service.sign_in(citizen.login, citizen.password, code, "127.0.0.1").principal
    assert refusal(lambda: service.sign_in(citizen.login, citizen.password, code,
                                           "127.0.0.1")).code == "code_invalid"


def test_staff_sign_in_with_their_token_and_lose_the_session_with_it(exchange, world):
    service = exchange.citizen_accounts
    signed_in = service.sign_in_with_token(world.token("guardian:GOV/HMRC"), "127.0.0.1")
    assert service.session(signed_in.session_id).org_id == "GOV/HMRC"
    assert refusal(lambda: service.sign_in_with_token("oo_forged", "127.0.0.1")).code == \
        "token_invalid"
    with exchange.engine.begin() as conn:
        conn.execute(t.api_tokens.update().values(revoked_at=exchange.clock.now()))
    assert refusal(lambda: service.session(signed_in.session_id)).code == \
        "session_token_revoked"


def test_bad_logins_and_weak_passwords_are_refused_and_change_nothing(exchange, world,
                                                                      citizen):
    service = exchange.citizen_accounts
    key = world.citizen_ids["person_key"]
    assert refusal(lambda: service.open_account("X", "long enough password",
                                                person_key="p")).code == "invalid_login"
    assert refusal(lambda: service.open_account("someone", "short",
                                                person_key="p")).code == "weak_password"
    assert refusal(lambda: service.open_account("someone-else", "long enough password",
                                                person_key=key)).code == "account_exists"
    with exchange.engine.connect() as conn:
        assert conn.execute(select(t.citizen_accounts.c.login)).scalars().all() == [
            citizen.login]
