"""The callers and agreements a server keeps in memory between governed queries, each kept
only as long as the standing version it was read under.

The database moves the version (triggers, in the changing transaction) on every change to
what a query reads of its caller or its agreement: a token issued or revoked, a person
disabled, a member suspended, training recorded, an agreement moved or changed, a kill
switch pulled. A query reads the version with the day's usage, then looks here: what was
read under that same version is still what the database holds, on every process. What was
read after the version (never before it) may be newer than its tag, never older, so a
change is seen on the first request that reads the version it moved to. Whatever depends
on the clock (a token's or an agreement's end) is decided again on every request.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

from onceonly.domain.organisations import TokenHolder, Training
from onceonly.services.ports.agreements import AgreementSource

K = TypeVar("K")
V = TypeVar("V")

# Past this many entries of one kind, a table starts again empty: random tokens sent by
# someone probing are not kept (only found ones are), but many callers may be.
LIMIT = 20_000


class _Kept(Generic[K, V]):
    """Values by key, all read under one version; a newer version empties it."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.values: dict[K, V] = {}


class StandingCache:
    """Thread-safe: the API's worker threads share one (a server database's queries run on
    them); each process has its own."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._holders: _Kept[str, TokenHolder] = _Kept()
        self._agreements: _Kept[int, AgreementSource] = _Kept()
        self._training: _Kept[str, Training | None] = _Kept()

    def holder(self, version: int | None, digest: str) -> TokenHolder | None:
        return self._found(self._holders, version, digest)[1]

    def keep_holder(self, version: int | None, digest: str, holder: TokenHolder) -> None:
        self._keep(self._holders, version, digest, holder)

    def has_agreement(self, agreement_id: int) -> bool:
        """Whether the agreement is kept under some version: worth reading the version now
        (with the day's usage) to ask `agreement` for it."""
        with self._lock:
            return agreement_id in self._agreements.values

    def agreement(self, version: int | None, agreement_id: int) -> AgreementSource | None:
        return self._found(self._agreements, version, agreement_id)[1]

    def keep_agreement(self, version: int | None, source: AgreementSource) -> None:
        assert source.agreement.id is not None
        self._keep(self._agreements, version, source.agreement.id, source)

    def training(self, version: int | None, principal_id: str
                 ) -> tuple[bool, Training | None]:
        """(whether known under `version`, the officer's training if any)."""
        return self._found(self._training, version, principal_id)

    def keep_training(self, version: int | None, principal_id: str,
                      training: Training | None) -> None:
        self._keep(self._training, version, principal_id, training)

    def _found(self, kept: _Kept[K, V], version: int | None, key: K) -> tuple[bool, V | None]:
        """(whether `key` is kept for `version`, its value). The one rule of staleness: a
        value serves only a request that read the very version it was kept under."""
        with self._lock:
            if version is None or kept.version != version or key not in kept.values:
                return False, None
            return True, kept.values[key]

    def _keep(self, kept: _Kept[K, V], version: int | None, key: K, value: V) -> None:
        if version is None:  # the store keeps no version: nothing may be kept
            return
        with self._lock:
            if kept.version is not None and version < kept.version:
                return  # read under an older version than another request has seen
            if version != kept.version or len(kept.values) >= self.limit:
                kept.version, kept.values = version, {}
            kept.values[key] = value
