"""Signed requests (RFC 9421): the signers' public keys and the nonces seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class VerificationKeys(Protocol):
    """Public signing keys of the organisations, for signed requests (RFC 9421)."""

    def public_key(self, kid: str) -> tuple[str, dict[str, Any]] | None:
        """The organisation holding the active signing key `kid` and its public JWK, or
        None. A kid's key never changes, so the answer may be kept; that the key is still
        active is checked afresh as its nonce is recorded (NonceStore.remember)."""
        ...


NONCE_NEW, NONCE_REPLAYED, KEY_RETIRED = "new", "replayed", "key_retired"


class NonceStore(Protocol):
    """Nonces of signed requests already seen, shared by every server process."""

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> str:
        """Record (kid, nonce) until `expires_at`, atomically, while `kid` is an active
        signing key: NONCE_NEW; NONCE_REPLAYED if the pair is there unexpired (two processes
        racing with the same pair: exactly one gets NONCE_NEW); KEY_RETIRED if the key no
        longer speaks for its organisation (nothing recorded)."""
        ...
