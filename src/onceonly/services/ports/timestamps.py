"""RFC 3161 timestamps of signed tree heads: the authorities asked, and where the tokens
are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from onceonly.audit.heads import SignedTreeHead
from onceonly.services.ports.audit import AuditTree
from onceonly.services.ports.unit_of_work import UnitOfWork


class AuthorityUnavailable(Exception):
    """The authority did not answer, or answered with no timestamp (the message says how)."""


class TimestampAuthority(Protocol):
    @property
    def name(self) -> str: ...
    def stamp(self, query: bytes) -> bytes:
        """POST an application/timestamp-query; the application/timestamp-reply. Raises
        AuthorityUnavailable."""
        ...
    def close(self) -> None:
        """Let go of its connections (the exchange is closing)."""
        ...


@dataclass(frozen=True, slots=True)
class HeadTimestamp:
    tree_size: int
    authority: str
    token: bytes  # the authority's whole answer, a DER TimeStampResp
    stamped_at: datetime  # its genTime, as the authority said


class HeadTimestamps(Protocol):
    def add(self, stamp: HeadTimestamp) -> None: ...
    def of(self, tree_size: int) -> HeadTimestamp | None: ...
    def listed(self) -> list[HeadTimestamp]:
        """Every token, smallest head first."""
        ...
    def newest(self) -> int | None:
        """The size of the newest head with a token."""
        ...
    def waiting(self, limit: int) -> list[SignedTreeHead]:
        """Heads newer than the newest with a token, oldest first, at most `limit`."""
        ...
    def waiting_count(self) -> int: ...


class TimestampsUnitOfWork(UnitOfWork, Protocol):
    @property
    def tree(self) -> AuditTree: ...
    @property
    def timestamps(self) -> HeadTimestamps: ...
