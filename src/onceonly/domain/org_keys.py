"""The public keys an organisation holds itself: what a registrable key is (an Ed25519
public JWK, never a private one), what it is for, who may manage it, and how it retires
with an overlap (a retired key still verifies until its `not_after`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from onceonly.domain.errors import conflict, forbidden, invalid
from onceonly.domain.organisations import Principal, Role

# The members of a JWK that carry private key material (RFC 7518 §6, RFC 8037 §2).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# A 32-byte Ed25519 public key in base64url without padding: 43 characters, the last
# carrying 2 bits of the key and 4 zero bits.
_X = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
MAX_OVERLAP = timedelta(days=90)
DEFAULT_OVERLAP = timedelta(days=7)


class KeyPurpose(StrEnum):
    SIGN = "sign"  # the organisation signs its requests with it (RFC 9421)
    VERIFY = "verify"  # what the organisation receives may be checked against it


def public_jwk(jwk: Any) -> dict[str, str]:
    """The Ed25519 public key a JWK holds, as {kty, crv, x}. A JWK with private members is
    refused with `private_key_refused` (its detail names no value of it)."""
    if not isinstance(jwk, Mapping):
        raise invalid("invalid_jwk", "a key must be a JWK: a JSON object")
    held = [member for member in PRIVATE_MEMBERS if member in jwk]
    if held:
        raise invalid("private_key_refused",
                      f"this JWK holds a private key (member {held[0]!r}); the exchange never "
                      "takes an organisation's private key: send the public key only "
                      "(kty, crv, x). Nothing was stored")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise invalid("unsupported_key", "only Ed25519 keys are taken: a JWK with "
                      "kty \"OKP\" and crv \"Ed25519\"")
    x = jwk.get("x")
    if not isinstance(x, str) or not _X.fullmatch(x):
        raise invalid("invalid_jwk", "the JWK's x must be the 32-byte public key in base64url "
                      "without padding (43 characters)")
    return {"kty": "OKP", "crv": "Ed25519", "x": x}


def purposes_of(values: Iterable[str]) -> frozenset[KeyPurpose]:
    """The purposes named (at least one, each `sign` or `verify`)."""
    found = set()
    for value in values:
        try:
            found.add(KeyPurpose(value))
        except ValueError:
            raise invalid("invalid_purpose", f"{value!r} is not a key purpose; "
                          "expected sign or verify") from None
    if not found:
        raise invalid("invalid_purpose", "a key needs a purpose: sign, verify or both")
    return frozenset(found)


def overlap_of(overlap: timedelta) -> timedelta:
    """How long a retired key goes on verifying: from none up to MAX_OVERLAP."""
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise invalid("invalid_overlap", f"the overlap must be between 0 and "
                      f"{MAX_OVERLAP.days} days")
    return overlap


def require_key_manager(actor: Principal, org_id: str) -> None:
    """Who registers and retires an organisation's keys: its data guardians and its own
    administrators, or the exchange's administrators."""
    if actor.role is Role.ADMIN:
        return
    if actor.org_id != org_id:
        raise forbidden("not_your_organisation",
                        f"only {org_id}'s own guardians manage its keys")
    if actor.role not in (Role.GUARDIAN, Role.ORG_ADMIN):
        raise forbidden("role_not_allowed",
                        f"only a data guardian or administrator of {org_id} manages its keys")


@dataclass(frozen=True, slots=True)
class OrgKey:
    kid: str  # the JWK thumbprint (RFC 7638)
    org_id: str
    jwk: Mapping[str, str]  # {kty, crv, x}
    purposes: frozenset[KeyPurpose]
    registered_at: datetime
    registered_by: str
    retired_at: datetime | None = None
    not_after: datetime | None = None  # set when retired: it verifies until then

    def usable_at(self, now: datetime) -> bool:
        return self.not_after is None or now < self.not_after

    def retire(self, now: datetime, overlap: timedelta) -> OrgKey:
        if self.retired_at is not None:
            raise conflict("key_retired", f"key {self.kid} was retired already")
        return replace(self, retired_at=now, not_after=now + overlap_of(overlap))

    def published(self) -> dict[str, Any]:
        """The key as the JWKS publishes it: the organisation holds its private half."""
        uses = sorted(p.value for p in self.purposes)
        return {**self.jwk, "kid": self.kid, "alg": "Ed25519", "use": "sig",
                "org": self.org_id, "hosted": False, "purposes": uses}
