"""Citizens' accounts and web sessions, through the service on SQLite and PostgreSQL:
argon2 passwords, TOTP, failed sign-ins slowing and locking the guesser (never a whole
address; held in the database, so every process sees it), two-step sign-in getting past
a lock, and forged, expired and signed-out sessions refused."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import bootstrap
from onceonly.demo.citizens import open_citizen_accounts
from onceonly.domain.errors import DomainError
from onceonly.domain.sign_in import (
    ACCOUNT,
    ADDRESS_AND_LOGIN,
    LOCK_FOR,
    SECOND_FACTOR,
    SESSION_LIFETIME,
    SignInClosed,
)
from onceonly.services.accounts import AccountService

ONE, OTHER = "203.0.113.66", "198.51.100.20"  # a guesser's address, and the holder's
PASSWORD = "the guessed citizen's password"


@pytest.fixture
def citizen(exchange, world):
    [login] = open_citizen_accounts(exchange, world)
    return login


@pytest.fixture
def fast(exchange, clock) -> AccountService:
    """The sign-in use case with argon2 at its cheapest, so a few hundred guesses take
    seconds (each password is verified at the cost it was hashed with)."""
    service = exchange.accounts
    return AccountService(exchange.uows, clock, service.sealer, service.operator_org,
                                 hasher=PasswordHasher(time_cost=1, memory_cost=8,
                                                       parallelism=1))


@pytest.fixture
def guessed(exchange, world, fast) -> str:
    """An account of its own, with PASSWORD (hashed cheaply), for a stranger to guess at."""
    with exchange.engine.connect() as conn:
        person = conn.execute(
            select(t.person_links.c.person_key)
            .where(t.person_links.c.person_key != world.citizen_ids["person_key"])
            .limit(1)).scalar_one()
    return fast.open_account("guessed", PASSWORD, person_key=person).login


def refusal(action) -> DomainError:
    with pytest.raises(DomainError) as refused:
        action()
    return refused.value


def lock_account(service: AccountService, clock, login: str) -> int:
    """Guess wrong from a new address each time, waiting whenever told to, until the
    account is locked; the failures it took."""
    for failures in itertools.count(1):
        refused = refusal(lambda n=failures: service.sign_in(login, "a wrong password", None,
                                                             f"10.0.{n}.1"))
        if refused.code == "sign_in_locked":
            return failures
        if isinstance(refused, SignInClosed):
            clock.advance(timedelta(seconds=refused.retry_after))
    raise AssertionError("unreachable")


def two_step(service: AccountService, clock, login: str) -> pyotp.TOTP:
    """Set up two-step sign-in on the account; its authenticator."""
    principal = service.sign_in(login, PASSWORD, None, OTHER).principal
    totp = pyotp.TOTP(service.begin_totp(principal).secret)
    service.confirm_totp(principal, totp.at(clock.now()))
    clock.advance(timedelta(seconds=30))  # the confirming code is spent
    return totp


def wrong_code(totp: pyotp.TOTP, clock) -> str:
    return f"{(int(totp.at(clock.now())) + 1) % 1_000_000:06d}"


def test_the_demo_citizen_signs_in_with_the_printed_password(exchange, world, citizen):
    signed_in = exchange.accounts.sign_in(citizen.login, citizen.password, None,
                                                  "127.0.0.1")
    assert signed_in.principal.person_key == world.citizen_ids["person_key"]
    assert exchange.accounts.session(signed_in.session_id) == signed_in.principal
    with exchange.engine.connect() as conn:
        stored = conn.execute(select(t.citizen_accounts.c.password_hash)).scalar_one()
        sessions = conn.execute(select(t.web_sessions.c.digest)).scalars().all()
    assert stored.startswith("$argon2id$") and citizen.password not in stored
    assert signed_in.session_id not in sessions and len(sessions) == 1  # only its digest


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(exchange, citizen):
    wrong = refusal(lambda: exchange.accounts.sign_in(
        citizen.login, "not the password at all", None, "10.0.0.1"))
    unknown = refusal(lambda: exchange.accounts.sign_in(
        "nobody-here", "not the password at all", None, "10.0.0.1"))
    assert (wrong.code, wrong.detail) == (unknown.code, unknown.detail) == (
        "sign_in_failed", "the login or password is not right")


def test_one_address_guessing_one_login_is_slowed_then_locked_not_the_account(
        exchange, clock, fast, guessed):
    tries = []
    for i in range(ADDRESS_AND_LOGIN.limit):  # a patient guesser: waits whenever told to
        refused = refusal(lambda i=i: fast.sign_in(guessed, f"wrong password {i}", None, ONE))
        tries.append((refused.code, getattr(refused, "retry_after", None)))
        if isinstance(refused, SignInClosed):
            # Closed means closed: the right password is refused too, unchecked.
            assert refusal(lambda: fast.sign_in(guessed, PASSWORD, None, ONE)).code == \
                refused.code
            clock.advance(timedelta(seconds=refused.retry_after))
    assert tries == [("sign_in_failed", None)] * 2 + [
        ("sign_in_slowed", 5 * 2 ** i) for i in range(7)] + [("sign_in_locked", 900)]
    clock.advance(-LOCK_FOR + timedelta(seconds=2))  # back to just after the lock began
    # The account itself is barely slowed: from elsewhere its holder signs in ...
    assert fast.sign_in(guessed, PASSWORD, None, OTHER).principal
    # ... while the guessing address stays locked out of that login, on every process.
    locked = refusal(lambda: fast.sign_in(guessed, PASSWORD, None, ONE))
    assert isinstance(locked, SignInClosed) and "locked until" in locked.detail
    other = bootstrap(str(exchange.engine.url.render_as_string(hide_password=False)),
                      clock=clock)
    try:
        assert refusal(lambda: other.accounts.sign_in(
            guessed, PASSWORD, None, ONE)).code == "sign_in_locked"
    finally:
        other.close()
    clock.advance(LOCK_FOR)
    assert fast.sign_in(guessed, PASSWORD, None, ONE).principal


def test_guessing_from_many_addresses_locks_the_account_until_the_lock_ends(clock, fast,
                                                                           guessed):
    failures = lock_account(fast, clock, guessed)
    assert failures == ACCOUNT.limit  # every guess counted: the guesser waited each time
    locked = refusal(lambda: fast.sign_in(guessed, PASSWORD, None, OTHER))
    assert locked.code == "sign_in_locked" and locked.retry_after == LOCK_FOR.seconds
    clock.advance(LOCK_FOR)
    assert fast.sign_in(guessed, PASSWORD, None, OTHER).principal


def test_made_up_logins_from_one_address_lock_nobody_out(exchange, world, citizen, fast):
    codes = {refusal(lambda i=i: fast.sign_in(f"someone-{i}", "a wrong password", None,
                                              ONE)).code for i in range(200)}
    assert codes == {"sign_in_failed"}
    assert exchange.accounts.sign_in(citizen.login, citizen.password, None,
                                             ONE).principal
    assert exchange.accounts.sign_in_with_token(
        world.token("guardian:GOV/HMRC")).principal


def test_wrong_tokens_are_refused_and_audited_never_counted(exchange, world):
    service = exchange.accounts
    assert {refusal(lambda i=i: service.sign_in_with_token(f"oo_forged-{i}")).code
            for i in range(100)} == {"token_invalid"}
    assert service.sign_in_with_token(world.token("guardian:GOV/HMRC")).principal
    with exchange.engine.connect() as conn:
        counted = conn.execute(select(func.count()).select_from(t.sign_in_throttle))
        assert counted.scalar_one() == 0
        refused = conn.execute(select(func.count()).select_from(t.audit_log).where(
            t.audit_log.c.reason == "token_invalid")).scalar_one()
    assert refused == 100  # each refusal audited


def test_two_step_sign_in_gets_past_a_lock_and_nothing_else_does(exchange, clock, fast,
                                                                  guessed):
    totp = two_step(fast, clock, guessed)
    lock_account(fast, clock, guessed)
    locked = refusal(lambda: fast.sign_in(guessed, PASSWORD, None, OTHER))
    assert locked.code == "sign_in_locked"
    assert "password and the code from your authenticator app" in locked.detail
    # With a code, every wrong answer is the lock's own, whichever part was wrong.
    answers = [refusal(lambda p=p, c=c: fast.sign_in(guessed, p, c, OTHER))
               for p, c in (("a wrong password", totp.at(clock.now())),
                            (PASSWORD, wrong_code(totp, clock)),
                            (PASSWORD, "12 34"))]
    assert {(a.code, a.detail) for a in answers} == {("sign_in_locked", answers[0].detail)}
    assert fast.sign_in(guessed, PASSWORD, totp.at(clock.now()), OTHER).principal
    with exchange.engine.connect() as conn:
        detail = conn.execute(select(t.audit_log.c.detail).where(
            t.audit_log.c.action == "signin", t.audit_log.c.outcome == "done")
            .order_by(t.audit_log.c.seq.desc()).limit(1)).scalar_one()
    assert detail == {"method": "password+totp", "past": "sign_in_locked"}
    # Getting in cleared the counters: the password is checked, and the code asked for.
    assert refusal(lambda: fast.sign_in(guessed, PASSWORD, None, OTHER)).code == \
        "code_required"


def test_wrong_codes_after_the_right_password_close_the_way_round(clock, fast, guessed):
    totp = two_step(fast, clock, guessed)
    for n in range(SECOND_FACTOR.limit):  # someone who has the password, guessing codes
        refused = refusal(lambda n=n: fast.sign_in(guessed, PASSWORD, wrong_code(totp, clock),
                                                   f"10.1.{n}.1"))
        if isinstance(refused, SignInClosed) and n < SECOND_FACTOR.limit - 1:
            clock.advance(timedelta(seconds=refused.retry_after))
    assert refused.code == "sign_in_locked"
    # Now not even the right code gets in, from anywhere, until that lock ends.
    clock.advance(timedelta(seconds=30))
    refused = refusal(lambda: fast.sign_in(guessed, PASSWORD, totp.at(clock.now()), OTHER))
    assert refused.code == "sign_in_locked" and "authenticator" not in refused.detail
    clock.advance(LOCK_FOR)
    assert fast.sign_in(guessed, PASSWORD, totp.at(clock.now()), OTHER).principal


def test_forged_expired_and_signed_out_sessions_are_refused(exchange, clock, citizen):
    service = exchange.accounts
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
    service = exchange.accounts
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
    service = exchange.accounts
    signed_in = service.sign_in_with_token(world.token("guardian:GOV/HMRC"))
    assert service.session(signed_in.session_id).org_id == "GOV/HMRC"
    assert refusal(lambda: service.sign_in_with_token("oo_forged")).code == \
        "token_invalid"
    with exchange.engine.begin() as conn:
        conn.execute(t.api_tokens.update().values(revoked_at=exchange.clock.now()))
    assert refusal(lambda: service.session(signed_in.session_id)).code == \
        "session_token_revoked"


def test_bad_logins_and_weak_passwords_are_refused_and_change_nothing(exchange, world,
                                                                      citizen):
    service = exchange.accounts
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


def test_a_citizens_language_is_kept_once_by_person_and_replaced_when_they_switch(
        exchange, world, citizen):
    person = world.citizen_ids["person_key"]
    who = exchange.accounts.sign_in(citizen.login, citizen.password, None, None).principal
    assert exchange.accounts.language_at_sign_in(who, None, "cy") is None
    exchange.accounts.choose_language(who, "en")
    exchange.accounts.choose_language(who, "cy")
    with exchange.engine.connect() as conn:
        kept = conn.execute(select(t.citizen_languages.c.person_key,
                                   t.citizen_languages.c.language)).all()
    assert kept == [(person, "cy")]
    with exchange.uows() as uow:
        assert uow.languages.of(person) == "cy" and uow.languages.of("nobody") is None
    assert exchange.accounts.language_at_sign_in(who, None, "en") == "cy"
