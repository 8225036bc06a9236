"""The kill switch use cases: pull (suspend every agreement of one consumer with the
guardian's organisation, in one transaction) and restore (resume exactly those)."""

from __future__ import annotations

from onceonly.audit.entries import AuditEntry
from onceonly.domain import kill_switch
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.errors import not_found
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.organisations import Principal, Role
from onceonly.services.agreements import move_agreement
from onceonly.services.auth import require_role
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.kill_switch import KillSwitchUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing


class KillSwitchService:
    def __init__(self, uows: UnitOfWorkFactory[KillSwitchUnitOfWork], clock: Clock) -> None:
        self.uows = uows
        self.clock = clock

    def pull(self, guardian: Principal, consumer_id: str, reason: str) -> KillSwitch:
        now = self.clock.now()
        with refusing(self.uows, self.clock, "killswitch.pull", guardian,
                      provider_id=guardian.org_id, detail={"consumer": consumer_id}), \
                self.uows(write=True) as uow:
            targets = [a for a in uow.agreements.list_for(guardian.org_id)
                       if a.provider_id == guardian.org_id and a.consumer_id == consumer_id
                       and a.status is AgreementStatus.APPROVED]
            switch = kill_switch.pull(guardian, consumer_id, reason,
                                      [a.id for a in targets if a.id is not None], now)
            if uow.catalogue.organisation(switch.consumer_id) is None:
                raise not_found("organisation_unknown", f"no organisation {consumer_id}")
            for agreement in targets:
                move_agreement(uow, agreement, guardian, "suspend",
                           f"kill switch: {switch.reason}", now)
            switch = uow.kill_switches.add(switch)
            uow.audit.record(_entry(guardian, "pull", switch), now)
            uow.commit()
        return switch

    def restore(self, guardian: Principal, switch_id: int, reason: str) -> KillSwitch:
        now = self.clock.now()
        with refusing(self.uows, self.clock, "killswitch.restore", guardian,
                      detail={"kill_switch": switch_id}), self.uows(write=True) as uow:
            switch = kill_switch.restore(uow.kill_switches.get(switch_id), guardian,
                                         reason, now)
            for agreement_id in switch.agreement_ids:
                agreement = uow.agreements.get(agreement_id)
                # Revoked since, or resumed by hand: left as it is.
                if agreement is not None and agreement.status is AgreementStatus.SUSPENDED:
                    move_agreement(uow, agreement, guardian, "resume",
                               f"kill switch {switch_id} restored: {switch.restore_reason}",
                               now)
            uow.kill_switches.restored(switch)
            uow.audit.record(_entry(guardian, "restore", switch), now)
            uow.commit()
        return switch

    def list(self, guardian: Principal) -> list[KillSwitch]:
        require_role(self.uows, self.clock, guardian, {Role.GUARDIAN},
                     "killswitch.list")
        with self.uows() as uow:
            return uow.kill_switches.list_for(guardian.org_id)


def _entry(guardian: Principal, action: str, switch: KillSwitch) -> AuditEntry:
    return AuditEntry(
        f"killswitch.{action}", "done", guardian.id, guardian.org_id,
        provider_id=switch.provider_id,
        detail={"kill_switch": switch.id, "consumer": switch.consumer_id,
                "agreements": list(switch.agreement_ids),
                "why": switch.restore_reason if action == "restore" else switch.reason})
