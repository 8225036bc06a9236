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
