"""An organisation's own public keys: registered, rotated and retired by its guardians."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from onceonly.domain.org_keys import DEFAULT_OVERLAP, MAX_OVERLAP, OrgKey
from onceonly.entrypoints.api.schemas.common import Strict
from onceonly.services.org_keys import OrganisationKeys

Kid = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                           description="the key's RFC 7638 thumbprint")]
OverlapHours = Annotated[int, Field(ge=0, le=MAX_OVERLAP.days * 24,
                                    description="how many hours the retired key still verifies")]
DEFAULT_HOURS = int(DEFAULT_OVERLAP.total_seconds() // 3600)


class KeyIn(Strict):
    jwk: dict[str, Any] = Field(description="the public key: an Ed25519 JWK (kty OKP, crv "
                                "Ed25519, x). Never the private key: a JWK with `d` is refused "
                                "(private_key_refused) and not stored")
    purposes: list[Literal["sign", "verify"]] = Field(
        min_length=1, max_length=2, description="sign: the organisation signs its requests "
        "with it (RFC 9421); verify: what it receives may be checked against it")
    replaces: Kid | None = Field(None, description="a rotation: the registered key this one "
                                 "replaces, retired in the same step")
    overlap_hours: OverlapHours = DEFAULT_HOURS


class RetireIn(Strict):
    overlap_hours: OverlapHours = DEFAULT_HOURS


class KeyOut(BaseModel):
    kid: str
    org: str
    jwk: dict[str, str]
    purposes: list[str]
    registered_at: datetime
    registered_by: str
    retired_at: datetime | None
    not_after: datetime | None = Field(description="a retired key verifies until then")

    @classmethod
    def of(cls, key: OrgKey) -> KeyOut:
        return cls(kid=key.kid, org=key.org_id, jwk=dict(key.jwk),
                   purposes=sorted(p.value for p in key.purposes),
                   registered_at=key.registered_at, registered_by=key.registered_by,
                   retired_at=key.retired_at, not_after=key.not_after)


class HostedKeyOut(BaseModel):
    kid: str
    active: bool


class OrganisationKeysOut(BaseModel):
    org: str
    registered: list[KeyOut] = Field(description="keys the organisation holds itself")
    hosted: list[HostedKeyOut] = Field(description="keys the exchange holds for it")

    @classmethod
    def of(cls, keys: OrganisationKeys) -> OrganisationKeysOut:
        return cls(org=keys.org_id, registered=[KeyOut.of(k) for k in keys.registered],
                   hosted=[HostedKeyOut(kid=kid, active=active) for kid, active in keys.hosted])
