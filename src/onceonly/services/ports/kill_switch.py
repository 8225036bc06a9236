"""Kill switches: a provider's guardian suspends agreements at once."""

from __future__ import annotations

from typing import Protocol

from onceonly.domain.kill_switch import KillSwitch
from onceonly.services.ports.agreements import AgreementsUnitOfWork


class KillSwitches(Protocol):
    def add(self, switch: KillSwitch) -> KillSwitch:
        """Store a new switch; return it with its id."""
        ...
    def get(self, switch_id: int) -> KillSwitch | None: ...
    def restored(self, switch: KillSwitch) -> None: ...
    def list_for(self, provider_id: str) -> list[KillSwitch]: ...


class KillSwitchUnitOfWork(AgreementsUnitOfWork, Protocol):
    @property
    def kill_switches(self) -> KillSwitches: ...
