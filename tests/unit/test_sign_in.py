"""Sign-in rules (pure): logins, passwords, the throttles and the lock-out message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onceonly.domain.errors import DomainError
from onceonly.domain.sign_in import (
    ACCOUNT_THROTTLE,
    CLIENT_THROTTLE,
    MAX_PASSWORD,
    MIN_PASSWORD,
    check_login,
    check_password,
    lock_message,
)


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


def test_throttles_lock_within_nists_ceiling_and_keep_keys_apart():
    assert ACCOUNT_THROTTLE.limit <= 100 and ACCOUNT_THROTTLE.limit < CLIENT_THROTTLE.limit
    assert ACCOUNT_THROTTLE.key("citizen") != CLIENT_THROTTLE.key("citizen")
    assert len(ACCOUNT_THROTTLE.key("x" * 500)) == 200  # fits its column


def test_the_lock_out_message_says_until_when():
    message = lock_message(datetime(2026, 11, 25, 14, 5, tzinfo=UTC))
    assert "locked until 14:05 UTC (25 Nov 2026)" in message


def test_the_password_lengths_are_twelve_to_two_hundred_and_fifty_six():
    for length in (12, 256):
        assert check_password("p" * length) == "p" * length
    for length in (11, 257):
        with pytest.raises(DomainError) as refused:
            check_password("p" * length)
        assert (refused.value.kind, refused.value.code) == ("invalid", "weak_password")
        assert refused.value.detail == ("a password is 12 to 256 characters long; a few words "
                                        "make a good one")


@pytest.mark.parametrize("login", ["abc", "a" * 64, "0.x", "a_b-c"])
def test_logins_at_the_edges_of_the_pattern(login):
    assert check_login(login) == login


def test_the_throttles_and_their_keys_exactly():
    assert (ACCOUNT_THROTTLE.scope, ACCOUNT_THROTTLE.limit) == ("account", 10)
    assert (CLIENT_THROTTLE.scope, CLIENT_THROTTLE.limit) == ("client", 50)
    assert ACCOUNT_THROTTLE.key("jane") == "account:jane"
    assert ACCOUNT_THROTTLE.key("x" * 500) == "account:" + "x" * 192


def test_the_whole_lock_out_message():
    assert lock_message(datetime(2026, 11, 25, 14, 5, tzinfo=UTC)) == (
        "Too many failed sign-ins: sign-in is locked until 14:05 UTC (25 Nov 2026). Until "
        "then even the right password is refused; try again after that time.")
