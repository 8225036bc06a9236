"""Master keys from a key file: the demo's and the tests' stand-in for a KMS
(ports.MasterKeys; a production KMS adapter implements the same three methods).

The file is JSON, readable by its owner only (0600):

    {"format": "onceonly-master-keys/1", "current": "mk-...",
     "keys": [{"id": "mk-...", "created_at": "...", "key": "<base64 of 32 bytes>"}, ...]}

Keys are versioned: rotation appends a new key and makes it current, keeping the old ones
so that data keys they wrapped still unwrap (until re-wrapped). The file is replaced
atomically (write, fsync, rename), under an exclusive lock on `<file>.lock` so that two
rotations cannot lose each other's key. A process reads it again when it changes on disk
(checked when it asks for the current key) and whenever it meets a key id it does not know,
so servers keep working, and wrap new data keys with the new key, across a rotation made
by another process.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from onceonly.config import master_key_file
from onceonly.crypto import envelope as sealing
from onceonly.crypto.envelope import MasterKeyUnavailable

FORMAT = "onceonly-master-keys/1"


@dataclass(frozen=True)
class MasterKeyInfo:
    id: str
    created_at: str


@dataclass(frozen=True)
class _Ring:
    keys: dict[str, bytes]
    current: str
    info: list[MasterKeyInfo]


class FileMasterKeys:
    """ports.MasterKeys over a key file. `create=True` (the unconfigured default) makes the
    file, with one key, when a key is first wanted for wrapping and the file is missing;
    otherwise a missing file is an error. Unwrapping never makes one: a new file cannot
    hold the key that wrapped what is stored."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.create = create
        self._ring: _Ring | None = None
        self._seen: tuple[int, int, int] | None = None  # inode, mtime, size when read
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, db_url: str | URL, *, read_only: bool = False) -> FileMasterKeys:
        """ONCEONLY_MASTER_KEY_FILE, else the default beside the database (config/database.py),
        made when missing unless `read_only`."""
        path, configured = master_key_file(db_url)
        return cls(path, create=not (configured or read_only))

    # --- ports.MasterKeys ------------------------------------------------------------

    def current_id(self) -> str:
        return self._refresh().current

    def wrap(self, key_id: str, data_key: bytes, context: Mapping[str, str]) -> bytes:
        return sealing.wrap_key(self._key(key_id), data_key, _bound(key_id, context))

    def unwrap(self, key_id: str, wrapped: bytes, context: Mapping[str, str]) -> bytes:
        return sealing.unwrap_key(self._key(key_id), wrapped, _bound(key_id, context))

    # --- administration --------------------------------------------------------------

    def check(self) -> None:
        """Read the file now (making the default one if it may): MasterKeyUnavailable if
        it is missing, unreadable or not a key file."""
        self._refresh()

    def held(self) -> list[MasterKeyInfo]:
        """The master keys in the file, oldest first (ids and dates, never the keys)."""
        return list(self._refresh().info)

    def rotate(self) -> str:
        """Add a new master key to the file and make it current; return its id."""
        self._refresh()  # a missing default file is made first; a missing configured one fails
        with _locked(self.path):
            ring = _read(self.path)[0]
            key_id = _new_id(ring.keys)
            entries = [{"id": i.id, "created_at": i.created_at, "key": _b64(ring.keys[i.id])}
                       for i in ring.info]
            entries.append({"id": key_id, "created_at": _now(), "key": _b64(sealing.new_key())})
            _replace(self.path, {"format": FORMAT, "current": key_id, "keys": entries})
        self._refresh(force=True)
        return key_id

    # --- inside ----------------------------------------------------------------------

    def _key(self, key_id: str) -> bytes:
        ring = self._ring or self._refresh(may_create=False)
        if key_id not in ring.keys:  # rotated by another process since we last looked?
            ring = self._refresh(force=True, may_create=False)
        try:
            return ring.keys[key_id]
        except KeyError:
            raise MasterKeyUnavailable(
                f"master key {key_id} is not in the master key file {self.path}: is "
                "ONCEONLY_MASTER_KEY_FILE the key file this database was set up with?"
            ) from None

    def _refresh(self, force: bool = False, *, may_create: bool = True) -> _Ring:
        with self._lock:
            try:
                seen = _signature(os.stat(self.path))
            except FileNotFoundError:
                if not (self.create and may_create):
                    raise MasterKeyUnavailable(
                        f"the master key file {self.path} does not exist: make one with "
                        "`onceonly keys init`, or set ONCEONLY_MASTER_KEY_FILE to the "
                        "right file") from None
                create_key_file(self.path, exist_ok=True)
                seen = None
            except OSError as exc:
                raise MasterKeyUnavailable(f"cannot read the master key file {self.path}: "
                                           f"{exc.strerror or exc}") from None
            if force or self._ring is None or seen != self._seen:
                self._ring, self._seen = _read(self.path)
            return self._ring


