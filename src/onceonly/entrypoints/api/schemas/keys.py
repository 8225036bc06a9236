"""Public keys: the organisations' JWKS and the keys webhooks are signed with."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JwkOut(BaseModel):
    kty: str = Field(description="OKP")
    crv: str = Field(description="Ed25519")
    x: str = Field(description="the public key, base64url")
    kid: str = Field(description="its RFC 7638 thumbprint, the `kid` of what it signs")
    alg: str = Field(description="Ed25519 (RFC 9864); signatures made before say EdDSA")
    use: str = Field(description="sig")
    org: str = Field(description="the organisation whose key it is: check it is the signer "
                                 "you expect")
    hosted: bool = Field(description="true: the exchange holds the private key on the "
                                     "organisation's behalf; false: the organisation holds it")
    purposes: list[str] | None = Field(None, description="a key the organisation registered: "
                                       "sign (its signed requests) and/or verify")


class JwksOut(BaseModel):
    keys: list[JwkOut]


class WebhookKeyOut(BaseModel):
    kid: str
    key: str = Field(description="Standard Webhooks public key: `whpk_` + base64 of the 32 "
                                 "raw Ed25519 bytes")


class WebhookKeysOut(BaseModel):
    org: str = Field(description="the exchange's operator, who signs every webhook")
    keys: list[WebhookKeyOut]
