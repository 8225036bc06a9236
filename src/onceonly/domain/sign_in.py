"""Sign-in rules: what a login and a password must be, and how failed sign-ins slow down
and then lock further tries.

Failures are counted per account (from every address together), per address and login
(one source guessing one account), and per account for second-factor codes that follow a
right password. Never per address alone: behind a proxy or a NAT one address is many
people, and a stranger's made-up logins from it must not shut out anyone else. After a
few tries, each failure closes that counter for a delay that doubles, up to a
lock. While the account or the address-and-login counter is closed, a citizen who set up
two-step sign-in still gets in with the right password and a valid code: the lock stops
password guessing, and a second factor proves more than a password. The second-factor
counter itself has no way round it.

Pure: the service applies these rules; the store counts.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from onceonly.domain.errors import DomainError, ErrorKind, invalid

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 12  # long passphrases over composition rules (NIST SP 800-63B)
MAX_PASSWORD = 256  # argon2 takes any length; this bounds the work one request causes
SESSION_LIFETIME = timedelta(hours=2)
# A counter with no failure for this long starts again from nothing (longer than any lock,
# so a lock always runs its course first).
FORGET_FAILURES_AFTER = timedelta(hours=1)
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Throttle:
    """`free` tries in a row need no wait; from the `free`-th failure on, each one closes
    the counter for `first_delay`, doubling each time, up to `LOCK_FOR`; at `limit`
    failures it is locked for `LOCK_FOR`, and every failure after that locks it again."""

    scope: str
    free: int
    limit: int
    first_delay: timedelta

    def key(self, *parts: str) -> str:
        """The counter's key: a digest, so the counters hold no login and no address."""
        return hashlib.sha256("\x1f".join((self.scope, *parts)).encode()).hexdigest()

    def closed_for(self, failures: int) -> timedelta | None:
        """How long `failures` failures close sign-in for, if at all."""
        if failures < self.free:
            return None
        if failures >= self.limit:
            return LOCK_FOR
        return min(self.first_delay * 2 ** (failures - self.free), LOCK_FOR)

    def locks(self, failures: int) -> bool:
        return failures >= self.limit


# One source guessing one account: three tries, then 5 s, 10 s, 20 s ... and a lock at ten.
ADDRESS_AND_LOGIN = Throttle("address+login", free=3, limit=10,
                             first_delay=timedelta(seconds=5))
# An account guessed at from many addresses: ten tries, then 1 s, 2 s, 4 s ... and a lock
# at twenty (well inside NIST's ceiling of 100 failures).
ACCOUNT = Throttle("account", free=10, limit=20, first_delay=timedelta(seconds=1))
# Codes tried after a right password (the one way through a lock): few, and slow.
SECOND_FACTOR = Throttle("second-factor", free=3, limit=10,
                         first_delay=timedelta(seconds=30))


@dataclass(frozen=True, slots=True)
class Count:
    """A counter as stored: failures since it last started, and until when it is closed."""

    failures: int
    closed_until: datetime | None


@dataclass(frozen=True, slots=True)
class Closed:
    """Sign-in refused for now: until when, and whether it is a lock or a short wait."""

    until: datetime
    locked: bool

    def together_with(self, other: Closed | None) -> Closed:
        """Both closings as one: the later time, a lock if either is one."""
        if other is None:
            return self
        return Closed(max(self.until, other.until), self.locked or other.locked)


def _closed(throttle: Throttle, count: Count | None, now: datetime) -> Closed | None:
    if count is None or count.closed_until is None or count.closed_until <= now:
        return None
    return Closed(count.closed_until, throttle.locks(count.failures))


@dataclass(frozen=True, slots=True)
class Gate:
    """The counters one citizen sign-in attempt is judged by, as closings (None: open).

    `password`: the account's or the address-and-login counter is closed. The password
    alone is refused then, unchecked. An attempt that brings a code is checked: the right
    password with a valid code signs in; any other answer is this same refusal, so it
    tells nothing of which part was wrong. `second_factor`: wrong codes after a right
    password; while closed no code is tried, and the attempt fails (answered, if the
    password alone is closed too, as that closing)."""

    password: Closed | None
    second_factor: Closed | None

    def password_refusal(self, now: datetime) -> SignInClosed | None:
        if self.password is None:
            return None
        return SignInClosed(self.password, now, second_factor_open=True)

    def code_refusal(self, now: datetime) -> SignInClosed | None:
        if self.second_factor is None:
            return None
        return SignInClosed(self.second_factor.together_with(self.password), now,
                            second_factor_open=False)


@dataclass(frozen=True, slots=True)
class Counters:
    """The keys of the counters one citizen sign-in attempt is judged by."""

    account: str
    address_and_login: str
    second_factor: str

    @classmethod
    def of(cls, login: str, client: str | None) -> Counters:
        return cls(ACCOUNT.key(login), ADDRESS_AND_LOGIN.key(client or "unknown", login),
                   SECOND_FACTOR.key(login))

    @property
    def keys(self) -> list[str]:
        return [self.account, self.address_and_login, self.second_factor]

    def counted(self, *, code_tried: bool) -> list[tuple[Throttle, str]]:
        """Those a failure counts on: the account and the address with the login always,
        the second factor when a code was tried after the right password."""
        counted = [(ACCOUNT, self.account), (ADDRESS_AND_LOGIN, self.address_and_login)]
        return [*counted, (SECOND_FACTOR, self.second_factor)] if code_tried else counted

    def gate(self, counts: Mapping[str, Count], now: datetime) -> Gate:
        by_account = _closed(ACCOUNT, counts.get(self.account), now)
        by_address = _closed(ADDRESS_AND_LOGIN, counts.get(self.address_and_login), now)
        return Gate(by_account.together_with(by_address) if by_account else by_address,
                    _closed(SECOND_FACTOR, counts.get(self.second_factor), now))


class SignInClosed(DomainError):
    """Too many failures: wait, or (`second_factor_open`) use the second factor."""

    def __init__(self, closed: Closed, now: datetime, *, second_factor_open: bool) -> None:
        wait = _wait_in_words(closed.until - now)
        if closed.locked:
            code = "sign_in_locked"
            detail = (f"Too many failed sign-ins: sign-in is locked until {closed.until:%H:%M} "
                      f"UTC ({closed.until:%d %b %Y}), {wait} from now. Until then the "
                      "password alone is refused, even the right one.")
        else:
            code = "sign_in_slowed"
            detail = f"Too many failed sign-ins. Try again in {wait}."
        if second_factor_open:
            detail += (" If you set up two-step sign-in, you can sign in now with your "
                       "password and the code from your authenticator app.")
        super().__init__(ErrorKind.LIMITED, code, detail)
        self.retry_after = max(1, math.ceil((closed.until - now).total_seconds()))
        self.second_factor_open = second_factor_open


def _wait_in_words(wait: timedelta) -> str:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


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
