"""Single sign-on in the exchange database: registered providers, sign-ins under way, who
a provider's people are here, and sessions started through a provider."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import Role
from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider
from onceonly.services.ports.single_sign_on import Attempt

_PROVIDER_COLUMNS = ("org_id", "issuer", "client_id", "secret", "person_claim", "name_claim",
                     "roles_claim", "org_claim")


def _provider(row: Any) -> IdentityProvider:
    return IdentityProvider(
        **{name: getattr(row, name) for name in _PROVIDER_COLUMNS},
        client_auth=ClientAuth(row.client_auth),
        roles={value: Role(role) for value, role in row.roles.items()},
        scopes=tuple(row.scopes))


class SqlIdentityProviders:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, org_id: str) -> IdentityProvider | None:
        row = self.conn.execute(select(t.identity_providers)
                                .where(t.identity_providers.c.org_id == org_id)).first()
        return _provider(row) if row else None

    def all(self) -> list[IdentityProvider]:
        rows = self.conn.execute(select(t.identity_providers)
                                 .order_by(t.identity_providers.c.org_id))
        return [_provider(row) for row in rows]

    def put(self, provider: IdentityProvider, by: str, at: datetime) -> None:
        values = {name: getattr(provider, name) for name in _PROVIDER_COLUMNS} | {
            "client_auth": provider.client_auth.value,
            "roles": {value: role.value for value, role in provider.roles.items()},
            "scopes": list(provider.scopes), "updated_by": by, "updated_at": at}
        self.conn.execute(delete(t.identity_providers)
                          .where(t.identity_providers.c.org_id == provider.org_id))
        self.conn.execute(insert(t.identity_providers).values(**values))


class SqlSignInAttempts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, digest: str, attempt: Attempt, now: datetime) -> None:
        # Attempts never finished are forgotten once expired (indexed: a small delete).
        self.conn.execute(delete(t.sign_in_attempts)
                          .where(t.sign_in_attempts.c.expires_at < now))
        self.conn.execute(insert(t.sign_in_attempts).values(
            digest=digest, org_id=attempt.org_id, state=attempt.state, nonce=attempt.nonce,
            code_verifier=attempt.code_verifier, expires_at=attempt.expires_at))

    def take(self, digest: str, now: datetime) -> Attempt | None:
        a = t.sign_in_attempts
        row = self.conn.execute(select(a).where(a.c.digest == digest)).first()
        if row is None:
            return None
        # Deleted whether or not it is still good: a second callback finds nothing.
        if self.conn.execute(delete(a).where(a.c.digest == digest)).rowcount != 1:
            return None  # taken meanwhile by another request
        if row.expires_at <= now:
            return None
        return Attempt(row.org_id, row.state, row.nonce, row.code_verifier, row.expires_at)


class SqlProviderPeople:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def principal_of(self, issuer: str, person: str) -> str | None:
        p = t.provider_people
        return self.conn.execute(select(p.c.principal_id).where(
            p.c.issuer == issuer, p.c.person == person)).scalar_one_or_none()

    def link(self, issuer: str, person: str, principal_id: str, at: datetime) -> None:
        self.conn.execute(insert(t.provider_people).values(
            issuer=issuer, person=person, principal_id=principal_id, created_at=at))

    def disabled(self, principal_id: str) -> bool:
        return self.conn.execute(select(t.principals.c.disabled_at).where(
            t.principals.c.id == principal_id)).scalar_one_or_none() is not None

    def citizen_of(self, person_key: str) -> str | None:
        """The citizen principal of a person of the index, if they have one."""
        p = t.principals
        return self.conn.execute(select(p.c.id).where(
            p.c.person_key == person_key, p.c.role == Role.CITIZEN.value)
            .order_by(p.c.id).limit(1)).scalar_one_or_none()

    def queue(self, issuer: str, person: str, person_key: str,
              comparisons: dict[str, str], at: datetime) -> str | None:
        """Queue a citizen for confirmation; the status of their earlier request if they
        made one (then nothing is queued)."""
        r = t.citizen_link_requests
        earlier = self.conn.execute(select(r.c.status).where(
            r.c.issuer == issuer, r.c.person == person)).scalar_one_or_none()
        if earlier is None:
            self.conn.execute(insert(r).values(issuer=issuer, person=person,
                                               person_key=person_key, comparisons=comparisons,
                                               status="pending", created_at=at))
        return earlier

    def waiting(self) -> list[tuple[str, str, str, dict[str, str]]]:
        r = t.citizen_link_requests
        return [(row.issuer, row.person, row.person_key, row.comparisons) for row in
                self.conn.execute(select(r).where(r.c.status == "pending")
                                  .order_by(r.c.created_at, r.c.person))]

    def decide(self, issuer: str, person: str, status: str) -> str | None:
        r = t.citizen_link_requests
        key = self.conn.execute(select(r.c.person_key).where(
            r.c.issuer == issuer, r.c.person == person,
            r.c.status == "pending")).scalar_one_or_none()
        if key is not None:
            self.conn.execute(update(r).where(r.c.issuer == issuer, r.c.person == person)
                              .values(status=status))
        return key

    def update_staff(self, principal_id: str, name: str, role: str) -> None:
        self.conn.execute(update(t.principals).where(t.principals.c.id == principal_id)
                          .values(name=name, role=role))


class SqlProviderSessions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, session_digest: str, org_id: str | None, id_token: str,
            expires_at: datetime) -> None:
        self.conn.execute(insert(t.provider_sessions).values(
            session_digest=session_digest, org_id=org_id, id_token=id_token,
            expires_at=expires_at))

    def take(self, session_digest: str) -> tuple[str | None, str] | None:
        s = t.provider_sessions
        row = self.conn.execute(select(s.c.org_id, s.c.id_token)
                                .where(s.c.session_digest == session_digest)).first()
        if row is None:
            return None
        self.conn.execute(delete(s).where(s.c.session_digest == session_digest))
        return row.org_id, row.id_token
