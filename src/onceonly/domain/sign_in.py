"""Sign-in rules: what a login and a password must be, and when failures lock sign-in.

Pure: the service applies them; the stores count failures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from onceonly.domain.errors import invalid

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 12  # long passphrases over composition rules (NIST SP 800-63B)
MAX_PASSWORD = 256  # argon2 takes any length; this bounds the work one request causes
SESSION_LIFETIME = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Throttle:
    """`limit` failures within `window` lock sign-in for `lock_for`."""

    scope: str  # what is counted: "account" or "client"
    limit: int
    window: timedelta
    lock_for: timedelta

    def key(self, value: str) -> str:
        return f"{self.scope}:{value}"[:200]


# An account is locked after a few guesses (well inside NIST's ceiling of 100); one client
# address guessing across many accounts is locked too, after more.
ACCOUNT_THROTTLE = Throttle("account", 10, timedelta(minutes=15), timedelta(minutes=15))
CLIENT_THROTTLE = Throttle("client", 50, timedelta(minutes=15), timedelta(minutes=15))


def check_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN.match(login):
        raise invalid("invalid_login", "a login is 3 to 64 characters: lower-case letters, "
                                       "digits, '.', '_' or '-', starting with a letter or digit")
    return login


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise invalid("weak_password", f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} "
                                       "characters long; a few words make a good one")
    return password


def lock_message(until: datetime) -> str:
    return (f"Too many failed sign-ins: sign-in is locked until {until:%H:%M} UTC "
            f"({until:%d %b %Y}). Until then even the right password is refused; "
            "try again after that time.")
