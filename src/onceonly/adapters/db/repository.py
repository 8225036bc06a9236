"""Repositories and the unit of work over SQLAlchemy Core."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, and_, bindparam, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.accounts import (
    SqlCitizenAccounts,
    SqlCitizenLanguages,
    SqlSignInThrottle,
    SqlWebSessions,
)
from onceonly.adapters.db.accuracy import SqlChallenges
from onceonly.adapters.db.anomaly import SqlActivity, SqlAlerts
from onceonly.adapters.db.audit import SqlAuditLog, SqlAuditTree, SqlOperatorAlerts
from onceonly.adapters.db.bulk import SqlBulkExtracts
from onceonly.adapters.db.bundles import SqlBundleEntries, SqlBundleExports
from onceonly.adapters.db.consents import SqlConsents
from onceonly.adapters.db.data_keys import SqlDataKeys
from onceonly.adapters.db.datasets import SqlDatasets
from onceonly.adapters.db.driver import DriverStatement
from onceonly.adapters.db.engine import WRITE, sqlite_writer_lock
from onceonly.adapters.db.identity import SqlIdentities
from onceonly.adapters.db.life_events import SqlLifeEvents
from onceonly.adapters.db.mappers import agreement_from_row, agreement_values, dataset_from_row
from onceonly.adapters.db.members import SqlMembers
from onceonly.adapters.db.org_keys import SqlOrgKeys
from onceonly.adapters.db.people import SqlStaff
from onceonly.adapters.db.releases import SqlReleases, SqlUsage
from onceonly.adapters.db.single_sign_on import (
    SqlIdentityProviders,
    SqlProviderPeople,
    SqlProviderSessions,
    SqlSignInAttempts,
)
from onceonly.adapters.db.timestamps import SqlHeadTimestamps
from onceonly.adapters.db.witness import SqlWitnessCheckpoints
from onceonly.adapters.db.witnesses import SqlCosignatures
from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import (
    Agreement,
    AgreementStatus,
    Transition,
)
from onceonly.domain.anomaly import Activity
from onceonly.domain.catalogue import Dataset, DatasetVersion
from onceonly.domain.errors import conflict
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.organisations import (
    MemberStatus,
    Organisation,
    Principal,
    Role,
    TokenHolder,
)
from onceonly.domain.reasons import Reason
from onceonly.services.ports.agreements import AgreementSource, DayUsage

# The statements every governed query runs, built once with bound parameters: building a
# Core statement (and its cache key) on every call costs several times more than running it.
# The standing version (migration 0022): moved by every change to a principal or agreement.
_STANDING = select(t.standing_version.c.version).where(t.standing_version.c.id == 1)
_AGREEMENT_BY_ID = select(t.agreements).where(t.agreements.c.id == bindparam("agreement_id"))
_AGREEMENT_SOURCE_BY_ID = (
    select(t.agreements, t.datasets.c.subject_scheme, t.datasets.c.connector,
           t.datasets.c.fields, t.query_usage.c.count.label("queries_today"),
           _STANDING.scalar_subquery().label("standing"))
    .join(t.datasets, t.datasets.c.id == t.agreements.c.dataset_id)
    # The day's usage in the same read: one statement (a round trip) fewer per query.
    .outerjoin(t.query_usage, and_(t.query_usage.c.agreement_id == t.agreements.c.id,
                                   t.query_usage.c.day == bindparam("day")))
    .where(t.agreements.c.id == bindparam("agreement_id"))
)
# The day's count and the standing version, in one statement: while the version has not
# moved, this is all a query reads of its agreement and its caller.
_DAY_USAGE = DriverStatement(select(
    _STANDING.scalar_subquery(),
    select(t.query_usage.c.count).where(t.query_usage.c.agreement_id == bindparam("agreement_id"),
                                        t.query_usage.c.day == bindparam("day"))
    .scalar_subquery()))
_DATASET_BY_ID = select(t.datasets).where(t.datasets.c.id == bindparam("dataset_id"))
_CONNECTOR_BY_DATASET = select(t.datasets.c.connector).where(
    t.datasets.c.id == bindparam("dataset_id"))
_SCHEME = select(t.identifier_schemes.c.code).where(
    t.identifier_schemes.c.code == bindparam("scheme"))
_PRINCIPAL_BY_TOKEN = (
    select(t.principals, t.api_tokens.c.expires_at, t.api_tokens.c.revoked_at,
           t.organisations.c.status.label("member_status"))
    .join(t.api_tokens, t.api_tokens.c.principal_id == t.principals.c.id)
    .join(t.organisations, t.organisations.c.id == t.principals.c.org_id)
    .where(t.api_tokens.c.digest == bindparam("digest"))
)
WRITER_QUEUE_TIMEOUT = 30  # seconds, as the SQLite busy timeout


class SqlAgreements:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, agreement_id: int, *, with_history: bool = False) -> Agreement | None:
        row = self.conn.execute(_AGREEMENT_BY_ID, {"agreement_id": agreement_id}).first()
        if row is None:
            return None
        return agreement_from_row(row, self._history(agreement_id) if with_history else ())

    def get_each(self, agreement_ids: Collection[int]) -> dict[int, Agreement]:
        return {row.id: agreement_from_row(row) for row in self.conn.execute(
            select(t.agreements).where(t.agreements.c.id.in_(sorted(agreement_ids))))}

    def with_source(self, agreement_id: int, day: date | None = None
                    ) -> AgreementSource | None:
        row = self.conn.execute(_AGREEMENT_SOURCE_BY_ID,
                                {"agreement_id": agreement_id, "day": day}).first()
        if row is None:
            return None
        return AgreementSource(agreement_from_row(row), row.subject_scheme, row.connector,
                               {f["name"]: f["source"] for f in row.fields},
                               row.queries_today or 0, row.standing)

    def usage(self, agreement_id: int, day: date) -> DayUsage:
        [(version, count)] = _DAY_USAGE.run(self.conn, {"agreement_id": agreement_id,
                                                        "day": day})
        return DayUsage(count or 0, version)

    def _history(self, agreement_id: int) -> tuple[Transition, ...]:
        rows = self.conn.execute(
            select(t.agreement_transitions)
            .where(t.agreement_transitions.c.agreement_id == agreement_id)
            .order_by(t.agreement_transitions.c.id)
        )
        return tuple(
            Transition(
                at=r.at,
                actor_id=r.actor_id,
                actor_org=r.actor_org,
                action=r.action,
                from_status=AgreementStatus(r.from_status) if r.from_status else None,
                to_status=AgreementStatus(r.to_status),
                reason=r.reason,
            )
            for r in rows
        )

    def add(self, agreement: Agreement) -> int:
        new_id = self.conn.execute(
            insert(t.agreements).values(**agreement_values(agreement), version=1)
            .returning(t.agreements.c.id)
        ).scalar_one()
        self._record_history(new_id, agreement.history)
        return int(new_id)

    def save(self, agreement: Agreement) -> None:
        """Write the new state if nobody moved the agreement since it was read."""
        assert agreement.id is not None
        result = self.conn.execute(
            update(t.agreements)
            .where(t.agreements.c.id == agreement.id, t.agreements.c.version == agreement.version)
            .values(
                status=agreement.status.value,
                approvals=list(agreement.approvals),
                version=agreement.version + 1,
            )
        )
        if result.rowcount != 1:
            raise conflict(
                "concurrent_update",
                "the agreement changed while this request was being made; read it and retry",
            )
        self._record_history(agreement.id, agreement.history[-1:])

    def _record_history(self, agreement_id: int, steps: tuple[Transition, ...]) -> None:
        if not steps:
            return
        self.conn.execute(
            insert(t.agreement_transitions),
            [
                {
                    "agreement_id": agreement_id,
                    "at": s.at,
                    "actor_id": s.actor_id,
                    "actor_org": s.actor_org,
                    "action": s.action,
                    "from_status": s.from_status.value if s.from_status else None,
                    "to_status": s.to_status.value,
                    "reason": s.reason,
                }
                for s in steps
            ],
        )

    def list_for(self, org_id: str | None) -> list[Agreement]:
        query = select(t.agreements).order_by(t.agreements.c.id)
        if org_id is not None:
            query = query.where(
                (t.agreements.c.provider_id == org_id) | (t.agreements.c.consumer_id == org_id)
            )
        return [agreement_from_row(row) for row in self.conn.execute(query)]


class SqlCatalogue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Connector configs of the dataset rows read in this transaction: a query reads
        # the dataset and then its connector, and the row holds both.
        self._connectors: dict[str, Mapping[str, Any]] = {}

    def organisation(self, org_id: str) -> Organisation | None:
        row = self.conn.execute(
            select(t.organisations).where(t.organisations.c.id == org_id)
        ).first()
        if row is None:
            return None
        systems = self.conn.execute(
            select(t.systems.c.id).where(t.systems.c.org_id == org_id).order_by(t.systems.c.id)
        ).scalars()
        return Organisation(row.id, row.name, tuple(systems), MemberStatus(row.status))

    def organisations(self) -> list[Organisation]:
        systems: dict[str, list[str]] = {}
        for sid, org in self.conn.execute(
            select(t.systems.c.id, t.systems.c.org_id).order_by(t.systems.c.id)
        ):
            systems.setdefault(org, []).append(sid)
        return [
            Organisation(r.id, r.name, tuple(systems.get(r.id, ())), MemberStatus(r.status))
            for r in self.conn.execute(select(t.organisations).order_by(t.organisations.c.id))
        ]

    def dataset(self, dataset_id: str) -> Dataset | None:
        row = self.conn.execute(_DATASET_BY_ID, {"dataset_id": dataset_id}).first()
        if row is None:
            return None
        self._connectors[row.id] = row.connector
        return dataset_from_row(row)

    def datasets(self) -> list[Dataset]:
        rows = self.conn.execute(select(t.datasets).order_by(t.datasets.c.id))
        return [dataset_from_row(r) for r in rows]

    def versions(self) -> dict[str, list[DatasetVersion]]:
        """Every dataset's published versions, oldest first; a dataset from before versions
        were kept shows its current one."""
        found: dict[str, list[DatasetVersion]] = {}
        rows = self.conn.execute(select(t.dataset_versions).order_by(
            t.dataset_versions.c.dataset_id, t.dataset_versions.c.version))
        for row in rows:
            found.setdefault(row.dataset_id, []).append(DatasetVersion(
                row.version, row.title, tuple(f["name"] for f in row.fields),
                tuple(row.offers), row.published_at, row.published_by))
        for dataset in self.datasets():
            if dataset.id not in found:
                found[dataset.id] = [DatasetVersion(
                    dataset.version, dataset.title, tuple(f.name for f in dataset.fields),
                    dataset.offers, None, "")]
        return found

    def connector_config(self, dataset_id: str) -> Mapping[str, Any]:
        known = self._connectors.get(dataset_id)
        if known is not None:
            return known
        return self.conn.execute(_CONNECTOR_BY_DATASET, {"dataset_id": dataset_id}).scalar_one()


class SqlPersonIndex:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known_scheme(self, scheme: str) -> bool:
        return self.conn.execute(_SCHEME, {"scheme": scheme}).first() is not None

    def person_key(self, scheme: str, value: str) -> str | None:
        return self.conn.execute(select(t.person_links.c.person_key).where(
            t.person_links.c.scheme == scheme, t.person_links.c.value == value)).scalar()

    def identifiers(self, person_key: str, schemes: Sequence[str]) -> dict[str, str]:
        """The person's identifiers in the given schemes (one each, the first by value)."""
        rows = self.conn.execute(
            select(t.person_links.c.scheme, t.person_links.c.value)
            .where(t.person_links.c.person_key == person_key,
                   t.person_links.c.scheme.in_(list(schemes)))
            .order_by(t.person_links.c.scheme, t.person_links.c.value.desc()))
        return {row.scheme: row.value for row in rows}


