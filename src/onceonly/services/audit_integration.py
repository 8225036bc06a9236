"""Integrating the audit log: appended entries brought under signed tree heads, a batch at
a time, stopping (with an operator alert) at an entry that does not read."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from typing import NoReturn, Protocol

from onceonly.audit import merkle
from onceonly.audit.entries import AuditEntry, AuditRecord, EntryUnreadable, UnreadableEntry
from onceonly.audit.heads import EMPTY_TREE, HeadRef, SignedTreeHead, TreeHead
from onceonly.domain.organisations import Principal, Role
from onceonly.services.auth import require_role
from onceonly.services.ports.audit import AuditLogUnitOfWork, OperatorAlert
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory

INTEGRATOR = "onceonly.audit-integrator"
UNREADABLE_ALERT = "audit_entry_unreadable"


class ExchangeNotInitialised(RuntimeError):
    """The exchange's operator has no signing key yet, so nothing can sign a tree head."""


class TreeHeadSigner(Protocol):
    def sign_compact_for(self, org_id: str, payload: bytes) -> str: ...


@dataclass(frozen=True, slots=True)
class Backlog:
    """How far integration has come: entries appended, entries under the latest signed
    head, and that head's age."""

    entries: int | None  # None if the log's counter is gone
    signed: int
    head_age_seconds: float | None  # None before the first head
    stopped_at: int | None = None  # an unreadable entry integration cannot pass

    @property
    def unsigned(self) -> int | None:
        return None if self.entries is None else self.entries - self.signed


