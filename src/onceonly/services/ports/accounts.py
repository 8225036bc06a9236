"""Citizens' accounts: their sign-in, web sessions and the sign-in throttle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.organisations import Principal
from onceonly.domain.sign_in import Count
from onceonly.services.ports.principals import PrincipalsUnitOfWork


@dataclass(frozen=True, slots=True)
class CitizenAccount:
    """A citizen's sign-in: bound to one person and their citizen principal."""

    login: str
    person_key: str
    principal_id: str
    password_hash: str  # argon2id, with its parameters
    totp: dict[str, Any] | None  # the TOTP secret, sealed (an envelope)
    totp_pending: dict[str, Any] | None  # one being enrolled, until a code confirms it
    totp_last_step: int | None
    created_at: datetime


class CitizenAccounts(Protocol):
    def get(self, login: str) -> CitizenAccount | None: ...
    def by_principal(self, principal_id: str) -> CitizenAccount | None: ...
    def by_person(self, person_key: str) -> CitizenAccount | None: ...
    def principal(self, login: str) -> Principal: ...
    def add(self, account: CitizenAccount) -> None: ...
    def update(self, login: str, **values: Any) -> None: ...
    def use_totp_step(self, login: str, step: int) -> bool:
        """Mark a TOTP time step used if no later or equal one was; False if one was."""
        ...


class CitizenLanguages(Protocol):
    """The language each citizen chose, kept by their person (an account by password or one
    through GOV.UK One Login alike)."""

    def of(self, person_key: str) -> str | None: ...
    def keep(self, person_key: str, language: str, at: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class SessionLookup:
    state: str  # live, unknown, expired, revoked, token_gone
    principal: Principal | None = None


class WebSessions(Protocol):
    def add(self, digest: str, principal_id: str, token_digest: str | None,
            created_at: datetime, expires_at: datetime) -> None: ...
    def find(self, digest: str, now: datetime) -> SessionLookup: ...
    def revoke(self, digest: str, at: datetime) -> bool: ...
    def forget_ended(self, before: datetime) -> None:
        """Drop sessions that expired before `before` (a replayed id is refused as unknown
        then, as it would be anyway)."""
        ...


class SignInThrottle(Protocol):
    """Failed sign-ins counted by key (domain/sign_in.py says what each key counts)."""

    def counts(self, keys: list[str]) -> dict[str, Count]: ...
    def fail(self, key: str, now: datetime, forget_before: datetime) -> int:
        """Count a failure atomically (starting again if the last one was before
        `forget_before`); the failures counted now."""
        ...
    def close(self, key: str, until: datetime) -> None: ...
    def clear(self, keys: list[str]) -> None: ...
    def forget(self, before: datetime) -> None:
        """Drop counters whose last failure was before `before`."""
        ...


class AccountsUnitOfWork(PrincipalsUnitOfWork, Protocol):
    @property
    def accounts(self) -> CitizenAccounts: ...
    @property
    def sessions(self) -> WebSessions: ...
    @property
    def throttle(self) -> SignInThrottle: ...
    @property
    def languages(self) -> CitizenLanguages: ...
