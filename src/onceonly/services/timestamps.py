"""Outside timestamps of the audit log (RFC 3161): each signed tree head's compact JWS is
sent, in the background, to the configured authorities (the first valid answer suffices)
and the token kept with the head. While no authority answers, the exchange goes on and the
heads wait, counted; they are stamped when one is back. `verify` checks every token against
the authorities' certificates and the head it covers.

A token covers SHA-256 of the head's compact JWS: the head's size, root, time and the head
before it, and the operator's signature over them, existed by the authority's time. A head
with no token of its own is still covered by a later head's token through the chain of
heads (each names the one before it, and `audit verify` checks their consistency); heads
after the newest token are the ones waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from cryptography import x509

from onceonly.audit.heads import SignedTreeHead
from onceonly.crypto.timestamps import TimestampInvalid, check_timestamp, request_for
from onceonly.services.ports.audit import HeadsWaiting
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.timestamps import (
    AuthorityUnavailable,
    HeadTimestamp,
    TimestampAuthority,
    TimestampsUnitOfWork,
)
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger("onceonly.timestamps")

STEP = 16  # heads stamped in one background step


class NoAuthorityAnswered(RuntimeError):
    """Every configured authority failed; the heads wait (the message says why each)."""


def message_of(head: SignedTreeHead) -> bytes:
    """What a token covers: the head's compact JWS, as ASCII."""
    return head.signature.encode("ascii")


@dataclass(frozen=True, slots=True)
class TimestampReport:
    """`verify`: every token checked, and the heads without one."""

    heads: int
    stamped: int  # heads with a valid token of their own
    bad: list[tuple[int, str]] = field(default_factory=list)  # (head size, why)
    covered: list[int] = field(default_factory=list)  # no token; a later head's covers it
    waiting: list[int] = field(default_factory=list)  # after the newest token: uncovered

    @property
    def ok(self) -> bool:
        return not self.bad


class TimestampService:
    def __init__(self, uows: UnitOfWorkFactory[TimestampsUnitOfWork], clock: Clock,
                 authorities: Sequence[TimestampAuthority],
                 roots: Callable[[], list[x509.Certificate]], *,
                 latest_only: bool = False) -> None:
        """`roots`: the certificates the authorities chain to, read when first needed.
        `latest_only`: stamp only the newest head each time (under load), not each one."""
        self.uows = uows
        self.clock = clock
        self.authorities = list(authorities)
        self.roots = roots
        self.latest_only = latest_only

    @property
    def configured(self) -> bool:
        return bool(self.authorities)

    def stamp_waiting(self, limit: int = STEP) -> bool:
        """Stamp the heads waiting (oldest first, or only the newest when `latest_only`),
        up to `limit`; True if more wait. Raises NoAuthorityAnswered if none answered:
        the heads stay waiting, for the next try."""
        if not self.authorities:
            return False
        with self.uows(transaction=False) as uow:
            if self.latest_only:
                latest = uow.tree.latest_head()
                waiting = [latest] if latest is not None and uow.timestamps.waiting(1) else []
            else:
                waiting = uow.timestamps.waiting(limit + 1)  # one more: are more waiting?
        for head in waiting[:limit]:
            self._store(self._stamp(head))
        return len(waiting) > limit

    def _stamp(self, head: SignedTreeHead) -> HeadTimestamp:
        message = message_of(head)
        roots = self.roots()
        failures = []
        for authority in self.authorities:
            request = request_for(message)
            try:
                answer = authority.stamp(request.der)
                at = check_timestamp(answer, message, roots, request.nonce)
            except (AuthorityUnavailable, TimestampInvalid) as exc:
                failures.append(f"{authority.name}: {exc}")
                continue
            return HeadTimestamp(head.head.tree_size, authority.name, answer, at)
        raise NoAuthorityAnswered(
            f"no timestamping authority stamped the head of {head.head.tree_size} entries: "
            + "; ".join(failures))

    def _store(self, stamp: HeadTimestamp) -> None:
        with self.uows(write=True) as uow:
            if uow.timestamps.of(stamp.tree_size) is None:  # another process was first
                uow.timestamps.add(stamp)
                uow.commit()
        log.info("tree head timestamped", tree_size=stamp.tree_size,
                 authority=stamp.authority, at=stamp.stamped_at.isoformat())

    def waiting(self) -> int:
        """Heads newer than the newest with a token (the operator's figure)."""
        with self.uows(transaction=False) as uow:
            return uow.timestamps.waiting_count()

    def close(self) -> None:
        for authority in self.authorities:
            authority.close()

    def backlog(self) -> HeadsWaiting:
        """The heads newer than the newest with a token, and how long the oldest has waited
        (the operator's readiness figure; 0 heads when no authority is configured)."""
        if not self.authorities:
            return HeadsWaiting(0, None)
        with self.uows(transaction=False) as uow:
            newest = uow.timestamps.newest()
            after = uow.tree.heads_after(-1 if newest is None else newest)
        return after.waiting(self.clock.now())

    def of(self, tree_size: int) -> HeadTimestamp | None:
        with self.uows(transaction=False) as uow:
            return uow.timestamps.of(tree_size)

    def verify(self) -> TimestampReport:
        """Every token against the authorities' certificates and the head it covers (by
        its JWS as stored: a head altered since fails), and the heads with none."""
        with self.uows() as uow:
            heads = uow.tree.heads()
            stamps = {stamp.tree_size: stamp for stamp in uow.timestamps.listed()}
        roots = self.roots()
        bad: list[tuple[int, str]] = []
        by_size = {head.head.tree_size: head for head in heads}
        for size, stamp in stamps.items():
            head = by_size.get(size)
            if head is None:
                bad.append((size, f"a timestamp names the head of {size} entries, which is "
                                  "not in the log"))
                continue
            try:
                at = check_timestamp(stamp.token, message_of(head), roots)
            except TimestampInvalid as exc:
                bad.append((size, f"the timestamp of the head of {size} entries does not "
                                  f"verify: {exc}"))
                continue
            if at != stamp.stamped_at:
                bad.append((size, f"the time stored with the head of {size} entries "
                                  f"({stamp.stamped_at}) is not the token's ({at})"))
        newest = max((s for s in stamps if s in by_size), default=-1)
        unstamped = [h.head.tree_size for h in heads if h.head.tree_size not in stamps]
        return TimestampReport(
            heads=len(heads), stamped=len(stamps) - len(bad), bad=bad,
            covered=[s for s in unstamped if s < newest],
            waiting=[s for s in unstamped if s > newest])
