"""Kill switches in the exchange database (ports.KillSwitches): pulled, restored, listed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.domain.errors import conflict
from onceonly.domain.kill_switch import KillSwitch


def _kill_switch(row: Any) -> KillSwitch:
    return KillSwitch(row.id, row.provider_id, row.consumer_id, tuple(row.agreement_ids),
                      row.pulled_by, row.pulled_at, row.reason, row.restored_by,
                      row.restored_at, row.restore_reason)


class SqlKillSwitches:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, switch: KillSwitch) -> KillSwitch:
        switch_id = self.conn.execute(insert(t.kill_switches).values(
            provider_id=switch.provider_id, consumer_id=switch.consumer_id,
            agreement_ids=list(switch.agreement_ids), pulled_by=switch.pulled_by,
            pulled_at=switch.pulled_at, reason=switch.reason,
        ).returning(t.kill_switches.c.id)).scalar_one()
        return replace(switch, id=switch_id)

    def get(self, switch_id: int) -> KillSwitch | None:
        row = self.conn.execute(
            select(t.kill_switches).where(t.kill_switches.c.id == switch_id)).first()
        return _kill_switch(row) if row else None

    def restored(self, switch: KillSwitch) -> None:
        # Only an unrestored switch changes: two guardians restoring at once, one wins.
        result = self.conn.execute(
            update(t.kill_switches)
            .where(t.kill_switches.c.id == switch.id, t.kill_switches.c.restored_at.is_(None))
            .values(restored_by=switch.restored_by, restored_at=switch.restored_at,
                    restore_reason=switch.restore_reason))
        if result.rowcount != 1:
            raise conflict("already_restored", f"kill switch {switch.id} was restored already")

    def list_for(self, provider_id: str) -> list[KillSwitch]:
        rows = self.conn.execute(select(t.kill_switches)
                                 .where(t.kill_switches.c.provider_id == provider_id)
                                 .order_by(t.kill_switches.c.id.desc()))
        return [_kill_switch(row) for row in rows]
