"""This exchange as a witness of other logs (C2SP tlog-witness): it keeps the latest head it
cosigned of each log it watches, and cosigns a new head (C2SP tlog-cosignature) only once a
consistency proof shows that it extends that one. A log that goes backwards or forks is
refused: the refusal is entered in this exchange's own audit log, and its operator alerted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onceonly.audit import merkle
from onceonly.audit.checkpoints import (
    AddCheckpoint,
    MalformedCheckpoint,
    body_of,
    note,
    parse_request,
)
from onceonly.audit.entries import AuditEntry
from onceonly.audit.heads import b64, verify_tree_head
from onceonly.crypto.cosignatures import Witness, cosign, signature_line
from onceonly.crypto.signing import SignatureInvalid, verify_compact
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.ports.witness import Checkpoint, WitnessUnitOfWork

log = structlog.get_logger("onceonly.witness")

ROLLED_BACK = "log_rolled_back"
FORKED = "log_forked"
ALERTS = {ROLLED_BACK: "witness_log_rolled_back", FORKED: "witness_log_forked"}


@dataclass(frozen=True, slots=True)
class WatchedLog:
    """A log this witness watches: its origin line and whose keys sign its heads."""

    origin: str
    jwks: Mapping[str, Any]
    log_org: str


class WitnessRefused(Exception):
    """tlog-witness's answers other than a cosignature: the HTTP status it names, a code,
    why; `size` (409 only) the size of the latest checkpoint cosigned."""

    def __init__(self, status: int, code: str, detail: str, size: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.size = size


class WitnessNotEnabled(RuntimeError):
    """This exchange is not configured as a witness (ONCEONLY_WITNESS_KEY_FILE)."""


class WitnessService:
    def __init__(self, uows: UnitOfWorkFactory[WitnessUnitOfWork], clock: Clock, name: str,
                 key: Callable[[], Ed25519PrivateKey] | None,
                 logs: Mapping[str, WatchedLog]) -> None:
        """`key`: the witness's Ed25519 key, read when first needed; None: not a witness."""
        self.uows = uows
        self.clock = clock
        self.name = name
        self._key = key
        self.logs = dict(logs)

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def _private(self) -> Ed25519PrivateKey:
        if self._key is None:
            raise WitnessNotEnabled("this exchange is not a witness: set "
                                    "ONCEONLY_WITNESS_KEY_FILE and ONCEONLY_WITNESS_LOGS")
        return self._key()

    @property
    def identity(self) -> Witness:
        return Witness(self.name, self._private().public_key())

    def add_checkpoint(self, body: bytes) -> str:
        """tlog-witness `add-checkpoint`: the cosignature line, or WitnessRefused."""
        self._private()
        try:
            request = parse_request(body)
        except MalformedCheckpoint as exc:
            raise WitnessRefused(400, "malformed_request", str(exc)) from None
        watched = self.logs.get(request.checkpoint.origin)
        if watched is None:
            raise self._refused(request, 404, "unknown_log",
                                f"this witness watches no log {request.checkpoint.origin!r}")
        self._check_signature(request, watched)
        checkpoint = request.checkpoint
        if request.old_size > checkpoint.tree_size:
            raise self._refused(request, 400, "old_size_beyond_checkpoint",
                                f"old size {request.old_size} is beyond the checkpoint's "
                                f"{checkpoint.tree_size} entries")
        with self.uows(write=True) as uow:
            uow.witness_checkpoints.lock(checkpoint.origin)
            stored = uow.witness_checkpoints.get(checkpoint.origin)
            self._check_against(request, stored)
            now = self.clock.now()
            uow.witness_checkpoints.save(Checkpoint(checkpoint.origin, checkpoint.tree_size,
                                                    checkpoint.root_hash, now))
            uow.commit()
        return self._cosignature(checkpoint.body)

    def _check_signature(self, request: AddCheckpoint, watched: WatchedLog) -> None:
        checkpoint = request.checkpoint
        for jws in checkpoint.signed_by(checkpoint.origin):
            try:
                payload, _kid = verify_compact(jws, dict(watched.jwks), watched.log_org)
                head = verify_tree_head({**_json(payload), "signature": jws},
                                        dict(watched.jwks), watched.log_org).head
            except (SignatureInvalid, ValueError):
                continue
            if (head.tree_size, head.root_hash) == (checkpoint.tree_size,
                                                    checkpoint.root_hash):
                return
        raise self._refused(request, 403, "checkpoint_not_signed",
                            f"no signature of {checkpoint.origin}'s operator "
                            f"({watched.log_org}) on the checkpoint verifies")

    # long: tlog-witness's checks in the order it names them, one refusal each
    def _check_against(self, request: AddCheckpoint, stored: Checkpoint | None) -> None:
        checkpoint = request.checkpoint
        size, root = checkpoint.tree_size, checkpoint.root_hash
        cosigned = stored.tree_size if stored else 0
        if stored is not None and size < stored.tree_size:
            raise self._refused(
                request, 409, ROLLED_BACK,
                f"{checkpoint.origin} went backwards: it presents {size} entries, and this "
                f"witness cosigned {stored.tree_size} ({b64(stored.root_hash)})",
                size=cosigned)
        if request.old_size != cosigned:
            raise self._refused(request, 409, "old_size_mismatch",
                                f"the latest checkpoint cosigned has {cosigned} entries, not "
                                f"{request.old_size}", size=cosigned)
        if stored is not None and size == stored.tree_size:
            if root != stored.root_hash:
                raise self._refused(
                    request, 409, FORKED,
                    f"{checkpoint.origin} forked: two roots for {size} entries, "
                    f"{b64(root)} now and {b64(stored.root_hash)} cosigned", size=cosigned)
            return
        if stored is None or stored.tree_size == 0:
            if request.proof:
                raise self._refused(request, 422, "proof_not_empty",
                                    "the proof from an old size of 0 must be empty")
            return
        if not merkle.verify_consistency(stored.tree_size, size, stored.root_hash, root,
                                         list(request.proof)):
            raise self._refused(
                request, 422, FORKED,
                f"{checkpoint.origin} forked: its tree of {size} entries does not extend the "
                f"{stored.tree_size} this witness cosigned ({b64(stored.root_hash)})")

    def _refused(self, request: AddCheckpoint, status: int, code: str, detail: str,
                 size: int | None = None) -> WitnessRefused:
        """The refusal, entered in this exchange's own log (alerting its operator if the
        log went backwards or forked)."""
        checkpoint = request.checkpoint
        now = self.clock.now()
        entry = AuditEntry("witness.cosign", "deny", self.name, None, reason=code,
                           detail={"origin": checkpoint.origin,
                                   "tree_size": checkpoint.tree_size,
                                   "root_hash": b64(checkpoint.root_hash),
                                   "old_size": request.old_size, "detail": detail})
        with self.uows(write=True) as uow:
            uow.audit.record(entry, now)
            if code in ALERTS:
                uow.operator_alerts.raise_once(ALERTS[code], checkpoint.tree_size, detail, now)
            uow.commit()
        if code in ALERTS:
            log.error("witnessed log misbehaved", origin=checkpoint.origin, code=code,
                      detail=detail)
        return WitnessRefused(status, code, detail, size)

    def _cosignature(self, body: bytes) -> str:
        key = self._private()
        signature = cosign(key, body, int(self.clock.now().timestamp()))
        return signature_line(Witness(self.name, key.public_key()), signature)

    def checkpoint(self, origin: str) -> bytes:
        """The latest checkpoint cosigned of `origin`, as a note with this witness's
        cosignature made now (it still holds: it is the largest seen): how a log learns,
        after a restore, that it is behind what it showed the world."""
        self._private()
        with self.uows(transaction=False) as uow:
            stored = uow.witness_checkpoints.get(origin)
        if stored is None:
            raise WitnessRefused(404, "no_checkpoint",
                                 f"this witness has cosigned no checkpoint of {origin!r}")
        line = self._cosignature(body_of(stored.origin, stored.tree_size, stored.root_hash))
        name, signature = line.rstrip("\n").split(" ")[1:]
        return note(stored.origin, stored.tree_size, stored.root_hash, [(name, signature)])

    def checkpoints(self) -> list[Checkpoint]:
        with self.uows(transaction=False) as uow:
            return uow.witness_checkpoints.listed()


def _json(payload: bytes) -> dict[str, Any]:
    value = json.loads(payload)
    if not isinstance(value, dict):
        raise ValueError("the payload is not a JSON object")
    return value
