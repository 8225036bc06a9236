"""The anomaly rules' notes and the alerts they raise (with officers' suspensions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onceonly.domain.anomaly import Activity, Alert, Rule, Rules, layered_rules
from onceonly.domain.errors import conflict
from tests.fakes.data import FakeData


class FakeActivity:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def record(self, event: Activity, consumer_id: str) -> None:
        self.data.activity[self.data.next_id("activity")] = (event, consumer_id)

    def lock(self) -> None:
        pass  # one test, one detector

    def watermark(self) -> int:
        return self.data.watermark

    def set_watermark(self, last_id: int) -> None:
        self.data.watermark = last_id

    def new_since(self, last_id: int, limit: int) -> list[tuple[int, int | None]]:
        return [(i, a.agreement_id) for i, (a, _) in sorted(self.data.activity.items())
                if i > last_id][:limit]

    def recent_for(self, agreement_id: int, since: datetime, *, after_id: int = 0,
                   up_to_id: int | None = None) -> list[Activity]:
        found = [(a.at, i, a) for i, (a, _) in self.data.activity.items()
                 if a.agreement_id == agreement_id and a.at > since and i > after_id
                 and (up_to_id is None or i <= up_to_id)]
        return [a for _, _, a in sorted(found, key=lambda f: (f[0], f[1]))]

    def forget_before(self, cutoff: datetime) -> None:
        self.data.activity = {i: n for i, n in self.data.activity.items() if n[0].at >= cutoff}

    def rules_for(self, consumer_id: str, provider_id: str | None = None
                  ) -> tuple[Rules, dict[str, Rules]]:
        # The operator's thresholds, then the provider's own (which win), as the adapter.
        own = [(officer, configured)
               for of in ((None, provider_id) if provider_id else (None,))
               for (consumer, officer, provider), rules in self.data.anomaly_rules.items()
               if consumer == consumer_id and provider == of for configured in rules]
        return layered_rules(own)

    def set_rule(self, consumer_id: str, officer_id: str | None, configured: Rule,
                 provider_id: str | None = None) -> None:
        rules = self.data.anomaly_rules.setdefault((consumer_id, officer_id, provider_id), [])
        rules[:] = [r for r in rules if r.kind is not configured.kind] + [configured]


class FakeAlerts:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def add(self, at: datetime, provider_id: str, consumer_id: str, agreement_id: int,
            officer_id: str | None, rule_kind: str, evidence: dict[str, Any]) -> int:
        alert_id = self.data.next_id("alerts")
        self.data.alerts[alert_id] = Alert(alert_id, at, provider_id, consumer_id,
                                           agreement_id, officer_id, rule_kind, evidence,
                                           "open", None, None, None)
        return alert_id

    def get(self, alert_id: int) -> Alert | None:
        return self.data.alerts.get(alert_id)

    def list_for(self, provider_id: str) -> list[Alert]:
        return [a for a in reversed(self.data.alerts.values()) if a.provider_id == provider_id]

    def resolve(self, alert_id: int, status: str, by: str, at: datetime, why: str) -> None:
        alert = self.data.alerts[alert_id]
        if alert.status != "open":
            raise conflict("alert_resolved", f"alert {alert_id} is already resolved")
        self.data.alerts[alert_id] = Alert(
            alert.id, alert.at, alert.provider_id, alert.consumer_id, alert.agreement_id,
            alert.officer_id, alert.rule, alert.evidence, status, by, at, why)

    def suspend_officer(self, alert_id: int, officer_id: str, provider_id: str,
                        at: datetime) -> None:
        self.data.suspended[officer_id, provider_id] = alert_id

    def reinstate_officer(self, alert_id: int, by: str, at: datetime) -> str | None:
        for key, by_alert in list(self.data.suspended.items()):
            if by_alert == alert_id:
                del self.data.suspended[key]
                return key[0]
        return None

    def suspended_officers(self, provider_id: str) -> set[str]:
        return {officer for officer, provider in self.data.suspended if provider == provider_id}