class SqlPrincipals:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, principal_id: str) -> Principal | None:
        row = self.conn.execute(select(t.principals)
                                .where(t.principals.c.id == principal_id)).first()
        return None if row is None else principal_of(row)

    def add(self, principal: Principal, created_by: str | None = None) -> None:
        self.conn.execute(insert(t.principals).values(
            id=principal.id, name=principal.name, org_id=principal.org_id,
            role=principal.role.value, person_key=principal.person_key,
            system_id=principal.system_id, created_by=created_by))

    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None:
        self.conn.execute(insert(t.api_tokens).values(
            digest=digest, principal_id=principal_id, issued_at=issued_at,
            expires_at=expires_at))

    def holder(self, digest: str) -> TokenHolder | None:
        row = self.conn.execute(_PRINCIPAL_BY_TOKEN, {"digest": digest}).first()
        return None if row is None else holder_of(row)


def principal_of(row: Any) -> Principal:
    return Principal(row.id, row.name, row.org_id, Role(row.role), row.person_key,
                     row.system_id)


def holder_of(row: Any) -> TokenHolder:
    return TokenHolder(principal_of(row), row.expires_at, row.revoked_at is not None,
                       row.disabled_at is not None, MemberStatus(row.member_status))


def _kill_switch(row: Any) -> KillSwitch:
    return KillSwitch(row.id, row.provider_id, row.consumer_id, tuple(row.agreement_ids),
                      row.pulled_by, row.pulled_at, row.reason, row.restored_by,
                      row.restored_at, row.restore_reason)


