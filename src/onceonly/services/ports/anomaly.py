"""What the anomaly rules read and set, and the alerts they raise."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from onceonly.domain.anomaly import Activity, Alert, Rule, Rules
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.principals import PrincipalsUnitOfWork


class ActivityLog(Protocol):
    """What the anomaly rules look at, and what they are set to."""

    def record(self, event: Activity, consumer_id: str) -> None: ...
    def lock(self) -> None: ...
    def watermark(self) -> int: ...
    def set_watermark(self, last_id: int) -> None: ...
    def new_since(self, last_id: int, limit: int) -> list[tuple[int, int | None]]: ...
    def recent_for(self, agreement_id: int, since: datetime, *, after_id: int = 0,
                   up_to_id: int | None = None) -> list[Activity]:
        """The agreement's activity after `since`, oldest first; only notes with ids in
        (after_id, up_to_id] (what one pass of the detector read, or all before it)."""
        ...
    def forget_before(self, cutoff: datetime) -> None: ...
    def rules_for(self, consumer_id: str, provider_id: str | None = None
                  ) -> tuple[Rules, dict[str, Rules]]:
        """The consumer's rules and its officers' own, as they apply to the provider's
        agreements: the provider's thresholds win over the operator's."""
        ...
    def set_rule(self, consumer_id: str, officer_id: str | None, configured: Rule,
                 provider_id: str | None = None) -> None:
        """The operator's threshold (provider_id None), or the provider's own."""
        ...


class Alerts(Protocol):
    def add(self, at: datetime, provider_id: str, consumer_id: str, agreement_id: int,
            officer_id: str | None, rule_kind: str, evidence: dict[str, Any]) -> int: ...
    def get(self, alert_id: int) -> Alert | None: ...
    def list_for(self, provider_id: str) -> list[Alert]: ...
    def resolve(self, alert_id: int, status: str, by: str, at: datetime, why: str) -> None: ...
    def suspend_officer(self, alert_id: int, officer_id: str, provider_id: str,
                        at: datetime) -> None:
        """Keep the officer from the provider's data until the alert is resumed (a release
        to a suspended officer is refused by Releases.release)."""
        ...
    def reinstate_officer(self, alert_id: int, by: str, at: datetime) -> str | None:
        """Lift the suspension the alert made, if any: the officer it named."""
        ...
    def suspended_officers(self, provider_id: str) -> set[str]:
        """The officers kept from the provider's data now."""
        ...


class AnomalyUnitOfWork(AgreementsUnitOfWork, PrincipalsUnitOfWork, Protocol):
    @property
    def activity(self) -> ActivityLog: ...
    @property
    def alerts(self) -> Alerts: ...
