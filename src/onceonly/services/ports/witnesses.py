"""The exchange's witnesses: how it reaches them, and their cosignatures of its heads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from onceonly.crypto.cosignatures import Witness
from onceonly.services.ports.audit import AuditTree
from onceonly.services.ports.unit_of_work import UnitOfWork


class WitnessUnavailable(Exception):
    """The witness did not answer, or answered with a fault of its own."""


class WitnessConflict(Exception):
    """409: the witness cosigned a checkpoint of `size` entries last, not the old size sent
    (or refuses this checkpoint against it)."""

    def __init__(self, size: int, detail: str) -> None:
        super().__init__(detail)
        self.size = size


class WitnessRefusedHead(Exception):
    """The witness refused the checkpoint (403, 404, 400, 422): the message says why."""


class WitnessEndpoint(Protocol):
    @property
    def witness(self) -> Witness: ...
    def add_checkpoint(self, body: bytes) -> str:
        """POST <prefix>/add-checkpoint; the cosignature lines. Raises WitnessConflict,
        WitnessRefusedHead or WitnessUnavailable."""
        ...
    def checkpoint(self, origin: str) -> str | None:
        """The latest checkpoint it cosigned of `origin` (a note with its cosignature), or
        None if it cosigned none. Raises WitnessUnavailable."""
        ...
    def close(self) -> None:
        """Let go of its connections (the exchange is closing)."""
        ...


@dataclass(frozen=True, slots=True)
class Cosignature:
    tree_size: int
    witness: str
    timestamp: int  # seconds since the Unix epoch, as the witness signed it
    signature: bytes  # the 72-byte timestamped_signature (tlog-cosignature)


class Cosignatures(Protocol):
    def add(self, cosignature: Cosignature) -> None: ...
    def of(self, tree_size: int) -> list[Cosignature]: ...
    def latest_size(self, witness: str) -> int | None:
        """The size of the largest head this witness cosigned."""
        ...
    def listed(self) -> list[Cosignature]: ...


class WitnessesUnitOfWork(UnitOfWork, Protocol):
    @property
    def tree(self) -> AuditTree: ...
    @property
    def cosignatures(self) -> Cosignatures: ...
