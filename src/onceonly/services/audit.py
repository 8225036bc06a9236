"""Refusals are audited like releases: one helper so no use case forgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from onceonly.domain.errors import DomainError
from onceonly.services.ports import AuditEntry, Clock, UnitOfWork, UnitOfWorkFactory


def refuse(
    uows: UnitOfWorkFactory, clock: Clock, entry: AuditEntry, error: DomainError,
    also: Callable[[UnitOfWork], None] | None = None,
) -> NoReturn:
    """Record the refusal in its own transaction (the refused work wrote nothing), with
    whatever else must be noted of it (`also`), then raise."""
    with uows(write=True) as uow:
        uow.audit.record(entry, clock.now())
        if also is not None:
            also(uow)
        uow.commit()
    raise error
