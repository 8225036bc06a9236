"""Citizens' accounts on fakes: opening one, signing in with a password and a TOTP code,
the throttle that slows and then locks guessing, sessions and signing out; each refusal
audited without the login."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.accounts import AccountService
from onceonly.services.envelopes import Envelopes
from tests.fakes.clock import FixedClock
from tests.fakes.keys import FakeMasterKeys
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import principal
from tests.unit.services.conftest import PERSON

LOGIN, PASSWORD = "ann.example", "correct horse battery staple"
CHEAP = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)  # argon2id, fast for tests


@pytest.fixture
def accounts(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> AccountService:
    service = AccountService(uows, clock, Envelopes(FakeMasterKeys(), uows.keys, clock),
                                    "GOV/EXCHANGE", hasher=CHEAP)
    service.open_account(LOGIN, PASSWORD, person_key=PERSON)
    return service


def refusal(call: object, *args: object, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_an_account_binds_a_new_citizen_principal_to_the_person(
        accounts: AccountService, uows: FakeUnitOfWorkFactory) -> None:
    account = uows.data.accounts[LOGIN]
    principal = uows.data.principals[account.principal_id]
    assert (principal.role, principal.person_key) == (Role.CITIZEN, PERSON)
    assert PASSWORD not in account.password_hash
    assert uows.data.audit[0].entry.action == "account.open"
    taken = refusal(accounts.open_account, LOGIN, PASSWORD, person_key="person-2")
    assert (taken.kind, taken.code) == (ErrorKind.CONFLICT, "login_taken")
    twice = refusal(accounts.open_account, "ann.two", PASSWORD, person_key=PERSON)
    assert twice.code == "account_exists"
    weak = refusal(accounts.open_account, "bob", "short", person_key="person-2")
    assert weak.code == "weak_password"


def test_signing_in_starts_a_session_that_signing_out_ends(
        accounts: AccountService, uows: FakeUnitOfWorkFactory,
        clock: FixedClock) -> None:
    signed_in = accounts.sign_in(LOGIN.upper(), PASSWORD, None, "10.0.0.1")
    assert signed_in.principal.person_key == PERSON
    assert signed_in.session_id not in str(uows.data.sessions)  # its digest only
    assert accounts.session(signed_in.session_id) == signed_in.principal
    accounts.sign_out(signed_in.session_id)
    ended = refusal(accounts.session, signed_in.session_id)
    assert (ended.kind, ended.code) == (ErrorKind.UNAUTHENTICATED, "session_ended")
    assert [r.entry.action for r in uows.data.audit[1:]] == ["signin", "signout", "session"]


def test_a_session_expires(accounts: AccountService, clock: FixedClock) -> None:
    signed_in = accounts.sign_in(LOGIN, PASSWORD, None, None)
    clock.advance(timedelta(hours=2))
    assert refusal(accounts.session, signed_in.session_id).code == "session_expired"
    assert refusal(accounts.session, "forged").code == "session_unknown"
    assert refusal(accounts.session, None).code == "session_missing"


def test_a_wrong_password_or_login_is_the_same_refusal_audited_without_the_login(
        accounts: AccountService, uows: FakeUnitOfWorkFactory) -> None:
    wrong = refusal(accounts.sign_in, LOGIN, "not the password at all", None, "10.0.0.1")
    nobody = refusal(accounts.sign_in, "nobody.here", PASSWORD, None, "10.0.0.1")
    assert (wrong.kind, wrong.code, wrong.detail) == (nobody.kind, nobody.code, nobody.detail)
    assert wrong.code == "sign_in_failed"
    entries = [r.entry for r in uows.data.audit[1:]]
    assert [(e.action, e.outcome, e.reason) for e in entries] == [
        ("signin", "deny", "sign_in_failed")] * 2
    assert LOGIN not in str(entries)


def test_guessing_slows_down_then_locks_the_account_for_that_address(
        accounts: AccountService, clock: FixedClock) -> None:
    codes = []
    for _ in range(10):
        codes.append(refusal(accounts.sign_in, LOGIN, "a wrong password!", None,
                             "10.0.0.1").code)
        clock.advance(timedelta(minutes=6))  # past each delay, not past a lock
    assert codes[:2] == ["sign_in_failed"] * 2
    assert "sign_in_slowed" in codes and codes[-1] == "sign_in_locked"
    locked = refusal(accounts.sign_in, LOGIN, PASSWORD, None, "10.0.0.1")
    assert (locked.kind, locked.code) == (ErrorKind.LIMITED, "sign_in_locked")
    # Another address is judged by its own counter (and the account's, not yet closed).
    assert accounts.sign_in(LOGIN, PASSWORD, None, "10.0.0.2").principal.person_key == PERSON


def test_two_step_sign_in_needs_a_fresh_code(accounts: AccountService,
                                             uows: FakeUnitOfWorkFactory,
                                             clock: FixedClock) -> None:
    citizen = accounts.sign_in(LOGIN, PASSWORD, None, None).principal
    enrolment = accounts.begin_totp(citizen)
    totp = pyotp.TOTP(enrolment.secret)
    assert refusal(accounts.confirm_totp, citizen, "000000").code == "code_invalid"
    accounts.confirm_totp(citizen, totp.at(clock.now()))
    assert enrolment.secret not in str(uows.data.accounts)  # kept sealed only
    needed = refusal(accounts.sign_in, LOGIN, PASSWORD, None, None)
    assert (needed.kind, needed.code) == (ErrorKind.UNAUTHENTICATED, "code_required")
    clock.advance(timedelta(seconds=30))
    code = totp.at(clock.now())
    assert accounts.sign_in(LOGIN, PASSWORD, code, None).principal == citizen
    used = refusal(accounts.sign_in, LOGIN, PASSWORD, code, None)
    assert used.code == "code_invalid"  # a code is good once


def test_a_citizens_language_is_kept_at_first_sign_in_and_when_they_switch(
        accounts: AccountService, uows: FakeUnitOfWorkFactory) -> None:
    citizen = accounts.sign_in(LOGIN, PASSWORD, None, None).principal
    assert accounts.language_at_sign_in(citizen, None, "cy") is None  # shown as it is
    assert uows.data.languages[PERSON] == "cy"
    accounts.choose_language(citizen, "en")
    assert uows.data.languages[PERSON] == "en"
    assert accounts.language_at_sign_in(citizen, None, "cy") == "en"  # the kept one shown
    assert refusal(accounts.choose_language, citizen, "fr").code == "language_unsupported"
    assert uows.data.languages[PERSON] == "en"


def test_staff_languages_stay_with_their_browser(accounts: AccountService,
                                                 uows: FakeUnitOfWorkFactory) -> None:
    guardian = principal("GOV/DWP", Role.GUARDIAN)
    accounts.choose_language(guardian, "cy")
    assert accounts.language_at_sign_in(guardian, None, "cy") is None
    assert uows.data.languages == {}
