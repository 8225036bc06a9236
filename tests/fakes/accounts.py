"""Citizens' accounts, web sessions and the sign-in throttle's counters."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from onceonly.domain.organisations import Principal
from onceonly.domain.sign_in import Count
from onceonly.services.ports.accounts import CitizenAccount, SessionLookup
from tests.fakes.data import FakeData


class FakeCitizenLanguages:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def of(self, person_key: str) -> str | None:
        return self.data.languages.get(person_key)

    def keep(self, person_key: str, language: str, at: datetime) -> None:
        self.data.languages[person_key] = language


class FakeCitizenAccounts:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def get(self, login: str) -> CitizenAccount | None:
        return self.data.accounts.get(login)

    def by_principal(self, principal_id: str) -> CitizenAccount | None:
        return next((a for a in self.data.accounts.values() if a.principal_id == principal_id),
                    None)

    def by_person(self, person_key: str) -> CitizenAccount | None:
        return next((a for a in self.data.accounts.values() if a.person_key == person_key),
                    None)

    def principal(self, login: str) -> Principal:
        return self.data.principals[self.data.accounts[login].principal_id]

    def add(self, account: CitizenAccount) -> None:
        self.data.accounts[account.login] = account

    def update(self, login: str, **values: Any) -> None:
        self.data.accounts[login] = replace(self.data.accounts[login], **values)

    def use_totp_step(self, login: str, step: int) -> bool:
        last = self.data.accounts[login].totp_last_step
        if last is not None and last >= step:
            return False
        self.update(login, totp_last_step=step)
        return True


@dataclass
class Session:
    principal_id: str
    token_digest: str | None
    expires_at: datetime
    revoked_at: datetime | None = None


class FakeWebSessions:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def add(self, digest: str, principal_id: str, token_digest: str | None,
            created_at: datetime, expires_at: datetime) -> None:
        self.data.sessions[digest] = Session(principal_id, token_digest, expires_at)

    def find(self, digest: str, now: datetime) -> SessionLookup:
        session = self.data.sessions.get(digest)
        if session is None:
            return SessionLookup("unknown")
        if session.revoked_at is not None:
            return SessionLookup("revoked")
        if session.expires_at <= now:
            return SessionLookup("expired")
        token = self.data.tokens.get(session.token_digest or "")
        if session.token_digest is not None and (
                token is None or token.revoked_at is not None or token.expires_at <= now):
            return SessionLookup("token_gone")
        return SessionLookup("live", self.data.principals[session.principal_id])

    def revoke(self, digest: str, at: datetime) -> bool:
        session = self.data.sessions.get(digest)
        if session is None or session.revoked_at is not None:
            return False
        session.revoked_at = at
        return True

    def forget_ended(self, before: datetime) -> None:
        self.data.sessions = {d: s for d, s in self.data.sessions.items()
                              if s.expires_at >= before}


@dataclass
class Counter:
    failures: int
    last_failure_at: datetime
    closed_until: datetime | None = None


class FakeSignInThrottle:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def counts(self, keys: list[str]) -> dict[str, Count]:
        return {k: Count(c.failures, c.closed_until) for k in keys
                if (c := self.data.throttle.get(k)) is not None}

    def fail(self, key: str, now: datetime, forget_before: datetime) -> int:
        counter = self.data.throttle.get(key)
        if counter is None:
            counter = self.data.throttle[key] = Counter(0, now)
        counter.failures = 1 if counter.last_failure_at < forget_before else counter.failures + 1
        counter.last_failure_at = now
        return counter.failures

    def close(self, key: str, until: datetime) -> None:
        counter = self.data.throttle[key]
        if counter.closed_until is None or counter.closed_until < until:
            counter.closed_until = until

    def clear(self, keys: list[str]) -> None:
        for key in keys:
            self.data.throttle.pop(key, None)

    def forget(self, before: datetime) -> None:
        self.data.throttle = {k: c for k, c in self.data.throttle.items()
                              if c.last_failure_at >= before}
