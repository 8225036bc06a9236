"""Citizens' accounts, web sessions and failed sign-in counters in the exchange database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.sign_in import Count
from onceonly.services.ports.accounts import CitizenAccount, SessionLookup

_INSERT = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_ACCOUNT_COLUMNS = [c.name for c in t.citizen_accounts.columns]


def _account(row: Any) -> CitizenAccount:
    return CitizenAccount(**{name: getattr(row, name) for name in _ACCOUNT_COLUMNS})


class SqlCitizenAccounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, login: str) -> CitizenAccount | None:
        row = self.conn.execute(select(t.citizen_accounts)
                                .where(t.citizen_accounts.c.login == login)).first()
        return _account(row) if row else None

    def by_principal(self, principal_id: str) -> CitizenAccount | None:
        row = self.conn.execute(select(t.citizen_accounts)
                                .where(t.citizen_accounts.c.principal_id == principal_id)).first()
        return _account(row) if row else None

    def by_person(self, person_key: str) -> CitizenAccount | None:
        row = self.conn.execute(select(t.citizen_accounts)
                                .where(t.citizen_accounts.c.person_key == person_key)).first()
        return _account(row) if row else None

    def principal(self, login: str) -> Principal:
        row = self.conn.execute(
            select(t.principals).join(t.citizen_accounts,
                                      t.citizen_accounts.c.principal_id == t.principals.c.id)
            .where(t.citizen_accounts.c.login == login)).one()
        return Principal(row.id, row.name, row.org_id, Role(row.role), row.person_key)

    def add(self, account: CitizenAccount) -> None:
        self.conn.execute(insert(t.citizen_accounts).values(
            **{name: getattr(account, name) for name in _ACCOUNT_COLUMNS}))

    def update(self, login: str, **values: Any) -> None:
        self.conn.execute(update(t.citizen_accounts)
                          .where(t.citizen_accounts.c.login == login).values(**values))

    def use_totp_step(self, login: str, step: int) -> bool:
        """Mark a TOTP time step used, if no later or equal one was: a code is good once,
        even with two sign-ins racing on two processes."""
        result = self.conn.execute(
            update(t.citizen_accounts)
            .where(t.citizen_accounts.c.login == login,
                   or_(t.citizen_accounts.c.totp_last_step.is_(None),
                       t.citizen_accounts.c.totp_last_step < step))
            .values(totp_last_step=step))
        return result.rowcount == 1


class SqlCitizenLanguages:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of(self, person_key: str) -> str | None:
        return self.conn.execute(select(t.citizen_languages.c.language)
                                 .where(t.citizen_languages.c.person_key == person_key)
                                 ).scalar_one_or_none()

    def keep(self, person_key: str, language: str, at: datetime) -> None:
        """One row a person, the latest choice winning (two processes may race to write it)."""
        statement = _INSERT[self.conn.dialect.name](t.citizen_languages).values(
            person_key=person_key, language=language, chosen_at=at)
        self.conn.execute(statement.on_conflict_do_update(
            index_elements=[t.citizen_languages.c.person_key],
            set_={"language": statement.excluded.language,
                  "chosen_at": statement.excluded.chosen_at}))


class SqlWebSessions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, digest: str, principal_id: str, token_digest: str | None,
            created_at: datetime, expires_at: datetime) -> None:
        self.conn.execute(insert(t.web_sessions).values(
            digest=digest, principal_id=principal_id, token_digest=token_digest,
            created_at=created_at, expires_at=expires_at))

    def find(self, digest: str, now: datetime) -> SessionLookup:
        s, p, tok, org = t.web_sessions, t.principals, t.api_tokens, t.organisations
        row = self.conn.execute(
            select(s.c.expires_at, s.c.revoked_at, s.c.token_digest, p,
                   tok.c.expires_at.label("token_expires_at"),
                   tok.c.revoked_at.label("token_revoked_at"),
                   org.c.status.label("member_status"))
            .join(p, p.c.id == s.c.principal_id)
            .join(org, org.c.id == p.c.org_id)
            .outerjoin(tok, tok.c.digest == s.c.token_digest)
            .where(s.c.digest == digest)).first()
        if row is None:
            return SessionLookup("unknown")
        if row.revoked_at is not None:
            return SessionLookup("revoked")
        if row.expires_at <= now:
            return SessionLookup("expired")
        # Read afresh on every request: a disabled person or suspended member is out at once.
        if row.disabled_at is not None:
            return SessionLookup("disabled")
        if row.member_status != "active":
            return SessionLookup(f"member_{row.member_status}")
        if row.token_digest is not None and (
                row.token_expires_at is None or row.token_revoked_at is not None
                or row.token_expires_at <= now):
            return SessionLookup("token_gone")
        return SessionLookup("live", Principal(row.id, row.name, row.org_id, Role(row.role),
                                               row.person_key, row.system_id))

    def revoke(self, digest: str, at: datetime) -> bool:
        result = self.conn.execute(update(t.web_sessions)
                                   .where(t.web_sessions.c.digest == digest,
                                          t.web_sessions.c.revoked_at.is_(None))
                                   .values(revoked_at=at))
        return result.rowcount == 1

    def forget_ended(self, before: datetime) -> None:
        self.conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at < before))


class SqlSignInThrottle:
    """Failure counters by key, kept in the database so they hold on every process."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def counts(self, keys: list[str]) -> dict[str, Count]:
        th = t.sign_in_throttle
        rows = self.conn.execute(select(th.c.key, th.c.failures, th.c.closed_until)
                                 .where(th.c.key.in_(keys)))
        return {row.key: Count(row.failures, row.closed_until) for row in rows}

    def fail(self, key: str, now: datetime, forget_before: datetime) -> int:
        """Count one failure in one atomic upsert (a counter whose last failure was before
        `forget_before` starts again); the failures counted now."""
        th = t.sign_in_throttle
        statement = _INSERT[self.conn.dialect.name](th).values(
            key=key, failures=1, last_failure_at=now, closed_until=None)
        statement = statement.on_conflict_do_update(
            index_elements=[th.c.key],
            set_={"failures": case((th.c.last_failure_at < forget_before, 1),
                                   else_=th.c.failures + 1),
                  "last_failure_at": literal(now, t.UTCDateTime)},
        ).returning(th.c.failures)
        return int(self.conn.execute(statement).scalar_one())

    def close(self, key: str, until: datetime) -> None:
        """Close the counter until `until`, unless a racing failure closed it for longer."""
        th = t.sign_in_throttle
        self.conn.execute(update(th).where(th.c.key == key,
                                           or_(th.c.closed_until.is_(None),
                                               th.c.closed_until < until))
                          .values(closed_until=until))

    def clear(self, keys: list[str]) -> None:
        self.conn.execute(delete(t.sign_in_throttle).where(t.sign_in_throttle.c.key.in_(keys)))

    def forget(self, before: datetime) -> None:
        th = t.sign_in_throttle
        self.conn.execute(delete(th).where(th.c.last_failure_at < before))
