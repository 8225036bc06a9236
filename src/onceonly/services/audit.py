"""Refusals are audited like releases: one helper so no use case forgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

from onceonly.audit.entries import AuditEntry
from onceonly.domain.errors import DomainError
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory

U = TypeVar("U", bound=AuditUnitOfWork)


def refuse(
    uows: UnitOfWorkFactory[U], clock: Clock, entry: AuditEntry, error: DomainError,
    also: Callable[[U], None] | None = None,
) -> NoReturn:
    """Record the refusal in its own transaction (the refused work wrote nothing), with
    whatever else must be noted of it (`also`), then raise."""
    with uows(write=True) as uow:
        uow.audit.record(entry, clock.now())
        if also is not None:
            also(uow)
        uow.commit()
    raise error
