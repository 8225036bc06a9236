"""Refusals are audited like releases, by one mechanism so that no use case forgets and every
refusal's entry has the same shape: the action, outcome "deny", who asked (their id and
organisation), the reason (the error's code), and what the use case knew when it refused.

    with refusing(uows, clock, "bulk.request", officer, detail={...}) as refusal:
        ...                             # a DomainError raised here is audited, then raised
        refusal.of_agreement(agreement)  # what the entry should name, once known
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, Protocol, TypeVar

from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory, WritingLater

U = TypeVar("U", bound=AuditUnitOfWork)


class AuditingLater(AuditUnitOfWork, WritingLater, Protocol):
    """A unit of work that may record its own refusal."""


W = TypeVar("W", bound=AuditingLater)


def refuse(
    uows: UnitOfWorkFactory[U], clock: Clock, entry: AuditEntry, error: DomainError,
    also: Callable[[U], None] | None = None,
) -> NoReturn:
    """Record the refusal in its own transaction (the refused work wrote nothing), with
    whatever else must be noted of it (`also`), then raise."""
    with uows(write=True) as uow:
        _record(uow, clock, entry, also)
    raise error


def refuse_in(uow: W, clock: Clock, entry: AuditEntry, error: DomainError,
              also: Callable[[W], None] | None = None) -> NoReturn:
    """`refuse`, in the unit of work the refused work read in: what it had not committed
    is given up, and the refusal recorded and committed in its place (one unit of work a
    request, refusal included)."""
    uow.begin_writing()
    _record(uow, clock, entry, also)
    raise error


def _record(uow: Any, clock: Clock, entry: AuditEntry, also: Callable[[Any], None] | None
            ) -> None:
    """The refusal's audit entry and whatever else is noted of it, committed."""
    uow.audit.record(entry, clock.now())
    if also is not None:
        also(uow)
    uow.commit()


def denial(action: str, actor: Principal | None, reason: str, **about: Any) -> AuditEntry:
    """The audit entry of a refusal of `actor` (None: nobody identified)."""
    return AuditEntry(action, "deny", actor.id if actor else None,
                      actor.org_id if actor else None, reason=reason, **about)


def refuse_as(uows: UnitOfWorkFactory[U], clock: Clock, action: str, actor: Principal | None,
              error: DomainError, *, also: Callable[[U], None] | None = None,
              **about: Any) -> NoReturn:
    """Audit `actor`'s refusal with `error` (its code the reason), then raise it."""
    refuse(uows, clock, denial(action, actor, error.code, **about), error, also)


class Refusal:
    """What the entry of a refusal names beyond who and why, as the use case learns it."""

    def __init__(self, about: dict[str, Any]) -> None:
        self.about = about

    def of_agreement(self, agreement: Agreement | None) -> None:
        if agreement is not None:
            self.about.update(agreement_id=agreement.id, provider_id=agreement.provider_id)

    def note(self, **about: Any) -> None:
        self.about.update(about)


@contextmanager
def refusing(uows: UnitOfWorkFactory[AuditUnitOfWork], clock: Clock, action: str,
             actor: Principal | None, **about: Any) -> Iterator[Refusal]:
    """Audit, then re-raise, any DomainError the block raises (see the module's doc)."""
    refusal = Refusal(dict(about))
    try:
        yield refusal
    except DomainError as error:
        refuse_as(uows, clock, action, actor, error, **refusal.about)
