"""The master keys of encryption at rest, as the operator manages them: their status, their
rotation without downtime, and the start-up check that the private keys still decrypt.

The master keys are either a key file the exchange rotates itself (adapters/kms_file.py) or
a KMS, which rotates its own (a new key version made primary there); either way the data
keys are re-wrapped under the new master key when next used, or all at once on request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from onceonly.domain.errors import conflict
from onceonly.services.envelopes import Envelopes
from onceonly.services.ports.keys import HeldMasterKey, MasterKeyFile, MasterKeys, PrivateKeys

# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    current: str
    in_use: dict[str, int]  # master key id -> data keys it wraps
    plaintext: int  # private keys stored in plaintext
    key_file: Path | None = None  # None: a KMS holds the master keys
    held: Sequence[HeldMasterKey] = ()


@dataclass(frozen=True)
class NewMasterKey:
    id: str
    key_file: Path | None = None  # None: made in a KMS, not here
    held: int = 0  # keys in the file now


@dataclass(frozen=True)
class Resealed:
    sealed: int  # private keys found in plaintext, now encrypted
    rewrapped: int | None  # None unless asked to re-wrap now
    failed: list[tuple[str, str]] = field(default_factory=list)  # (data key id, why)
    waiting: int = 0  # data keys still wrapped by older master keys


class KeyService:
    def __init__(self, master_keys: MasterKeys, key_file: MasterKeyFile | None,
                 envelopes: Envelopes, private_keys: PrivateKeys, operator_org: str) -> None:
        self.master_keys = master_keys
        self.key_file = key_file
        self.envelopes = envelopes
        self.private_keys = private_keys
        self.operator_org = operator_org

    def status(self) -> KeyStatus:
        """The master keys (ids and dates, never keys), how many data keys each wraps, and
        how many private keys are still stored in plaintext."""
        in_use = self.envelopes.count_by_master()
        plaintext = self.private_keys.plaintext_count()
        if self.key_file is None:
            return KeyStatus(self.master_keys.current_id(), in_use, plaintext)
        self._check_key_file(in_use)
        held = self.key_file.held()
        return KeyStatus(self.key_file.current_id(), in_use, plaintext,
                         key_file=self.key_file.path, held=held)

    def rotate_master(self, *, rewrap_now: bool) -> NewMasterKey:
        """A new current master key: added to the key file, or (a KMS) the one made primary
        there, which only re-wrapping now can act on. Nothing is changed when the key file
        is not the one this database's data keys were wrapped with."""
        if self.key_file is None:
            if not rewrap_now:
                raise conflict("kms_rotates_itself", "the master keys are held by a KMS: make "
                               "a new key version primary there, then run `onceonly keys "
                               "rotate --rewrap-now`")
            return NewMasterKey(self.master_keys.current_id())
        in_use = self.envelopes.count_by_master()
        self._check_key_file(in_use)
        held = {key.id for key in self.key_file.held()}
        missing = sorted(set(in_use) - held)
        if missing:  # the wrong key file for this database: do not add to it
            raise conflict("wrong_key_file", f"the master key file {self.key_file.path} lacks "
                           f"{', '.join(missing)}, which wrap "
                           f"{sum(in_use[m] for m in missing)} data keys of this database: is "
                           "it the key file this database was set up with? Nothing was changed")
        return NewMasterKey(self.key_file.rotate(), self.key_file.path, len(held) + 1)

    def reseal(self, new_master: str, *, rewrap_now: bool) -> Resealed:
        """After a rotation: encrypt private keys left in plaintext, re-wrap every data key
        under `new_master` if asked to now, and count those still waiting."""
        sealed = self.private_keys.seal_plaintext()
        rewrapped, failed = None, []
        if rewrap_now:
            result = self.envelopes.rewrap_all()
            rewrapped, failed = result.rewrapped, result.failed
        waiting = sum(n for m, n in self.envelopes.count_by_master().items()
                      if m != new_master)
        return Resealed(sealed, rewrapped, failed, waiting)

    def check_private_keys(self) -> None:
        """Raise MasterKeyUnavailable or EnvelopeInvalid unless the operator's private key
        decrypts with the master keys: a server that cannot sign would answer every query
        with an error."""
        with contextlib.suppress(LookupError):  # no operator key yet: nothing to decrypt
            self.private_keys.sign_compact_for(self.operator_org, b"start-up check")

    def _check_key_file(self, in_use: dict[str, int]) -> None:
        """A default key file is made when first needed, but not in place of one this
        database's data keys were wrapped with."""
        assert self.key_file is not None
        path = self.key_file.path
        if in_use and not path.exists():
            raise conflict("key_file_missing", f"the master key file {path} does not exist, "
                           f"yet {sum(in_use.values())} data keys of this database are "
                           "wrapped by master keys in it: restore it, or set "
                           "ONCEONLY_MASTER_KEY_FILE to where it is. Nothing was changed")