class AuditIntegration:
    """The log's integration and its watch: what audit.AuditService is built on."""

    def __init__(self, uows: UnitOfWorkFactory[AuditLogUnitOfWork], clock: Clock,
                 signer: TreeHeadSigner, operator_org: str, batch: int = 4096) -> None:
        self.uows = uows
        self.clock = clock
        self.signer = signer
        self.operator_org = operator_org
        self.batch = batch
        # The largest head this process has seen. Heads only grow, so a proof for a size
        # within it needs no read of the latest head.
        self._signed_size = 0
        self._alerted: UnreadableEntry | None = None  # what this process last alerted on
        self._signer_ready = False

    def integrate(self) -> SignedTreeHead:
        """Bring every appended entry under a signed tree head, a batch at a time; return
        the latest head. Safe to run in many processes at once: one integrates, the others
        find the work done."""
        head, more = self.integrate_batch()
        while more:
            head, more = self.integrate_batch()
        return head

    def integrate_batch(self, batch: int | None = None) -> tuple[SignedTreeHead, bool]:
        """Bring the next `batch` entries at most (default: this service's) under a signed
        tree head: the latest head, and whether appended entries are still waiting. Stops
        before an entry that does not read (raising EntryUnreadable once it is the next),
        with an operator alert, and goes on once the row is mended."""
        batch = batch or self.batch
        while True:
            with self.uows() as uow:
                latest = uow.tree.latest_head()
                size = latest.head.tree_size if latest else 0
                # Hashed outside the write lock, each leaf straight from its row (as `audit
                # verify` reads them); a row not as appends write it is read the long way.
                with closing(uow.audit.leaf_hashes(size, size + batch, [])) as stream:
                    pending = [pair for indexes, hashes in stream
                               for pair in zip(indexes, hashes, strict=True)]
            # Indexes are dense by construction; a gap means a row was removed behind the
            # log's back. Sign nothing across it (`audit verify` names it).
            pending = [p for i, p in enumerate(pending) if p[0] == size + i]
            leaves = _readable_run(pending)
            if not leaves and pending:
                self._stop_at(pending[0][1])
            if latest is not None and not leaves:
                return self._seen(latest), False
            with self.uows(write=True) as uow:
                uow.tree.lock()
                current = uow.tree.latest_head()
                if current != latest:  # another integrator moved first (even to the empty
                    continue  # tree's head, as large as none): start again from its head
                uow.tree.add_nodes(merkle.integrate(size, leaves, uow.tree.read))
                new_size = size + len(leaves)
                before = (HeadRef(current.head.tree_size, current.head.root_hash) if current
                          else EMPTY_TREE)
                head = self._sign(TreeHead(new_size, merkle.root_at(new_size, uow.tree.read),
                                           int(self.clock.now().timestamp() * 1000), before))
                uow.tree.add_head(head)
                self._clear_alerts(uow, new_size)
                uow.commit()
            return self._seen(head), len(leaves) < len(pending) or len(pending) == batch

    def _stop_at(self, unreadable: AuditRecord | UnreadableEntry) -> NoReturn:
        """Integration cannot pass an entry that does not read: alert the operator (once,
        whichever process finds it first; audited) and raise."""
        assert isinstance(unreadable, UnreadableEntry), "the first pending entry reads"
        if self._alerted != unreadable:
            now = self.clock.now()
            with self.uows(write=True) as uow:
                uow.tree.lock()  # one integrator at a time: one alert
                alert = uow.operator_alerts.raise_once(UNREADABLE_ALERT, unreadable.index,
                                                       str(unreadable), now)
                if alert is not None:
                    uow.audit.record(_alert_entry("raise", alert), now)
                uow.commit()
            self._alerted = unreadable
        raise EntryUnreadable(unreadable)

    def _clear_alerts(self, uow: AuditLogUnitOfWork, size: int) -> None:
        """Integration got past the entries alerted about: those alerts are over."""
        now = self.clock.now()
        for alert in uow.operator_alerts.clear_before(UNREADABLE_ALERT, size, now):
            uow.audit.record(_alert_entry("clear", alert), now)
        self._alerted = None

    def backlog(self) -> Backlog:
        """For monitoring: entries waiting outside a signed head pile up if integration
        stops (a missing operator key, a database that refuses writes, an entry that no
        longer reads)."""
        with self.uows(transaction=False) as uow:
            entries = uow.audit.size()
            latest = uow.tree.latest_head()
            alerts = uow.operator_alerts.listed(open_only=True)
        stopped = [a.audit_index for a in alerts
                   if a.kind == UNREADABLE_ALERT and a.audit_index is not None]
        stopped_at = min(stopped) if stopped else None
        if latest is None:
            return Backlog(entries, 0, None, stopped_at)
        age = self.clock.now().timestamp() - latest.head.timestamp / 1000
        return Backlog(entries, latest.head.tree_size, max(age, 0.0), stopped_at)

    def operator_alerts(self, reader: Principal, *, limit: int = 100) -> list[OperatorAlert]:
        """The operator's alerts, newest first (administrators)."""
        require_role(self.uows, self.clock, reader, {Role.ADMIN}, "operator_alert.list")
        with self.uows(transaction=False) as uow:
            return uow.operator_alerts.listed(limit=limit)

    def check_signer(self) -> None:
        """Raise ExchangeNotInitialised unless the operator's key can sign tree heads (once
        it has, this process knows: keys are kept once loaded)."""
        if not self._signer_ready:
            self._signature(b"readiness check")  # not a tree head: nothing to misuse
            self._signer_ready = True

    def _sign(self, head: TreeHead) -> SignedTreeHead:
        return SignedTreeHead(head, self._signature(head.payload()))

    def _signature(self, payload: bytes) -> str:
        try:
            return self.signer.sign_compact_for(self.operator_org, payload)
        except LookupError as exc:
            raise ExchangeNotInitialised(
                f"cannot sign tree heads: {exc}; set ONCEONLY_OPERATOR_ORG to the exchange "
                "operator's organisation, which needs a signing key") from exc

    def _seen(self, head: SignedTreeHead) -> SignedTreeHead:
        self._signed_size = max(self._signed_size, head.head.tree_size)
        return head


def _readable_run(pending: list[tuple[int, bytes | UnreadableEntry]]) -> list[bytes]:
    """The leaf hashes before the first unreadable entry."""
    run = []
    for _, leaf in pending:
        if isinstance(leaf, UnreadableEntry):
            break
        run.append(leaf)
    return run


def _alert_entry(action: str, alert: OperatorAlert) -> AuditEntry:
    return AuditEntry(f"operator_alert.{action}", "done", INTEGRATOR, None, reason=alert.kind,
                      detail={"alert": alert.id, "index": alert.audit_index})
