"""A unit of work: one transaction, and the repositories read and written in it.

Each use case names the slice of it that it needs (a Protocol in its feature's module,
built on UnitOfWork); the SQL unit of work satisfies every slice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self, TypeVar


class UnitOfWork(Protocol):
    """One transaction: what every slice has. Not committed, it rolls back on leaving."""

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class WritingLater(UnitOfWork, Protocol):
    """A unit of work that reads first and may write at its end: one a request, refusal
    included, without holding a write lock while it reads."""

    def begin_writing(self) -> None:
        """Give up whatever this unit of work has not committed (its reads, or writes it
        must not keep) and begin its write transaction, which takes SQLite's write lock,
        until it commits or ends."""
        ...


U_co = TypeVar("U_co", bound=UnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[U_co]):
    """Opens units of work of one slice (or more: a wider one serves a narrower use)."""

    def __call__(self, *, write: bool = False, transaction: bool = True) -> U_co:
        """`transaction=False`: each read stands alone and sees the latest committed state,
        sparing a server database the round trips of a transaction. For data that never
        changes once written (the Merkle tree), and for reads that need no snapshot across
        them (a query's decision reads: a transaction under read committed gives none)."""
        ...


T = TypeVar("T")


class Durability(Protocol):
    """Where an answer waits until what it committed is on disk. The entry point runs the
    blocking steps of an answer through `run`; a database whose commit is durable when it
    returns just runs them, and SQLite's group commit lets the answers waiting together
    share one sync."""

    async def run(self, work: Callable[[], T]) -> T:
        """`work()`'s result (or its exception), once what it committed is durable."""
        ...
    def after_durable(self, then: Callable[[], None]) -> None:
        """Call `then` once what was committed so far is durable: at once where a commit
        is durable when it returns (or outside `run`), else after `run`'s sync."""
        ...
