"""Single sign-on: organisations' registered providers, sign-ins under way, who a
provider's people are here, and the OpenID Connect client that talks to the providers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider
from onceonly.services.ports.accounts import AccountsUnitOfWork
from onceonly.services.ports.principals import TokensUnitOfWork


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in sent to a provider, as the callback needs it back. org_id None: a
    citizen's, through GOV.UK One Login."""

    org_id: str | None
    state: str
    nonce: str
    code_verifier: str
    expires_at: datetime


class IdentityProviders(Protocol):
    def get(self, org_id: str) -> IdentityProvider | None: ...
    def put(self, provider: IdentityProvider, by: str, at: datetime) -> None: ...
    def all(self) -> list[IdentityProvider]: ...


class SignInAttempts(Protocol):
    def add(self, digest: str, attempt: Attempt, now: datetime) -> None: ...
    def take(self, digest: str, now: datetime) -> Attempt | None:
        """The attempt, deleted as it is read (each is good once); None if unknown or
        expired."""
        ...


class ProviderPeople(Protocol):
    def principal_of(self, issuer: str, person: str) -> str | None: ...
    def link(self, issuer: str, person: str, principal_id: str, at: datetime) -> None: ...
    def disabled(self, principal_id: str) -> bool: ...
    def citizen_of(self, person_key: str) -> str | None:
        """The citizen principal of a person of the index, if they have one."""
        ...
    def queue(self, issuer: str, person: str, person_key: str,
              comparisons: dict[str, str], at: datetime) -> str | None:
        """Queue a citizen for confirmation; the status of their earlier request if they
        made one ("pending" or "rejected"; then nothing is queued)."""
        ...
    def waiting(self) -> list[tuple[str, str, str, dict[str, str]]]:
        """Citizens queued for confirmation: (issuer, person, person key, comparisons)."""
        ...
    def decide(self, issuer: str, person: str, status: str) -> str | None:
        """Mark a waiting citizen confirmed or rejected; their person key (None: not
        waiting)."""
        ...
    def update_staff(self, principal_id: str, name: str, role: str) -> None:
        """The name and role the provider gives them now."""
        ...


class ProviderSessions(Protocol):
    def add(self, session_digest: str, org_id: str | None, id_token: str,
            expires_at: datetime) -> None: ...
    def take(self, session_digest: str) -> tuple[str | None, str] | None:
        """(org_id, ID token) of a session started through a provider, forgotten now."""
        ...


class SingleSignOnUnitOfWork(AccountsUnitOfWork, TokensUnitOfWork, Protocol):
    @property
    def identity_providers(self) -> IdentityProviders: ...
    @property
    def sign_in_attempts(self) -> SignInAttempts: ...
    @property
    def provider_people(self) -> ProviderPeople: ...
    @property
    def provider_sessions(self) -> ProviderSessions: ...


@dataclass(frozen=True, slots=True)
class Client:
    """The exchange as a provider's client: `secret` says where its client secret or
    private key is read from (env:NAME, file:/path)."""

    issuer: str
    client_id: str
    client_auth: ClientAuth
    secret: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OneLogin:
    """GOV.UK One Login as the exchange's citizens' provider (config: ONCEONLY_ONE_LOGIN_*)."""

    client: Client
    vtr: str
    identity_issuer: str


@dataclass(frozen=True, slots=True)
class Verified:
    """A code exchanged and its ID token verified (signature by a key the provider
    publishes, issuer, audience, expiry, nonce): its claims, the token itself (the hint
    for signing out there), and the access token (to ask for the user's info)."""

    claims: Mapping[str, Any]
    id_token: str
    access_token: str
    expires_at: datetime


class OpenIdClient(Protocol):
    """Refusals are DomainErrors whose code names what failed (for the audit) and whose
    detail says it in words."""

    def authorization_url(self, client: Client, redirect_uri: str, attempt: Attempt,
                          extra: Mapping[str, str]) -> str: ...
    def complete(self, client: Client, redirect_uri: str, code: str, attempt: Attempt,
                 now: datetime) -> Verified: ...
    def userinfo(self, client: Client, access_token: str) -> Mapping[str, Any]: ...
    def identity_claim(self, token: str, issuer: str, client_id: str, subject: str,
                       now: datetime) -> Mapping[str, Any]:
        """The identity claim's payload, its signature checked against its issuer's key and
        its iss, aud, sub and times against these."""
        ...
    def end_session_url(self, client: Client, id_token: str,
                        post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to sign out at the provider too, if it offers that."""
        ...
