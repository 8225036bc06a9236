"""Use cases for agreements: draft, read, and every lifecycle step, each audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onceonly.audit.entries import AuditEntry
from onceonly.domain import agreements as lifecycle
from onceonly.domain.agreements import Agreement, FieldGrant, LegalBasis, PrivacyAssessment
from onceonly.domain.errors import invalid, not_found
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.special_category import ProcessingCondition
from onceonly.services.ports.agreements import AgreementsUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refuse_as, refusing


@dataclass(frozen=True)
class DraftCommand:
    dataset_id: str
    grants: list[FieldGrant]
    purpose_code: str
    purpose_text: str
    legal_basis: LegalBasis
    valid_from: datetime
    valid_until: datetime
    max_queries_per_day: int
    retention_days: int
    assessment: PrivacyAssessment | None
    hidden_days: int = 0
    max_persons_per_day: int | None = None
    max_uses: int | None = None
    bulk_max_records: int | None = None
    requires_training: bool = False
    special_category_condition: ProcessingCondition | None = None


def _done(actor: Principal, action: str, agreement: Agreement,
          detail: dict[str, object]) -> AuditEntry:
    return AuditEntry(f"agreement.{action}", "done", actor.id, actor.org_id,
                      agreement_id=agreement.id, provider_id=agreement.provider_id,
                      purpose=agreement.purpose_code, detail=detail)


def move_agreement(uow: AgreementsUnitOfWork, agreement: Agreement, actor: Principal,
                   action: str, reason: str, now: datetime, **about: object) -> Agreement:
    """One lifecycle step (approve, suspend, ...), saved and audited with where it went
    from and to and why: the agreement service, a kill switch and an anomaly alert's
    resolution all move agreements this way."""
    moved = lifecycle.TRANSITIONS[action](agreement, actor, reason, now)
    uow.agreements.save(moved)
    last = moved.history[-1]
    uow.audit.record(_done(actor, action, moved, {
        "from": agreement.status.value, "to": last.to_status.value, "why": last.reason,
        **about}), now)
    return moved


class AgreementService:
    def __init__(self, uows: UnitOfWorkFactory[AgreementsUnitOfWork], clock: Clock) -> None:
        self.uows = uows
        self.clock = clock

    def draft(self, actor: Principal, cmd: DraftCommand) -> Agreement:
        now = self.clock.now()
        with refusing(self.uows, self.clock, "agreement.create", actor,
                      detail={"dataset": cmd.dataset_id}), \
                self.uows(write=True) as uow:
            dataset = uow.catalogue.dataset(cmd.dataset_id)
            if dataset is None:
                raise invalid("unknown_dataset",
                              f"no dataset {cmd.dataset_id!r} in the catalogue")
            agreement = lifecycle.draft_agreement(
                actor=actor,
                dataset=dataset,
                consumer_id=actor.org_id,
                grants=cmd.grants,
                purpose_code=cmd.purpose_code,
                purpose_text=cmd.purpose_text,
                legal_basis=cmd.legal_basis,
                valid_from=cmd.valid_from,
                valid_until=cmd.valid_until,
                max_queries_per_day=cmd.max_queries_per_day,
                retention_days=cmd.retention_days,
                assessment=cmd.assessment,
                now=now,
                hidden_days=cmd.hidden_days,
                max_persons_per_day=cmd.max_persons_per_day,
                max_uses=cmd.max_uses,
                bulk_max_records=cmd.bulk_max_records,
                requires_training=cmd.requires_training,
                special_category_condition=cmd.special_category_condition,
            )
            agreement.id = uow.agreements.add(agreement)
            uow.audit.record(
                _done(actor, "create", agreement, {"dataset": agreement.dataset_id}), now)
            uow.commit()
        return agreement

    def get(self, actor: Principal, agreement_id: int) -> Agreement:
        with self.uows() as uow:
            agreement = uow.agreements.get(agreement_id, with_history=True)
        if agreement is None or not _may_see(actor, agreement):
            # The same answer for "missing" and "not yours": ids reveal nothing.
            refuse_as(self.uows, self.clock, "agreement.read", actor,
                      not_found("agreement_unknown", f"no agreement {agreement_id} visible to you"),
                      detail={"requested_agreement": str(agreement_id)})
        return agreement

    def list(self, actor: Principal) -> list[Agreement]:
        everyone = actor.role in (Role.MANAGER, Role.ADMIN)
        with self.uows() as uow:
            return uow.agreements.list_for(None if everyone else actor.org_id)

    def transition(self, actor: Principal, agreement_id: int, action: str,
                   reason: str) -> Agreement:
        if action not in lifecycle.TRANSITIONS:
            raise invalid("unknown_action", f"no lifecycle action {action!r}")
        now = self.clock.now()
        with refusing(self.uows, self.clock, f"agreement.{action}", actor,
                      detail={"requested_agreement": str(agreement_id)}) as refusal, \
                self.uows(write=True) as uow:
            agreement = uow.agreements.get(agreement_id, with_history=True)
            if agreement is None or not _may_see(actor, agreement):
                raise not_found("agreement_unknown",
                                f"no agreement {agreement_id} visible to you")
            refusal.of_agreement(agreement)
            refusal.note(purpose=agreement.purpose_code)
            moved = move_agreement(uow, agreement, actor, action, reason, now)
            uow.commit()
        moved.version += 1
        return moved


def _may_see(actor: Principal, agreement: Agreement) -> bool:
    return actor.role in (Role.MANAGER, Role.ADMIN) or actor.org_id in (
        agreement.provider_id,
        agreement.consumer_id,
    )
