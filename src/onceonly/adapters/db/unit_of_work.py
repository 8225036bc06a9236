"""The unit of work over SQLAlchemy Core: one transaction, its repositories built on first
use, and the release a governed query commits (ports.QueriesUnitOfWork)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine

from onceonly.adapters.db.accounts import (
    SqlCitizenAccounts,
    SqlCitizenLanguages,
    SqlSignInThrottle,
    SqlWebSessions,
)
from onceonly.adapters.db.accuracy import SqlChallenges
from onceonly.adapters.db.agreements import SqlAgreements
from onceonly.adapters.db.anomaly import SqlActivity, SqlAlerts
from onceonly.adapters.db.audit import SqlAuditLog, SqlAuditTree, SqlOperatorAlerts
from onceonly.adapters.db.bulk import SqlBulkExtracts
from onceonly.adapters.db.bundles import SqlBundleEntries, SqlBundleExports
from onceonly.adapters.db.catalogue import SqlCatalogue
from onceonly.adapters.db.consents import SqlConsents
from onceonly.adapters.db.data_keys import SqlDataKeys
from onceonly.adapters.db.datasets import SqlDatasets
from onceonly.adapters.db.engine import WRITE
from onceonly.adapters.db.identity import SqlIdentities, SqlPersonIndex
from onceonly.adapters.db.kill_switch import SqlKillSwitches
from onceonly.adapters.db.life_events import SqlLifeEvents
from onceonly.adapters.db.members import SqlMembers
from onceonly.adapters.db.org_keys import SqlOrgKeys
from onceonly.adapters.db.people import SqlStaff
from onceonly.adapters.db.principals import SqlPrincipals
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
from onceonly.adapters.db.writer_queue import join_writer_queue
from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.reasons import Reason

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
    after queueing behind this process's other writers (writer_queue.py).
    `transaction=False` reads in autocommit on PostgreSQL: no BEGIN and ROLLBACK round trips
    (on SQLite, in-process, they cost next to nothing and stay)."""

    def __init__(self, engine: Engine, *, write: bool = False, transaction: bool = True) -> None:
        self.engine = engine
        self.write = write
        self.autocommit = not transaction and not write and engine.dialect.name != "sqlite"
        self._queue: threading.Lock | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self.write:
            self._queue = join_writer_queue(self.engine)
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
            self._queue = join_writer_queue(self.engine)
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
