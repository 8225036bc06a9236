"""The kill switch: a guardian suspends every agreement of one consumer with the guardian's
organisation in one action (a breach at a contractor), and later restores exactly those."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from onceonly.domain.errors import conflict, forbidden, invalid, not_found
from onceonly.domain.organisations import Principal, Role, parse_org_id


@dataclass(frozen=True, slots=True)
class KillSwitch:
    id: int | None
    provider_id: str
    consumer_id: str
    agreement_ids: tuple[int, ...]  # the agreements it suspended
    pulled_by: str
    pulled_at: datetime
    reason: str
    restored_by: str | None = None
    restored_at: datetime | None = None
    restore_reason: str | None = None

    @property
    def restored(self) -> bool:
        return self.restored_at is not None


def _reason(reason: str) -> str:
    if not reason.strip():
        raise invalid("reason_required", "say why: the reason is recorded and audited")
    return reason.strip()


def pull(guardian: Principal, consumer_id: str, reason: str, agreement_ids: list[int],
         now: datetime) -> KillSwitch:
    """A switch over `agreement_ids`: the consumer's active agreements with the guardian's
    organisation, which the caller suspends in the same unit of work."""
    if guardian.role is not Role.GUARDIAN:
        raise forbidden("not_provider_guardian", "only a data guardian may pull a kill switch")
    consumer_id = parse_org_id(consumer_id)
    if consumer_id == guardian.org_id:
        raise invalid("self_kill_switch", "a kill switch stops another organisation's access")
    return KillSwitch(None, guardian.org_id, consumer_id, tuple(agreement_ids), guardian.id,
                      now, _reason(reason))


def restore(switch: KillSwitch | None, guardian: Principal, reason: str,
            now: datetime) -> KillSwitch:
    """Restoring is for a guardian of the organisation that pulled the switch, once."""
    if switch is None or guardian.role is not Role.GUARDIAN \
            or guardian.org_id != switch.provider_id:
        raise not_found("kill_switch_unknown", "no such kill switch of your organisation")
    if switch.restored:
        raise conflict("already_restored", f"kill switch {switch.id} was restored at "
                                           f"{switch.restored_at:%Y-%m-%d %H:%M} UTC")
    return replace(switch, restored_by=guardian.id, restored_at=now,
                   restore_reason=_reason(reason))
