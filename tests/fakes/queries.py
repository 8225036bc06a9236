"""A release's writes: the use limits counted (as adapters/db counts them), the anomaly
note and the audit entry, all or nothing."""

from __future__ import annotations

from datetime import date, datetime

from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.limits import Counts, counts_persons, counts_uses, release_refusal
from onceonly.domain.reasons import Reason
from tests.fakes.anomaly import FakeActivity
from tests.fakes.audit import FakeAuditLog
from tests.fakes.data import FakeData


class FakeUsage:
    """Counts in memory; whether a release is refused is domain.limits' rule, as on SQLite."""

    def __init__(self, data: FakeData) -> None:
        self.data = data

    def count(self, agreement: Agreement, day: date, person_key: str | None) -> Counts:
        # Counts move even when a limit is reached: the unit of work is then not committed.
        assert agreement.id is not None
        key = (agreement.id, day)
        self.data.queries[key] += 1
        persons = None
        if counts_persons(agreement, person_key):
            self.data.people_asked[key].add(person_key)
            persons = len(self.data.people_asked[key])
        uses = None
        if counts_uses(agreement):
            self.data.uses[agreement.id] += 1
            uses = self.data.uses[agreement.id]
        return Counts(self.data.queries[key], uses, persons)


class FakeReleases:
    def __init__(self, data: FakeData, usage: FakeUsage, activity: FakeActivity,
                 audit: FakeAuditLog) -> None:
        self.data, self.usage, self.activity, self.audit = data, usage, activity, audit

    def release(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                ) -> Reason | int:
        suspended = (note.officer_id, entry.provider_id) in self.data.suspended
        refused = release_refusal(suspended, agreement,
                                  self.usage.count(agreement, day, person_key))
        if refused is not None:
            return refused
        self.activity.record(note, consumer_id)
        return self.audit.record(entry, at)
