"""The lifecycle's steps after the draft: submit, approve, reject, suspend, resume, revoke,
and the exchange's own suspensions (for an anomaly, for a member); each says why."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from onceonly.domain.agreements.terms import (
    Agreement,
    AgreementStatus,
    Risk,
    Transition,
)
from onceonly.domain.errors import conflict, forbidden, invalid
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.special_category import require_condition


def _transition(
    actor: Principal,
    action: str,
    from_status: AgreementStatus | None,
    to_status: AgreementStatus,
    reason: str,
    now: datetime,
) -> Transition:
    return Transition(now, actor.id, actor.org_id, action, from_status, to_status, reason)


def require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise invalid("reason_required", "every lifecycle step must say why")
    return reason


def _require_status(agreement: Agreement, action: str, *allowed: AgreementStatus) -> None:
    if agreement.status not in allowed:
        raise conflict(
            "illegal_transition",
            f"cannot {action} an agreement that is {agreement.status.value}; "
            f"only one that is {' or '.join(s.value for s in allowed)}",
        )


def _require_provider_guardian(agreement: Agreement, actor: Principal, action: str) -> None:
    if actor.role is not Role.GUARDIAN or actor.org_id != agreement.provider_id:
        raise forbidden(
            "not_provider_guardian",
            f"only a data guardian of {agreement.provider_id} may {action} this agreement",
        )


def _moved(
    agreement: Agreement,
    actor: Principal,
    action: str,
    to: AgreementStatus,
    reason: str,
    now: datetime,
    approvals: tuple[str, ...] | None = None,
) -> Agreement:
    step = _transition(actor, action, agreement.status, to, reason, now)
    return replace(
        agreement,
        status=to,
        approvals=agreement.approvals if approvals is None else approvals,
        history=(*agreement.history, step),
    )


def submit(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    if actor.org_id != agreement.consumer_id or actor.role not in (Role.OFFICER, Role.GUARDIAN):
        raise forbidden("not_consumer_party", "only the consuming organisation submits its draft")
    _require_status(agreement, "submit", AgreementStatus.DRAFT)
    if agreement.assessment is None:
        raise conflict(
            "assessment_required",
            "a privacy impact assessment must be attached before the agreement is submitted",
        )
    if agreement.valid_until <= now:
        raise conflict("outside_validity", "the agreement's validity window has already ended")
    if agreement.assessment.risk is not Risk.HIGH and agreement.special_category:
        raise conflict(
            "assessment_understates_risk",
            "the agreement draws on special-category data; its assessment must be high risk",
        )
    require_condition(agreement.special_category, agreement.special_category_condition)
    return _moved(agreement, actor, "submit", AgreementStatus.SUBMITTED, reason, now, ())


def approve(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    """A guardian of the provider approves; a high-risk agreement needs two different ones."""
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "approve")
    _require_status(agreement, "approve", AgreementStatus.SUBMITTED)
    if actor.id in agreement.approvals:
        raise conflict(
            "duplicate_approval",
            "this guardian has already approved; a high-risk agreement needs a second guardian",
        )
    approvals = (*agreement.approvals, actor.id)
    done = len(approvals) >= agreement.approvals_required
    to = AgreementStatus.APPROVED if done else AgreementStatus.SUBMITTED
    return _moved(agreement, actor, "approve", to, reason, now, approvals)


def reject(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "reject")
    _require_status(agreement, "reject", AgreementStatus.SUBMITTED)
    return _moved(agreement, actor, "reject", AgreementStatus.REJECTED, reason, now)


def suspend(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "suspend")
    _require_status(agreement, "suspend", AgreementStatus.APPROVED)
    return _moved(agreement, actor, "suspend", AgreementStatus.SUSPENDED, reason, now)


ANOMALY_DETECTOR = "onceonly.anomaly-detector"


def suspend_for_anomaly(agreement: Agreement, rule: str, now: datetime) -> Agreement:
    """The exchange suspends an agreement on the provider's behalf when traffic through it
    looks like harvesting; only the provider's guardian resumes or revokes it."""
    _require_status(agreement, "suspend", AgreementStatus.APPROVED)
    step = Transition(now, ANOMALY_DETECTOR, agreement.provider_id, "suspend",
                      agreement.status, AgreementStatus.SUSPENDED,
                      f"anomaly detected: {rule}; the provider's guardian is alerted")
    return replace(agreement, status=AgreementStatus.SUSPENDED,
                   history=(*agreement.history, step))


def suspend_for_member(agreement: Agreement, actor: Principal, reason: str,
                       now: datetime) -> Agreement:
    """The exchange's operator suspends a member: each agreement in force that it is party
    to is suspended with it (who may do this is the use case's rule)."""
    reason = require_reason(reason)
    _require_status(agreement, "suspend", AgreementStatus.APPROVED)
    return _moved(agreement, actor, "suspend", AgreementStatus.SUSPENDED,
                  f"member suspended: {reason}", now)


def resume_for_member(agreement: Agreement, actor: Principal, reason: str,
                      now: datetime) -> Agreement:
    """The member is resumed: the agreements its suspension suspended resume."""
    reason = require_reason(reason)
    _require_status(agreement, "resume", AgreementStatus.SUSPENDED)
    return _moved(agreement, actor, "resume", AgreementStatus.APPROVED,
                  f"member resumed: {reason}", now)


def resume(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "resume")
    _require_status(agreement, "resume", AgreementStatus.SUSPENDED)
    return _moved(agreement, actor, "resume", AgreementStatus.APPROVED, reason, now)


def revoke(agreement: Agreement, actor: Principal, reason: str, now: datetime) -> Agreement:
    reason = require_reason(reason)
    _require_provider_guardian(agreement, actor, "revoke")
    _require_status(
        agreement,
        "revoke",
        AgreementStatus.SUBMITTED,
        AgreementStatus.APPROVED,
        AgreementStatus.SUSPENDED,
    )
    return _moved(agreement, actor, "revoke", AgreementStatus.REVOKED, reason, now)


TRANSITIONS = {
    "submit": submit,
    "approve": approve,
    "reject": reject,
    "suspend": suspend,
    "resume": resume,
    "revoke": revoke,
}
