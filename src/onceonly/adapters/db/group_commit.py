"""SQLite's group commit: answers that wait together share one sync of the WAL.

With `synchronous=FULL` every commit syncs the WAL before it returns: one disk flush per
answer. Inside `GroupCommit.run` a SQLite write transaction (BEGIN IMMEDIATE) commits under
`synchronous=NORMAL` instead (written to the WAL, not yet synced), and the answer waits on
the event loop for the next sync of the WAL file; one sync serves every answer whose commit
came before it started. An answer that only read waits for no sync: its transactions began
deferred, and a deferred transaction commits under FULL even there, so a write made in one
(none is on the API's path) is synced at its own commit.
So no answer leaves before what it committed is on disk, and under load a handful of answers
share each flush. Everything run outside it (the pages, the command line, the workers)
commits under FULL as before.

SQLite has no call that syncs the WAL alone (a checkpoint copies it into the database; it is
not a sync of the answers' frames), so the sync is an `fdatasync` of the `-wal` file, opened
by path: on Linux a sync of any descriptor flushes the file itself, whoever wrote it.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SYNCHRONOUS = "onceonly_synchronous"  # a pooled connection's setting, in its record's info


class _Scope:
    """One answer's run: the group commit it belongs to, and whether it began a write
    transaction on that group's database (and so owes a sync before it is released)."""

    __slots__ = ("afterwards", "group", "owes_sync")

    def __init__(self, group: GroupCommit) -> None:
        self.group = group
        self.owes_sync = False
        self.afterwards: list[Callable[[], None]] = []  # to call once synced


_RUNNING: ContextVar[_Scope | None] = ContextVar("onceonly_group_commit", default=None)


class GroupCommit:
    """The `Durability` port for SQLite: see the module's docstring. `sync` makes what has
    been written to the database so far durable (WalSync in use; a recorder in tests)."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        # The answers waiting for the next sync, per event loop (tests run several).
        self._waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                                  list[asyncio.Future[None]]] = (
            weakref.WeakKeyDictionary())

    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` here, on the loop; return (or raise: a refusal is audited too) only
        once a sync that started after its commits has finished."""
        scope = _Scope(self)
        token = _RUNNING.set(scope)
        try:
            return work()
        finally:
            _RUNNING.reset(token)
            if scope.owes_sync:
                await self.synced()  # raises if the sync failed: nothing below runs
            for then in scope.afterwards:
                then()

    def after_durable(self, then: Callable[[], None]) -> None:
        """`then` after this answer's sync (see `run`); outside `run` a commit was synced
        as it returned (FULL), so at once."""
        scope = _RUNNING.get()
        if scope is not None and scope.group is self and scope.owes_sync:
            scope.afterwards.append(then)
        else:
            then()

    async def synced(self) -> None:
        """Wait for the next sync of the database; the first waiter of a batch schedules it,
        to run once the loop has finished what is ready now (others' commits among it)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        batch = self._waiting.get(loop)
        if batch is None:
            self._waiting[loop] = batch = []
            loop.call_soon(self._sync_batch, loop)
        batch.append(waiter)
        await waiter

    def _sync_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        # The batch is taken before the sync starts: only answers already committed are in it.
        batch = self._waiting.pop(loop, [])
        try:
            self._sync()
        except Exception as error:  # not known to be on disk: none of them is released
            for waiter in batch:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        for waiter in batch:
            if not waiter.done():  # its request may have been cancelled meanwhile
                waiter.set_result(None)

    def before_begin(self, info: dict[str, Any], execute: Callable[[str], Any],
                     writing: bool) -> None:
        """Called as each transaction on this group's database begins (engine.py): a writing
        one (BEGIN IMMEDIATE) inside `run` commits without a sync (NORMAL) and owes one;
        any other syncs at its commit, if it writes at all (FULL). The setting is changed
        only when it differs from the connection's last."""
        scope = _RUNNING.get()
        if writing and scope is not None and scope.group is self:
            scope.owes_sync = True
            wanted = "NORMAL"
        else:
            wanted = "FULL"
        if info.get(SYNCHRONOUS, "FULL") != wanted:
            execute(f"PRAGMA synchronous={wanted}")  # SQLite refuses it inside a transaction
            info[SYNCHRONOUS] = wanted


class WalSync:
    """One `fdatasync` of a SQLite database's WAL file (and, the first time a WAL file is
    seen, of its folder: the file's name must survive a power loss too)."""

    def __init__(self, database: Path) -> None:
        self.wal = database.with_name(database.name + "-wal")
        self._named: int | None = None  # the WAL file (inode) whose folder entry is synced

    def __call__(self) -> None:
        try:
            descriptor = os.open(self.wal, os.O_RDONLY)
        except FileNotFoundError:
            # No WAL: the last connection to close checkpointed it into the database and
            # synced that before removing it; nothing committed waits in it.
            return
        try:
            os.fdatasync(descriptor)
            inode = os.fstat(descriptor).st_ino
        finally:
            os.close(descriptor)
        if inode != self._named:
            folder = os.open(self.wal.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            self._named = inode


class AtCommit:
    """The `Durability` port where a commit is durable when it returns: PostgreSQL (whose
    server already groups concurrent commits into one flush of its WAL), and a SQLite
    database opened read-only."""

    async def run(self, work: Callable[[], T]) -> T:
        return work()

    def after_durable(self, then: Callable[[], None]) -> None:
        then()
