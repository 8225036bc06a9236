"""Sign-in rules (pure): logins, passwords, the failure counters, the delays and locks they
impose and what a refusal says."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from onceonly.domain.errors import DomainError
from onceonly.domain.sign_in import (
    ACCOUNT,
    ADDRESS_AND_LOGIN,
    FORGET_FAILURES_AFTER,
    LOCK_FOR,
    MAX_PASSWORD,
    MIN_PASSWORD,
    SECOND_FACTOR,
    Closed,
    Count,
    Counters,
    SignInClosed,
    check_login,
    check_password,
)

NOW = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize("login", ["ab", "-leading", "has space", "x" * 65, "émile", ""])
def test_logins_outside_the_pattern_are_refused(login):
    with pytest.raises(DomainError) as refused:
        check_login(login)
    assert refused.value.code == "invalid_login"


def test_logins_are_compared_in_lower_case():
    assert check_login("  Jane.Doe_1 ") == "jane.doe_1"


@pytest.mark.parametrize("length", [0, MIN_PASSWORD - 1, MAX_PASSWORD + 1])
def test_passwords_too_short_or_too_long_are_refused(length):
    with pytest.raises(DomainError) as refused:
        check_password("p" * length)
    assert refused.value.code == "weak_password"


def test_a_passphrase_is_a_password():
    assert check_password("correct horse battery") == "correct horse battery"


@pytest.mark.parametrize("length", [MIN_PASSWORD, MAX_PASSWORD])
def test_passwords_of_the_shortest_and_longest_lengths_are_passwords(length):
    assert check_password("p" * length) == "p" * length


def test_a_refused_password_is_told_the_lengths_allowed():
    with pytest.raises(DomainError) as refused:
        check_password("short")
    assert refused.value.detail == ("a password is 12 to 256 characters long; a few words "
                                    "make a good one")


def test_a_counter_gives_free_tries_then_doubling_waits_then_a_lock():
    waits = [ADDRESS_AND_LOGIN.closed_for(n) for n in range(1, 13)]
    assert waits[:2] == [None, None]  # three tries in a row; the third failure closes
    assert waits[2:9] == [timedelta(seconds=5 * 2 ** i) for i in range(7)]  # 5 s ... 320 s
    assert waits[9:] == [LOCK_FOR] * 3  # at ten, and at every failure after it
    assert not ADDRESS_AND_LOGIN.locks(9) and ADDRESS_AND_LOGIN.locks(10)
    assert all(ACCOUNT.closed_for(n) is None for n in range(ACCOUNT.free))
    assert max(ACCOUNT.closed_for(n) for n in range(ACCOUNT.free, 100)) == LOCK_FOR


def test_one_address_alone_cannot_lock_an_account_quickly():
    # Before one address is locked out of a login, the account (every address) has
    # barely begun to slow down: a stranger's guessing mostly costs the stranger.
    assert ACCOUNT.limit <= 100  # NIST SP 800-63B's ceiling
    assert ACCOUNT.free >= ADDRESS_AND_LOGIN.limit
    assert ACCOUNT.closed_for(ADDRESS_AND_LOGIN.limit) <= timedelta(seconds=1)
    assert FORGET_FAILURES_AFTER > LOCK_FOR  # a lock runs its course before it is forgotten


def test_counters_are_never_keyed_by_address_alone_and_hold_no_login_or_address():
    counters = Counters.of("jane.doe", "203.0.113.9")
    assert len(set(counters.keys)) == 3
    assert counters.account == Counters.of("jane.doe", "198.51.100.1").account
    assert counters.address_and_login != Counters.of("john", "203.0.113.9").address_and_login
    for key in counters.keys:
        assert len(key) == 64 and "jane" not in key and "203" not in key
    assert [t for t, _ in counters.counted(code_tried=False)] == [ACCOUNT, ADDRESS_AND_LOGIN]


def digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def test_counter_keys_stay_the_same_from_one_release_to_the_next():
    # Stored counters are found by these keys: a change of form would forget every
    # failure counted so far (and lift every lock) on the next deployment.
    counters = Counters.of("jane.doe", "203.0.113.9")
    assert counters.account == digest("account", "jane.doe")
    assert counters.address_and_login == digest("address+login", "203.0.113.9", "jane.doe")
    assert counters.second_factor == digest("second-factor", "jane.doe")
    # With no address known, one shared stand-in: the login's attempts are still counted.
    assert (Counters.of("jane.doe", None).address_and_login
            == digest("address+login", "unknown", "jane.doe"))
    assert SECOND_FACTOR in [t for t, _ in counters.counted(code_tried=True)]


def closed_until(seconds: int, failures: int) -> Count:
    return Count(failures, NOW + timedelta(seconds=seconds))


def test_a_closed_counter_says_how_long_to_wait_and_how_to_get_in_now():
    counters = Counters.of("jane.doe", "203.0.113.9")
    slowed = counters.gate({counters.address_and_login: closed_until(40, 5)}, NOW)
    refusal = slowed.password_refusal(NOW)
    assert refusal.code == "sign_in_slowed" and refusal.retry_after == 40
    assert refusal.detail.startswith("Too many failed sign-ins. Try again in 40 seconds.")
    assert "password and the code from your authenticator app" in refusal.detail
    assert slowed.code_refusal(NOW) is None
    locked = counters.gate({counters.address_and_login: closed_until(40, 5),
                            counters.account: closed_until(900, ACCOUNT.limit)}, NOW)
    refusal = locked.password_refusal(NOW)
    assert refusal.code == "sign_in_locked" and refusal.retry_after == 900
    assert "locked until 14:20 UTC (25 Nov 2026), 15 minutes from now" in refusal.detail
    # Wrong codes close the one way round; nothing is offered then.
    codes = counters.gate({counters.second_factor: closed_until(60, 4)}, NOW)
    assert codes.password_refusal(NOW) is None
    refusal = codes.code_refusal(NOW)
    assert refusal.code == "sign_in_slowed" and "authenticator" not in refusal.detail
    # A counter whose time has passed is open.
    assert counters.gate({counters.account: closed_until(-1, 30)}, NOW).password is None


def test_a_counter_closed_until_this_very_moment_is_open_again():
    counters = Counters.of("jane.doe", "203.0.113.9")
    assert counters.gate({counters.account: closed_until(0, 30)}, NOW).password is None
    assert counters.gate({counters.account: closed_until(1, 30)}, NOW).password is not None


def test_wrong_codes_while_the_password_is_locked_are_answered_with_the_lock():
    counters = Counters.of("jane.doe", "203.0.113.9")
    gate = counters.gate({counters.second_factor: closed_until(60, 4),
                          counters.account: closed_until(900, ACCOUNT.limit)}, NOW)
    refusal = gate.code_refusal(NOW)
    assert refusal.code == "sign_in_locked" and refusal.retry_after == 900


def test_each_refusal_is_said_in_full():
    locked = SignInClosed(Closed(NOW + timedelta(minutes=15), locked=True), NOW,
                          second_factor_open=True)
    assert locked.detail == (
        "Too many failed sign-ins: sign-in is locked until 14:20 UTC (25 Nov 2026), "
        "15 minutes from now. Until then the password alone is refused, even the right one."
        " If you set up two-step sign-in, you can sign in now with your password and the "
        "code from your authenticator app.")
    slowed = SignInClosed(Closed(NOW + timedelta(seconds=5), locked=False), NOW,
                          second_factor_open=False)
    assert slowed.detail == "Too many failed sign-ins. Try again in 5 seconds."
    # the page offers the second factor only where it is still open
    assert (locked.second_factor_open, slowed.second_factor_open) == (True, False)


@pytest.mark.parametrize(("wait", "words", "retry_after"), [
    (timedelta(milliseconds=300), "1 second", 1),  # never "0 seconds", never a 0 retry
    (timedelta(seconds=1), "1 second", 1),
    (timedelta(seconds=2), "2 seconds", 2),
    (timedelta(seconds=119), "119 seconds", 119),
    (timedelta(seconds=120), "2 minutes", 120),
    (timedelta(seconds=121), "3 minutes", 121),  # rounded up, never less than the wait
])
def test_a_wait_is_said_in_seconds_under_two_minutes_then_in_whole_minutes_rounded_up(
        wait, words, retry_after):
    refusal = SignInClosed(Closed(NOW + wait, locked=False), NOW, second_factor_open=False)
    assert refusal.detail == f"Too many failed sign-ins. Try again in {words}."
    assert refusal.retry_after == retry_after
