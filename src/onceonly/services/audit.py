"""Refusals are audited like releases: one helper so no use case forgets."""

from __future__ import annotations

from typing import NoReturn

from onceonly.domain.errors import DomainError
from onceonly.services.ports import AuditEntry, Clock, UnitOfWorkFactory


def refuse(
    uows: UnitOfWorkFactory, clock: Clock, entry: AuditEntry, error: DomainError
) -> NoReturn:
    """Record the refusal in its own transaction (the refused work wrote nothing), then raise."""
    with uows(write=True) as uow:
        uow.audit.record(entry, clock.now())
        uow.commit()
    raise error
