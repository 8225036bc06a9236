"""This exchange as a witness of other logs: the latest checkpoint it cosigned of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.services.ports.audit import AuditUnitOfWork, OperatorAlerts


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The latest head of a watched log that this witness cosigned."""

    origin: str
    tree_size: int
    root_hash: bytes
    cosigned_at: datetime


class WitnessCheckpoints(Protocol):
    def lock(self, origin: str) -> None:
        """Hold the right to move `origin`'s checkpoint until the unit of work ends (the
        check of the old size and the save are one step: C2SP tlog-witness)."""
        ...
    def get(self, origin: str) -> Checkpoint | None: ...
    def save(self, checkpoint: Checkpoint) -> None:
        """Insert or replace the origin's checkpoint."""
        ...
    def listed(self) -> list[Checkpoint]: ...


class WitnessUnitOfWork(AuditUnitOfWork, Protocol):
    @property
    def witness_checkpoints(self) -> WitnessCheckpoints: ...
    @property
    def operator_alerts(self) -> OperatorAlerts: ...