class SqlKillSwitches:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, switch: KillSwitch) -> KillSwitch:
        switch_id = self.conn.execute(insert(t.kill_switches).values(
            provider_id=switch.provider_id, consumer_id=switch.consumer_id,
            agreement_ids=list(switch.agreement_ids), pulled_by=switch.pulled_by,
            pulled_at=switch.pulled_at, reason=switch.reason,
        ).returning(t.kill_switches.c.id)).scalar_one()
        return replace(switch, id=switch_id)

    def get(self, switch_id: int) -> KillSwitch | None:
        row = self.conn.execute(
            select(t.kill_switches).where(t.kill_switches.c.id == switch_id)).first()
        return _kill_switch(row) if row else None

    def restored(self, switch: KillSwitch) -> None:
        # Only an unrestored switch changes: two guardians restoring at once, one wins.
        result = self.conn.execute(
            update(t.kill_switches)
            .where(t.kill_switches.c.id == switch.id, t.kill_switches.c.restored_at.is_(None))
            .values(restored_by=switch.restored_by, restored_at=switch.restored_at,
                    restore_reason=switch.restore_reason))
        if result.rowcount != 1:
            raise conflict("already_restored", f"kill switch {switch.id} was restored already")

    def list_for(self, provider_id: str) -> list[KillSwitch]:
        rows = self.conn.execute(select(t.kill_switches)
                                 .where(t.kill_switches.c.provider_id == provider_id)
                                 .order_by(t.kill_switches.c.id.desc()))
        return [_kill_switch(row) for row in rows]