def create_key_file(path: Path, *, exist_ok: bool = False) -> str:
    """Make a key file with one new master key (0600); return the key's id. An existing
    file is kept as it is (`exist_ok`) or is an error: keys are never overwritten."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key_id = _new_id({})
        document = {"format": FORMAT, "current": key_id, "keys": [
            {"id": key_id, "created_at": _now(), "key": _b64(sealing.new_key())}]}
        temporary = _write_private(path.parent, document)
        try:
            os.link(temporary, path)  # atomic, and fails if someone made it meanwhile
        except FileExistsError:
            if not exist_ok:
                raise MasterKeyUnavailable(
                    f"the master key file {path} already exists; it is left as it is "
                    "(to add a key: `onceonly keys rotate`)") from None
        finally:
            os.unlink(temporary)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise MasterKeyUnavailable(f"cannot create the master key file {path}: "
                                   f"{exc.strerror or exc}") from None
    return key_id


def _bound(key_id: str, context: Mapping[str, str]) -> dict[str, str]:
    """The wrap is bound to the master key's id as well as to the caller's context."""
    return {**sealing.check_context(context), "master_key": key_id}


def _read(path: Path) -> tuple[_Ring, tuple[int, int, int]]:
    try:
        with path.open("rb") as file:
            seen = _signature(os.fstat(file.fileno()))
            raw = file.read()
    except OSError as exc:
        raise MasterKeyUnavailable(f"cannot read the master key file {path}: "
                                   f"{exc.strerror or exc}") from None

    def bad(why: str) -> MasterKeyUnavailable:
        return MasterKeyUnavailable(f"the master key file {path} is not valid: {why}")

    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise bad(f'expected a JSON object with "format": "{FORMAT}"')
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise bad('"keys" must be a non-empty list')
    keys: dict[str, bytes] = {}
    info: list[MasterKeyInfo] = []
    for n, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(
                isinstance(entry.get(name), str) and entry[name]
                for name in ("id", "created_at", "key")):
            raise bad(f'key {n} needs "id", "created_at" and "key" (text)')
        if entry["id"] in keys:
            raise bad(f"key id {entry['id']} appears twice")
        try:
            material = base64.b64decode(entry["key"], validate=True)
        except (binascii.Error, ValueError):
            raise bad(f"key {entry['id']} is not base64") from None
        if len(material) != sealing.KEY_BYTES:
            raise bad(f"key {entry['id']} is {len(material)} bytes, not {sealing.KEY_BYTES}")
        keys[entry["id"]] = material
        info.append(MasterKeyInfo(entry["id"], entry["created_at"]))
    current = document.get("current")
    if current not in keys:
        raise bad(f'"current" ({current!r}) names none of its keys')
    return _Ring(keys, current, info), seen


def _replace(path: Path, document: dict[str, Any]) -> None:
    temporary = _write_private(path.parent, document)
    try:
        os.replace(temporary, path)
    except OSError:
        os.unlink(temporary)
        raise
    _fsync_dir(path.parent)


def _write_private(folder: Path, document: dict[str, Any]) -> str:
    """The document in a new file in `folder`, mode 0600, flushed to disk; returns its path."""
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".master-keys-", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(json.dumps(document, indent=2).encode() + b"\n")
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    descriptor = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _signature(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _new_id(taken: Mapping[str, object]) -> str:
    while (key_id := "mk-" + secrets.token_hex(8)) in taken:
        pass
    return key_id


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
