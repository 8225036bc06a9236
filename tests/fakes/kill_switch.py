"""Kill switches: a restore wins once."""

from __future__ import annotations

from dataclasses import replace

from onceonly.domain.errors import conflict
from onceonly.domain.kill_switch import KillSwitch
from tests.fakes.data import FakeData


class FakeKillSwitches:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def add(self, switch: KillSwitch) -> KillSwitch:
        stored = replace(switch, id=self.data.next_id("kill_switches"))
        self.data.kill_switches[stored.id] = stored  # type: ignore[index]
        return stored

    def get(self, switch_id: int) -> KillSwitch | None:
        return self.data.kill_switches.get(switch_id)

    def restored(self, switch: KillSwitch) -> None:
        assert switch.id is not None
        if self.data.kill_switches[switch.id].restored_at is not None:
            raise conflict("already_restored", f"kill switch {switch.id} was restored already")
        self.data.kill_switches[switch.id] = switch

    def list_for(self, provider_id: str) -> list[KillSwitch]:
        return [s for _, s in sorted(self.data.kill_switches.items(), reverse=True)
                if s.provider_id == provider_id]
