"""The exchange's witnesses: each new signed tree head is sent to them (C2SP tlog-witness)
with a consistency proof from the last head each cosigned, in the background, and their
cosignatures (C2SP tlog-cosignature) are kept with the head. A witness away holds nothing
up: the head waits for its cosignature, and the next head is sent when it is back.

At start, the exchange asks its witnesses for the newest head of its log they cosigned: a
log older than that (restored from an old backup, or rolled back by hand) or different
from it (forked) must not serve, and `check_current` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from onceonly.audit import merkle
from onceonly.audit.checkpoints import (
    MalformedCheckpoint,
    body_of,
    note,
    parse_note,
    request_body,
)
from onceonly.audit.heads import SignedTreeHead, b64
from onceonly.crypto.cosignatures import (
    CosignatureInvalid,
    read_signature_line,
    verify_cosignature,
)
from onceonly.services.ports.audit import HeadsWaiting
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.ports.witnesses import (
    Cosignature,
    WitnessConflict,
    WitnessEndpoint,
    WitnessesUnitOfWork,
    WitnessRefusedHead,
    WitnessUnavailable,
)

log = structlog.get_logger("onceonly.witnesses")


class LogBehindWitness(RuntimeError):
    """A witness cosigned a newer head of this log than the log has, or another head of
    the same size: the log was rolled back or forked. The message says which and how."""


class CosigningFailed(RuntimeError):
    """Some witnesses did not cosign the latest head; the message says why each."""


@dataclass(frozen=True, slots=True)
class WitnessView:
    """What a witness says it cosigned last of this log."""

    witness: str
    tree_size: int
    root_hash: bytes
    timestamp: int


class WitnessesService:
    def __init__(self, uows: UnitOfWorkFactory[WitnessesUnitOfWork], clock: Clock,
                 origin: str, endpoints: Sequence[WitnessEndpoint]) -> None:
        self.uows = uows
        self.clock = clock
        self.origin = origin
        self.endpoints = list(endpoints)

    @property
    def configured(self) -> bool:
        return bool(self.endpoints)

    def checkpoint_body(self, head: SignedTreeHead) -> bytes:
        """The head as a C2SP checkpoint body: what witnesses cosign."""
        return body_of(self.origin, head.head.tree_size, head.head.root_hash)

    def checkpoint(self, head: SignedTreeHead) -> bytes:
        """The head as a checkpoint note, signed by the log's JWS."""
        return note(self.origin, head.head.tree_size, head.head.root_hash,
                    [(self.origin, head.signature)])

    def send_latest(self) -> bool:
        """Send the latest head to each witness that has not cosigned it. Raises
        CosigningFailed naming those that did not (the next call tries again), and
        LogBehindWitness if a witness has cosigned more of this log than it holds."""
        if not self.endpoints:
            return False
        with self.uows(transaction=False) as uow:
            head = uow.tree.latest_head()
            if head is None:
                return False
            have = {c.witness for c in uow.cosignatures.of(head.head.tree_size)}
        failures = []
        for endpoint in self.endpoints:
            if endpoint.witness.name in have:
                continue
            try:
                self._send(endpoint, head)
            except (WitnessUnavailable, WitnessRefusedHead, CosignatureInvalid) as exc:
                failures.append(str(exc))
        if failures:
            raise CosigningFailed(f"the head of {head.head.tree_size} entries lacks "
                                  f"cosignatures: {'; '.join(failures)}")
        return False

    def _send(self, endpoint: WitnessEndpoint, head: SignedTreeHead) -> None:
        name = endpoint.witness.name
        size = head.head.tree_size
        with self.uows(transaction=False) as uow:
            old = uow.cosignatures.latest_size(name) or 0
        for _ in range(2):  # once more from the size the witness says it holds
            try:
                lines = endpoint.add_checkpoint(
                    request_body(old, self._proof(old, size), self.checkpoint(head)))
                break
            except WitnessConflict as conflict:
                if conflict.size > size:
                    raise LogBehindWitness(
                        f"witness {name} has cosigned {conflict.size} entries of "
                        f"{self.origin}, and its latest head has {size}: the log was rolled "
                        "back") from None
                old = conflict.size
        else:
            raise WitnessRefusedHead(f"{name} refused the head of {size} entries twice")
        self._keep(endpoint, head, lines)

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old == 0 or old >= size:
            return []
        with self.uows(transaction=False) as uow:
            return merkle.consistency_proof(old, size, uow.tree.read)

    def _keep(self, endpoint: WitnessEndpoint, head: SignedTreeHead, lines: str) -> None:
        witness = endpoint.witness
        body = self.checkpoint_body(head)
        for line in lines.splitlines():
            signature = read_signature_line(witness, line)
            if signature is None:
                continue  # C2SP: lines of unknown keys are ignored
            timestamp = verify_cosignature(witness, body, signature)
            with self.uows(write=True) as uow:
                if not any(c.witness == witness.name
                           for c in uow.cosignatures.of(head.head.tree_size)):
                    uow.cosignatures.add(Cosignature(head.head.tree_size, witness.name,
                                                     timestamp, signature))
                    uow.commit()
            return
        raise CosignatureInvalid(f"{witness.name} answered with no cosignature of its key")

    def close(self) -> None:
        for endpoint in self.endpoints:
            endpoint.close()

    def backlog(self) -> HeadsWaiting:
        """The heads some witness has not cosigned (newer than the smallest of the heads
        each witness cosigned last), and how long the oldest has waited (the operator's
        readiness figure; 0 heads when no witness is configured)."""
        if not self.endpoints:
            return HeadsWaiting(0, None)
        with self.uows(transaction=False) as uow:
            sizes = [uow.cosignatures.latest_size(e.witness.name) for e in self.endpoints]
            after = uow.tree.heads_after(min(-1 if size is None else size for size in sizes))
        return after.waiting(self.clock.now())

    def cosignatures(self, tree_size: int) -> list[Cosignature]:
        with self.uows(transaction=False) as uow:
            return uow.cosignatures.of(tree_size)

    # -- at start --------------------------------------------------------------------------

    def views(self) -> tuple[list[WitnessView], list[str]]:
        """What each witness cosigned last of this log, checked by its key; and why the
        others could not say (away, or an answer that does not verify)."""
        views, unknown = [], []
        for endpoint in self.endpoints:
            witness = endpoint.witness
            try:
                text = endpoint.checkpoint(self.origin)
                if text is None:
                    continue
                checkpoint = parse_note(text)
                if checkpoint.origin != self.origin:
                    raise MalformedCheckpoint(f"it names the log {checkpoint.origin!r}")
                signature = next((s for line in _lines(checkpoint.signatures)
                                  if (s := read_signature_line(witness, line)) is not None),
                                 None)
                if signature is None:
                    raise CosignatureInvalid("its answer carries no cosignature of its key")
                timestamp = verify_cosignature(witness, checkpoint.body, signature)
            except (WitnessUnavailable, MalformedCheckpoint, CosignatureInvalid) as exc:
                unknown.append(f"{witness.name}: {exc}")
                continue
            views.append(WitnessView(witness.name, checkpoint.tree_size, checkpoint.root_hash,
                                     timestamp))
        return views, unknown

    def check_current(self) -> list[str]:
        """Raise LogBehindWitness if a witness cosigned a head of this log newer than its
        latest, or one of a size it has with another root. Returns what could not be
        checked (witnesses away): the server starts, and says so."""
        views, unknown = self.views()
        with self.uows() as uow:
            latest = uow.tree.latest_head()
            size = latest.head.tree_size if latest else 0
            for view in views:
                if view.tree_size > size:
                    raise LogBehindWitness(
                        f"refusing to serve: witness {view.witness} cosigned {view.tree_size} "
                        f"entries of {self.origin} (at {_when(view.timestamp)}), and this log's "
                        f"latest signed head has {size}: the database was rolled back or "
                        "restored from an older copy. Restore the newest copy, or ask the "
                        "witnesses' operators.")
                if view.tree_size and merkle.root_at(view.tree_size,
                                                     uow.tree.read) != view.root_hash:
                    raise LogBehindWitness(
                        f"refusing to serve: witness {view.witness} cosigned a tree of "
                        f"{view.tree_size} entries with root {b64(view.root_hash)}, and this "
                        "log holds other entries at that size: the log was forked")
        for reason in unknown:
            log.warning("a witness could not say what it cosigned", reason=reason)
        return unknown


def _lines(signatures: tuple[tuple[str, str], ...]) -> list[str]:
    return [f"\u2014 {name} {signature}" for name, signature in signatures]



def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