R = TypeVar("R")


class _repository(Generic[R]):  # a decorator: named like cached_property
    """A repository built on the unit of work's first use of it, then kept in the instance.
    functools.cached_property would do, but on Python 3.11 it takes a lock that every unit
    of work shares; a unit of work is used by one thread, so none is needed."""

    def __init__(self, build: Callable[[Any], R]) -> None:
        self.build = build
        self.name = build.__name__

    def __get__(self, uow: Any, owner: type | None = None) -> R:
        built = self.build(uow)
        uow.__dict__[self.name] = built  # found there from now on, before this descriptor
        return built


class SqlUnitOfWork:
    """One transaction. `write=True` takes SQLite's write lock up front (BEGIN IMMEDIATE),
    after queueing behind this process's other writers (see engine.sqlite_writer_lock).
    `transaction=False` reads in autocommit on PostgreSQL: no BEGIN and ROLLBACK round trips
    (on SQLite, in-process, they cost next to nothing and stay)."""

    def __init__(self, engine: Engine, *, write: bool = False, transaction: bool = True) -> None:
        self.engine = engine
        self.write = write
        self.autocommit = not transaction and not write and engine.dialect.name != "sqlite"
        self._queue: threading.Lock | None = None

    def __enter__(self) -> SqlUnitOfWork:
        queue = sqlite_writer_lock(self.engine) if self.write else None
        # The wait is bounded like SQLite's busy timeout; past it, SQLite's lock decides.
        if queue is not None and queue.acquire(timeout=WRITER_QUEUE_TIMEOUT):
            self._queue = queue
        try:
            conn = self.engine.connect()
            if self.write:
                conn = conn.execution_options(**{WRITE: True})
            if self.autocommit:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self.conn = conn
            self.tx = conn.begin()
        except BaseException:
            self._leave_queue()
            raise
        return self

    # The repositories, each built on first use: most use cases touch a few of them, and a
    # governed query must not pay for the rest. The unit of work is used once.

    @_repository
    def agreements(self) -> SqlAgreements:
        return SqlAgreements(self.conn)

    @_repository
    def catalogue(self) -> SqlCatalogue:
        return SqlCatalogue(self.conn)

    @_repository
    def people(self) -> SqlPersonIndex:
        return SqlPersonIndex(self.conn)

    @_repository
    def members(self) -> SqlMembers:
        return SqlMembers(self.conn)

    @_repository
    def staff(self) -> SqlStaff:
        return SqlStaff(self.conn)

    @_repository
    def principals(self) -> SqlPrincipals:
        return SqlPrincipals(self.conn)

    @_repository
    def usage(self) -> SqlUsage:
        return SqlUsage(self.conn)

    @_repository
    def releases(self) -> SqlReleases:
        return SqlReleases(self.conn, self.usage, self.activity, self.audit)

    @_repository
    def kill_switches(self) -> SqlKillSwitches:
        return SqlKillSwitches(self.conn)

    @_repository
    def activity(self) -> SqlActivity:
        return SqlActivity(self.conn)

    @_repository
    def alerts(self) -> SqlAlerts:
        return SqlAlerts(self.conn)

    @_repository
    def bulk(self) -> SqlBulkExtracts:
        return SqlBulkExtracts(self.conn)

    @_repository
    def identities(self) -> SqlIdentities:
        return SqlIdentities(self.conn)

    @_repository
    def consents(self) -> SqlConsents:
        return SqlConsents(self.conn)

    @_repository
    def challenges(self) -> SqlChallenges:
        return SqlChallenges(self.conn)

    @_repository
    def accounts(self) -> SqlCitizenAccounts:
        return SqlCitizenAccounts(self.conn)

    @_repository
    def languages(self) -> SqlCitizenLanguages:
        return SqlCitizenLanguages(self.conn)

    @_repository
    def sessions(self) -> SqlWebSessions:
        return SqlWebSessions(self.conn)

    @_repository
    def throttle(self) -> SqlSignInThrottle:
        return SqlSignInThrottle(self.conn)

    @_repository
    def identity_providers(self) -> SqlIdentityProviders:
        return SqlIdentityProviders(self.conn)

    @_repository
    def sign_in_attempts(self) -> SqlSignInAttempts:
        return SqlSignInAttempts(self.conn)

    @_repository
    def provider_people(self) -> SqlProviderPeople:
        return SqlProviderPeople(self.conn)

    @_repository
    def provider_sessions(self) -> SqlProviderSessions:
        return SqlProviderSessions(self.conn)

    @_repository
    def audit(self) -> SqlAuditLog:
        return SqlAuditLog(self.conn)

    @_repository
    def tree(self) -> SqlAuditTree:
        return SqlAuditTree(self.conn)

    @_repository
    def operator_alerts(self) -> SqlOperatorAlerts:
        return SqlOperatorAlerts(self.conn)

    @_repository
    def timestamps(self) -> SqlHeadTimestamps:
        return SqlHeadTimestamps(self.conn)

    @_repository
    def bundle_entries(self) -> SqlBundleEntries:
        return SqlBundleEntries(self.conn)

    @_repository
    def bundle_exports(self) -> SqlBundleExports:
        return SqlBundleExports(self.conn)

    @_repository
    def cosignatures(self) -> SqlCosignatures:
        return SqlCosignatures(self.conn)

    @_repository
    def witness_checkpoints(self) -> SqlWitnessCheckpoints:
        return SqlWitnessCheckpoints(self.conn)

    @_repository
    def life_events(self) -> SqlLifeEvents:
        return SqlLifeEvents(self.conn)

    @_repository
    def data_keys(self) -> SqlDataKeys:
        return SqlDataKeys(self.conn)

    @_repository
    def org_keys(self) -> SqlOrgKeys:
        return SqlOrgKeys(self.conn)

    @_repository
    def datasets(self) -> SqlDatasets:
        return SqlDatasets(self.conn)

    def begin_writing(self) -> None:
        """The same connection from here on in a write transaction (ports.WritingLater):
        a request's reads and its writes take one checkout of the pool, not two. What it
        read in is ended first, never upgraded: SQLite's deferred transaction turned writer
        fails under load when another wrote since it began."""
        self.tx.rollback()
        if self._queue is None:
            queue = sqlite_writer_lock(self.engine)
            if queue is not None and queue.acquire(timeout=WRITER_QUEUE_TIMEOUT):
                self._queue = queue
        if not self.write:
            self.write = True
            options: dict[str, Any] = {WRITE: True}
            if self.autocommit:  # back to the engine's own isolation, for one transaction
                options["isolation_level"] = self.engine.dialect.default_isolation_level
                self.autocommit = False
            self.conn.execution_options(**options)  # in place (SQLAlchemy 2)
        self.tx = self.conn.begin()

    def commit_release(self, agreement: Agreement, day: date, person_key: str | None,
                       note: Activity, consumer_id: str, entry: AuditEntry, at: datetime,
                       also: Callable[[], None] | None = None) -> Reason | int:
        """QueriesUnitOfWork.commit_release. PostgreSQL reading outside a transaction, with
        nothing `also` to write: the release as one statement, its own transaction (no BEGIN
        and COMMIT round trips); refused, asked again in a transaction to learn why."""
        release = (agreement, day, person_key, note, consumer_id, entry, at)
        if self.autocommit and also is None:
            seq = self.releases.alone(*release)
            if seq is not None:
                return seq
        self.begin_writing()
        released = self.releases.release(*release)
        if isinstance(released, Reason):
            return released  # not committed: the caller begins writing its refusal
        if also is not None:
            also()
        self.commit()
        return released

    def commit(self) -> None:
        self.tx.commit()
        # SQLite's write lock went with the commit: this process's next writer need not
        # wait for this unit of work's end (a release is signed after it commits).
        self._leave_queue()

    def __exit__(self, *exc: object) -> None:
        try:
            if self.tx.is_active:
                self.tx.rollback()
        finally:
            try:
                self.conn.close()
            finally:
                self._leave_queue()

    def _leave_queue(self) -> None:
        if self._queue is not None:
            self._queue, queue = None, self._queue
            queue.release()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False, transaction: bool = True) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, transaction=transaction)
