"""Single sign-on rules: what an organisation's OpenID provider registration must say, and
who a provider's verified claims make of the person signing in.

An organisation registers its provider (issuer, client id, how the exchange authenticates
to it) and a mapping of its claims: which claim names the person, and which claim's values
give which staff role. The ID token is verified before these rules see its claims (the
adapter checks signature, issuer, audience, expiry and nonce); these rules then decide
whether its claims make one of the organisation's staff, and in which role.

Pure: no I/O; the service applies them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from onceonly.domain.errors import DomainError, forbidden, invalid
from onceonly.domain.organisations import Role

# The staff roles a provider's claims may give: a citizen signs in through One Login, and
# the exchange's own administrators are never made by an organisation's provider.
MAPPABLE_ROLES = frozenset({Role.OFFICER, Role.GUARDIAN, Role.MANAGER, Role.ORG_ADMIN})
# When one person's claims map to several roles, the one with the fewest powers is given:
# a provider that says too much must not widen anyone's access.
ROLE_ORDER = (Role.OFFICER, Role.MANAGER, Role.GUARDIAN, Role.ORG_ADMIN)
_CLAIM_NAME = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
_SECRET_REF = re.compile(r"^(env:[A-Z_][A-Z0-9_]{0,63}|file:/.+)$")


class ClientAuth(StrEnum):
    """How the exchange authenticates itself at the provider's token endpoint."""

    PRIVATE_KEY_JWT = "private_key_jwt"  # a JWT signed by the exchange's key (preferred)
    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"


@dataclass(frozen=True, slots=True)
class IdentityProvider:
    """An organisation's registered OpenID provider.

    `secret`: where the client secret or the private key (a PEM or JWK file) is read from,
    `env:NAME` or `file:/path`: the registration never holds the secret itself.
    `roles`: a value of `roles_claim` to the role it gives. `org_claim`: a claim naming the
    person's organisation, where several organisations share one provider; its value must
    then be this organisation's id."""

    org_id: str
    issuer: str
    client_id: str
    client_auth: ClientAuth
    secret: str
    person_claim: str = "sub"
    name_claim: str = "name"
    roles_claim: str = "groups"
    roles: Mapping[str, Role] = field(default_factory=dict)
    org_claim: str | None = None
    scopes: tuple[str, ...] = ("openid", "profile")

    def __post_init__(self) -> None:
        check_issuer(self.issuer)
        if not self.client_id.strip() or len(self.client_id) > 200:
            raise invalid("invalid_client_id", "a client id is 1 to 200 characters")
        if not _SECRET_REF.match(self.secret):
            raise invalid("invalid_secret_reference",
                          "say where the secret is read from: env:NAME (an environment "
                          "variable) or file:/path (a file); never the secret itself")
        for name in (self.person_claim, self.name_claim, self.roles_claim,
                     *([self.org_claim] if self.org_claim is not None else [])):
            if not _CLAIM_NAME.match(name):
                raise invalid("invalid_claim_name", f"{name!r} is not a claim name")
        if not self.roles:
            raise invalid("no_role_mapping",
                          "map at least one value of the roles claim to a role")
        for value, role in self.roles.items():
            if role not in MAPPABLE_ROLES:
                names = ", ".join(sorted(r.value for r in MAPPABLE_ROLES))
                raise invalid("role_not_mappable",
                              f"{value!r} maps to {role.value}; a provider gives {names}")
        if "openid" not in self.scopes:
            raise invalid("openid_scope_missing", "the scopes must include openid")


def check_issuer(issuer: str) -> str:
    """An issuer is an https URL without query or fragment (plain http on this machine only,
    for a locally run provider)."""
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.query \
            or parts.fragment:
        raise invalid("invalid_issuer", f"{issuer!r} is not an issuer: an https URL "
                                        "without query or fragment")
    return issuer


def parse_role_mapping(pairs: list[str]) -> dict[str, Role]:
    """`VALUE=ROLE` pairs, as typed at the command line."""
    mapping: dict[str, Role] = {}
    for pair in pairs:
        value, sep, role = pair.rpartition("=")
        if not sep or not value:
            raise invalid("invalid_role_mapping", f"{pair!r} is not VALUE=ROLE")
        try:
            mapping[value] = Role(role)
        except ValueError:
            raise invalid("invalid_role_mapping", f"{role!r} is not a role") from None
    return mapping


