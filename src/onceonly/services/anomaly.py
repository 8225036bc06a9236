"""Anomaly detection: read the decisions since the last run, evaluate each agreement they went
through against its consumer's rules, suspend what a rule fires on (the officer whose
pattern it is, else the agreement: domain.anomaly.Suspension), and alert the provider's
guardian, who resumes or revokes it through the alert."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from onceonly.audit.entries import AuditEntry
from onceonly.domain import agreements as lifecycle
from onceonly.domain.activity_window import ActivityWindow
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.anomaly import (
    LONGEST_WINDOW,
    MAX_WINDOW,
    Alert,
    Rule,
    Rules,
    Suspension,
    rule,
)
from onceonly.domain.errors import not_found
from onceonly.domain.organisations import Principal, Role, parse_org_id
from onceonly.services.agreements import move_agreement
from onceonly.services.auth import require_role
from onceonly.services.ports.anomaly import AnomalyUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing

BATCH = 10_000
PURGE_EVERY = timedelta(hours=1)
RESOLUTIONS = {"resume": "resumed", "revoke": "revoked"}


class AnomalyService:
    def __init__(self, uows: UnitOfWorkFactory[AnomalyUnitOfWork], clock: Clock) -> None:
        self.uows = uows
        self.clock = clock
        self._forgotten_at: datetime | None = None
        # Each active agreement's recent activity as this process last read it, and the
        # watermark those windows reach. Reading (or judging) an agreement's whole window
        # every second would cost in proportion to its traffic; a pass reads only the new
        # notes, unless another process read some since (the watermark moved), and then
        # starts afresh.
        self._windows: dict[int, ActivityWindow] = {}
        self._read_up_to: int | None = None

    def detect(self) -> list[int]:
        """One pass over the new activity; the ids of the alerts it raised. Safe to run in
        many processes at once: they take turns."""
        now = self.clock.now()
        raised = []
        read_before, self._read_up_to = self._read_up_to, None  # unknown until committed
        with self.uows(write=True) as uow:
            uow.activity.lock()
            mark = uow.activity.watermark()
            new = uow.activity.new_since(mark, BATCH)
            if not new:
                self._read_up_to = read_before if read_before == mark else None
                return []
            if read_before != mark:
                self._windows.clear()
            last = new[-1][0]
            for agreement_id in sorted({a for _, a in new if a is not None}):
                alert = self._check(uow, agreement_id, mark, last)
                if alert is not None:
                    raised.append(alert)
            uow.activity.set_watermark(last)
            if self._forgotten_at is None or now - self._forgotten_at > PURGE_EVERY:
                uow.activity.forget_before(now - MAX_WINDOW)  # a scan: not every second
                self._forgotten_at = now
            uow.commit()
        self._read_up_to = last
        return raised

    def _check(self, uow: AnomalyUnitOfWork, agreement_id: int, after_id: int, up_to_id: int
               ) -> int | None:
        agreement = uow.agreements.get(agreement_id)
        if agreement is None or agreement.status is not AgreementStatus.APPROVED:
            self._windows.pop(agreement_id, None)  # its notes of this pass are not kept
            return None
        now = self.clock.now()
        rules, officer_rules = uow.activity.rules_for(agreement.consumer_id,
                                                      agreement.provider_id)
        longest = max([LONGEST_WINDOW, *(r.window for r in rules.values()),
                       *(r.window for own in officer_rules.values() for r in own.values())])
        window = self._window(uow, agreement_id, now - longest, after_id, up_to_id)
        # An officer already suspended from the provider is refused whatever they ask: their
        # refusals are no new finding.
        kept_out = uow.alerts.suspended_officers(agreement.provider_id)
        finding = window.finding(agreement_id, rules, now, officer_rules, kept_out)
        if finding is None:
            return None
        self._windows.pop(agreement_id, None)
        alert_id = uow.alerts.add(now, agreement.provider_id, agreement.consumer_id,
                                  agreement_id, finding.officer_id, finding.rule.kind,
                                  finding.evidence)
        if finding.suspends is Suspension.OFFICER:
            assert finding.officer_id is not None
            uow.alerts.suspend_officer(alert_id, finding.officer_id, agreement.provider_id, now)
        else:
            uow.agreements.save(lifecycle.suspend_for_anomaly(agreement, finding.rule.kind,
                                                              now))
        uow.audit.record(AuditEntry(
            "anomaly.suspend", "done", lifecycle.ANOMALY_DETECTOR, None,
            reason=finding.rule.kind.value, agreement_id=agreement_id,
            provider_id=agreement.provider_id, purpose=agreement.purpose_code,
            detail={"alert": alert_id, "suspended": finding.suspends.value,
                    "officer": finding.officer_id or "", "evidence": finding.evidence}), now)
        return alert_id

    def _window(self, uow: AnomalyUnitOfWork, agreement_id: int, since: datetime, after_id: int,
                up_to_id: int) -> ActivityWindow:
        """The agreement's activity after `since` up to note `up_to_id`: the window kept
        from the last pass with the new notes added, unless it does not reach back to
        `since` (a rule's window grew), and then read whole."""
        window = self._windows.get(agreement_id)
        if window is None or since < window.since:
            window = ActivityWindow(since, uow.activity.recent_for(agreement_id, since,
                                                                   up_to_id=up_to_id))
        else:
            window.drop_until(since)
            window.add(uow.activity.recent_for(agreement_id, since, after_id=after_id,
                                               up_to_id=up_to_id))
        self._windows[agreement_id] = window
        return window

    # -- guardians -------------------------------------------------------------------------

    def alerts(self, guardian: Principal) -> list[Alert]:
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "alert.list")
        with self.uows() as uow:
            return uow.alerts.list_for(guardian.org_id)

    def resolve(self, guardian: Principal, alert_id: int, action: str, reason: str) -> Alert:
        """Resume or revoke what an alert suspended (the provider's guardian): the officer
        (resumed: back to the provider's data; revoked: kept out) or the agreement."""
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, f"alert.{action}")
        now = self.clock.now()
        with refusing(self.uows, self.clock, f"alert.{action}", guardian,
                      detail={"alert": alert_id}), \
                self.uows(write=True) as uow:
            alert = uow.alerts.get(alert_id)
            if alert is None or guardian.org_id != alert.provider_id:
                raise not_found("alert_unknown", f"no alert {alert_id} for your organisation")
            agreement = uow.agreements.get(alert.agreement_id)
            assert agreement is not None
            uow.alerts.resolve(alert_id, RESOLUTIONS[action], guardian.id, now,
                               lifecycle.require_reason(reason))
            if alert.suspended is Suspension.AGREEMENT:
                move_agreement(uow, agreement, guardian, action, reason, now, alert=alert_id)
            else:  # resumed: a false alarm, the officer is back; revoked: kept out
                if action == "resume":
                    uow.alerts.reinstate_officer(alert_id, guardian.id, now)
                uow.audit.record(AuditEntry(
                    "officer.reinstate" if action == "resume" else "officer.revoke",
                    "done", guardian.id, guardian.org_id, agreement_id=agreement.id,
                    provider_id=agreement.provider_id,
                    detail={"officer": alert.officer_id, "why": reason,
                            "alert": alert_id}), now)
            uow.commit()
        return replace(alert, status=RESOLUTIONS[action], resolved_by=guardian.id,
                       resolved_at=now, resolution=reason)

    def set_rule(self, consumer_id: str, officer_id: str | None, kind: str, threshold: int,
                 window_seconds: int) -> None:
        """An operator's setting (the CLI): this consumer's, or one officer's, threshold."""
        configured = rule(kind, threshold, window_seconds)
        consumer_id = parse_org_id(consumer_id)
        with self.uows(write=True) as uow:
            if uow.catalogue.organisation(consumer_id) is None:
                raise not_found("organisation_unknown", f"no organisation {consumer_id}")
            _check_officer(uow, consumer_id, officer_id)
            uow.activity.set_rule(consumer_id, officer_id, configured)
            uow.audit.record(AuditEntry(
                "anomaly.rule", "done", None, consumer_id, reason=configured.kind.value,
                detail={"officer": officer_id or "", "threshold": threshold,
                        "window_seconds": window_seconds}), self.clock.now())
            uow.commit()

    # -- a provider's guardian, for its own agreements -----------------------------------

    def guardian_rules(self, guardian: Principal, consumer_id: str
                       ) -> tuple[Rules, dict[str, Rules]]:
        """The thresholds that apply to the consumer's agreements with the guardian's
        organisation: the consumer's, and officers' own."""
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "anomaly.rule.read")
        with refusing(self.uows, self.clock, "anomaly.rule.read", guardian,
                      provider_id=guardian.org_id, detail={"consumer": consumer_id}) as refusal, \
                self.uows() as uow:
            consumer_id = self._consumer_of(uow, guardian, consumer_id)
            refusal.note(detail={"consumer": consumer_id})
            return uow.activity.rules_for(consumer_id, guardian.org_id)

    def set_guardian_rule(self, guardian: Principal, consumer_id: str, officer_id: str | None,
                          kind: str, threshold: int, window_seconds: int) -> Rule:
        """A threshold for the consumer (or one officer of it) on the guardian's
        organisation's agreements only; it wins there over the operator's."""
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN}, "anomaly.rule")
        now = self.clock.now()
        with refusing(self.uows, self.clock, "anomaly.rule", guardian,
                      provider_id=guardian.org_id, detail={"consumer": consumer_id}) as refusal:
            configured = rule(kind, threshold, window_seconds)
            with self.uows(write=True) as uow:
                consumer_id = self._consumer_of(uow, guardian, consumer_id)
                refusal.note(detail={"consumer": consumer_id})
                _check_officer(uow, consumer_id, officer_id)
                uow.activity.set_rule(consumer_id, officer_id, configured, guardian.org_id)
                uow.audit.record(AuditEntry(
                    "anomaly.rule", "done", guardian.id, guardian.org_id,
                    reason=configured.kind.value, provider_id=guardian.org_id,
                    detail={"consumer": consumer_id, "officer": officer_id or "",
                            "threshold": threshold, "window_seconds": window_seconds}), now)
                uow.commit()
        return configured

    @staticmethod
    def _consumer_of(uow: AnomalyUnitOfWork, guardian: Principal, consumer_id: str) -> str:
        """The consumer, if it holds an agreement with the guardian's organisation: a
        guardian sets thresholds for its own organisation's data, nobody else's."""
        consumer_id = parse_org_id(consumer_id)
        if not any(a.consumer_id == consumer_id and a.provider_id == guardian.org_id
                   for a in uow.agreements.list_for(guardian.org_id)):
            raise not_found("consumer_unknown",
                            f"{consumer_id} holds no agreement with {guardian.org_id}")
        return consumer_id


def _check_officer(uow: AnomalyUnitOfWork, consumer_id: str, officer_id: str | None) -> None:
    """A threshold of one officer's own is for an officer of that consumer: a mistyped or
    another organisation's principal would otherwise be a rule that never applies."""
    if officer_id is None:
        return
    officer = uow.principals.get(officer_id)
    if officer is None or officer.org_id != consumer_id or officer.role is not Role.OFFICER:
        raise not_found("officer_unknown", f"{consumer_id} has no officer {officer_id!r}")

