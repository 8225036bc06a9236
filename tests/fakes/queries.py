"""A release's writes: the use limits counted (as adapters/db counts them), the anomaly
note and the audit entry, all or nothing."""

from __future__ import annotations

from datetime import date, datetime

from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.policy import Reason
from tests.fakes.anomaly import FakeActivity
from tests.fakes.audit import FakeAuditLog
from tests.fakes.data import FakeData


class FakeUsage:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def queries_on(self, agreement_id: int, day: date) -> int:
        return self.data.queries.get((agreement_id, day), 0)

    def reserve(self, agreement: Agreement, day: date, person_key: str | None) -> Reason | None:
        # Counts move even when a limit is reached: the unit of work is then not committed.
        assert agreement.id is not None
        key = (agreement.id, day)
        if agreement.max_persons_per_day is not None and person_key is not None:
            self.data.people_asked[key].add(person_key)
        self.data.queries[key] += 1
        if self.data.queries[key] > agreement.max_queries_per_day:
            return Reason.QUOTA_EXCEEDED
        if agreement.max_uses is not None:
            self.data.uses[agreement.id] += 1
            if self.data.uses[agreement.id] > agreement.max_uses:
                return Reason.USES_EXHAUSTED
        if agreement.max_persons_per_day is not None and person_key is not None \
                and len(self.data.people_asked[key]) > agreement.max_persons_per_day:
            return Reason.PERSON_LIMIT_REACHED
        return None


class FakeReleases:
    def __init__(self, data: FakeData, usage: FakeUsage, activity: FakeActivity,
                 audit: FakeAuditLog) -> None:
        self.data, self.usage, self.activity, self.audit = data, usage, activity, audit

    def release(self, agreement: Agreement, day: date, person_key: str | None,
                note: Activity, consumer_id: str, entry: AuditEntry, at: datetime
                ) -> Reason | int:
        if (note.officer_id, entry.provider_id) in self.data.suspended:
            return Reason.OFFICER_SUSPENDED
        limit_reached = self.usage.reserve(agreement, day, person_key)
        if limit_reached is not None:
            return limit_reached
        self.activity.record(note, consumer_id)
        return self.audit.record(entry, at)
