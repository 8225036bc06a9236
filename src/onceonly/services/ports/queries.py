"""A governed query: its release, counted against the agreement's limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Protocol

from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.policy import Reason
from onceonly.services.ports.agreements import AgreementRepository
from onceonly.services.ports.anomaly import ActivityLog
from onceonly.services.ports.identity import NamingUnitOfWork
from onceonly.services.ports.people import Staff
from onceonly.services.ports.principals import PrincipalsUnitOfWork
from onceonly.services.ports.unit_of_work import WritingLater


class Releases(Protocol):
    """All of a release's writes at once, so that a server database pays one round trip
    for them rather than one a statement."""

    def release(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                ) -> Reason | int:
        """Count the release against the agreement's limits (domain.limits), note it for
        the anomaly rules (as ActivityLog.record) and append its audit entry (as
        AuditLog.record), atomically. The entry's index; or the limit reached (or
        OFFICER_SUSPENDED, if the note's officer is suspended from the entry's provider),
        having noted and appended nothing, and then the unit of work must not be
        committed."""
        ...


class QueriesUnitOfWork(NamingUnitOfWork, PrincipalsUnitOfWork, WritingLater, Protocol):
    """One a query: its reads, then its release (commit_release) or its refusal
    (begin_writing)."""

    def commit_release(self, agreement: Agreement, day: date, person_key: str | None,
                       note: Activity, consumer_id: str, entry: AuditEntry, at: datetime,
                       also: Callable[[], None] | None = None) -> Reason | int:
        """Begin writing, write the release (Releases.release) and then `also`, and commit:
        the entry's index, durable. Refused: nothing committed, and the caller begins
        writing its refusal. A server database may write a release with nothing `also` as
        one statement that is its own transaction."""
        ...

    @property
    def agreements(self) -> AgreementRepository: ...
    @property
    def releases(self) -> Releases: ...
    # a refusal is noted for the anomaly rules too
    @property
    def activity(self) -> ActivityLog: ...
    @property
    def staff(self) -> Staff:
        """Officers' training, read only for an agreement that requires it."""
        ...