@dataclass(frozen=True, slots=True)
class StaffClaims:
    """Who a provider's verified claims make of the person: their id at the provider, their
    name, and the role the mapping gives them."""

    person: str
    name: str
    role: Role


def _values(claim: Any) -> list[str]:
    if isinstance(claim, str):
        return [claim]
    if isinstance(claim, list):
        return [v for v in claim if isinstance(v, str)]
    return []


def staff_from_claims(provider: IdentityProvider, claims: Mapping[str, Any]) -> StaffClaims:
    """The person the claims name, and their role; refused (with words the person reads)
    when the claims name nobody, belong to another organisation, or give no role."""
    person = claims.get(provider.person_claim)
    if not isinstance(person, str) or not person.strip():
        raise forbidden("no_person_claim",
                        f"Your organisation's sign-in service did not say who you are (no "
                        f"{provider.person_claim!r} claim). Ask its administrator.")
    if provider.org_claim is not None:
        theirs = claims.get(provider.org_claim)
        if theirs != provider.org_id:
            raise other_organisation(provider.org_id)
    given = {provider.roles[v] for v in _values(claims.get(provider.roles_claim))
             if v in provider.roles}
    if not given:
        raise forbidden("no_mapped_role",
                        "You signed in, but your organisation has not given you a role in "
                        "this exchange. Ask your organisation's administrator to add you "
                        "to one of its groups for this service.")
    role = next(r for r in ROLE_ORDER if r in given)
    name = claims.get(provider.name_claim)
    return StaffClaims(person, name if isinstance(name, str) and name.strip() else person,
                       role)


def other_organisation(org_id: str) -> DomainError:
    return forbidden("other_organisation",
                     f"You signed in as someone of another organisation than {org_id}. "
                     "Choose your own organisation on the sign-in page.")


# -- citizens, through GOV.UK One Login ------------------------------------------------------

# The identity claim One Login returns at P2: a JWT whose `vc.credentialSubject` holds the
# names (each of parts) and birth dates its checks proved, the current first.
IDENTITY_CLAIM = "https://vocab.account.gov.uk/v1/coreIdentityJWT"


@dataclass(frozen=True, slots=True)
class ProvenIdentity:
    full_name: str
    birth_date: date


def identity_from_claim(claims: Mapping[str, Any]) -> ProvenIdentity:
    """The name and date of birth the identity claim (its payload, verified) proves."""
    try:
        subject = claims["vc"]["credentialSubject"]
        parts = subject["name"][0]["nameParts"]
        given = " ".join(p["value"] for p in parts if p.get("type") == "GivenName")
        family = " ".join(p["value"] for p in parts if p.get("type") == "FamilyName")
        born = date.fromisoformat(subject["birthDate"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise forbidden("identity_unreadable",
                        "GOV.UK One Login's proof of your identity could not be read, so "
                        "your record could not be found. Nobody was signed in.") from None
    full_name = " ".join(filter(None, (given.strip(), family.strip())))
    if not full_name:
        raise forbidden("identity_unreadable",
                        "GOV.UK One Login's proof of your identity has no name in it, so "
                        "your record could not be found. Nobody was signed in.")
    return ProvenIdentity(full_name, born)


class CitizenLink(StrEnum):
    LINKED = "linked"  # linked at once: signed in
    QUEUED = "queued"  # waits for a member of staff to confirm
    UNKNOWN = "unknown"  # no one in the index is like them


AGREE = frozenset({"exact", "agree"})


def citizen_link(candidates: list[tuple[str, Mapping[str, str]]]) -> tuple[CitizenLink,
                                                                             str | None]:
    """Whether a citizen One Login proved is linked to a person of the index at once:
    only when one person alone is a candidate and their name and date of birth both agree
    exactly (One Login checked them against documents, in place of an identifier).
    `candidates`: (person key, how each field compared) of everyone the matcher found."""
    if not candidates:
        return CitizenLink.UNKNOWN, None
    person, compared = candidates[0]
    if len(candidates) == 1 and compared.get("full_name") in AGREE \
            and compared.get("date_of_birth") in AGREE:
        return CitizenLink.LINKED, person
    return CitizenLink.QUEUED, person
