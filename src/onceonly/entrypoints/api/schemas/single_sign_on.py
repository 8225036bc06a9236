"""An organisation's identity provider: how its staff sign in to the portals."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from onceonly.domain.organisations import Role
from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider
from onceonly.entrypoints.api.schemas.common import Strict

ClaimName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/-]{1,100}$")]


class IdentityProviderIn(Strict):
    issuer: str = Field(max_length=300, description="the provider's issuer URL (https)")
    client_id: str = Field(min_length=1, max_length=200,
                           description="the exchange's client id at the provider")
    client_auth: ClientAuth = Field(ClientAuth.PRIVATE_KEY_JWT, description="how the "
                                    "exchange authenticates at the token endpoint")
    secret: str = Field(max_length=300, description="where the client secret or private "
                        "key is read from: env:NAME or file:/path; never the secret itself")
    person_claim: ClaimName = "sub"
    name_claim: ClaimName = "name"
    roles_claim: ClaimName = "groups"
    roles: dict[str, Role] = Field(min_length=1, max_length=50, description="a value of the "
                                   "roles claim to the role it gives (officer, guardian, "
                                   "manager or org_admin)")
    org_claim: ClaimName | None = Field(None, description="a claim naming the person's "
                                        "organisation, where organisations share a provider")
    scopes: list[Annotated[str, Field(pattern=r"^[\x21\x23-\x5B\x5D-\x7E]{1,64}$")]] = Field(
        ["openid", "profile"], min_length=1, max_length=10)

    def provider(self, org_id: str) -> IdentityProvider:
        return IdentityProvider(org_id, self.issuer, self.client_id, self.client_auth,
                                self.secret, self.person_claim, self.name_claim,
                                self.roles_claim, dict(self.roles), self.org_claim,
                                tuple(self.scopes))


class IdentityProviderOut(BaseModel):
    org: str
    issuer: str
    client_id: str
    client_auth: ClientAuth
    person_claim: str
    roles_claim: str
    roles: dict[str, Role]
    org_claim: str | None

    @classmethod
    def of(cls, provider: IdentityProvider) -> IdentityProviderOut:
        return cls(org=provider.org_id, issuer=provider.issuer, client_id=provider.client_id,
                   client_auth=provider.client_auth, person_claim=provider.person_claim,
                   roles_claim=provider.roles_claim, roles=dict(provider.roles),
                   org_claim=provider.org_claim)
