"""The audit log's integration on /metrics, read from the database when scraped: entries
waiting outside a signed tree head, and the latest head's age. Integration that has
stopped shows as waiting entries while the head grows old (an idle log signs no new heads,
but has nothing waiting either), and, where it stopped at an entry that does not read, as
`onceonly_audit_integration_stopped` with the entry's index; every server process shows the
same figures. With timestamping authorities configured, the signed heads waiting for an
outside timestamp (`onceonly_audit_heads_awaiting_timestamp`): it grows while every
authority is away, and falls to 0 when one is back."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from onceonly.services.audit import AuditService
from onceonly.services.timestamps import TimestampService


class AuditCollector:
    """A custom collector (no describe: nothing is read when it is registered)."""

    def __init__(self, audit: AuditService, timestamps: TimestampService | None = None) -> None:
        self.audit = audit
        self.timestamps = timestamps

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = self.audit.backlog()
        if backlog.entries is not None:  # None: the log's counter is gone (audit verify)
            yield GaugeMetricFamily("onceonly_audit_entries",
                                    "Entries appended to the audit log", value=backlog.entries)
            yield GaugeMetricFamily("onceonly_audit_unsigned_entries",
                                    "Audit entries not yet under a signed tree head",
                                    value=backlog.unsigned)
        if backlog.head_age_seconds is not None:
            yield GaugeMetricFamily("onceonly_audit_head_age_seconds",
                                    "Seconds since the latest signed tree head was made",
                                    value=backlog.head_age_seconds)
        yield GaugeMetricFamily("onceonly_audit_integration_stopped",
                                "1 while integration is stopped at an audit entry that does "
                                "not read (an operator alert is open), else 0",
                                value=int(backlog.stopped_at is not None))
        if backlog.stopped_at is not None:
            yield GaugeMetricFamily("onceonly_audit_stopped_at_index",
                                    "The index of the audit entry integration stopped at",
                                    value=backlog.stopped_at)
        if self.timestamps is not None and self.timestamps.configured:
            yield GaugeMetricFamily("onceonly_audit_heads_awaiting_timestamp",
                                    "Signed tree heads newer than the newest with an RFC 3161 "
                                    "timestamp (waiting for an authority)",
                                    value=self.timestamps.waiting())
