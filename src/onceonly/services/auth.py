"""Who is calling: a bearer token becomes a principal, or a refusal with a reason; and the
entry points' one door to it (AuthService)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import DomainError, forbidden, unauthenticated
from onceonly.domain.organisations import Principal, Role, TokenHolder
from onceonly.services.ports.audit import AuditUnitOfWork
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.principals import PrincipalsUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import denial, refuse, refuse_as
from onceonly.services.request_signatures import (
    RequestVerifier,
    SignaturePolicy,
    SignedBy,
    SignedMessage,
    check_caller,
    refuse_signature,
)

_REFUSALS = {
    "missing": ("token_missing", "send 'Authorization: Bearer <token>'"),
    "unknown": ("token_invalid", "the token is not one this exchange issued"),
    "expired": ("token_expired", "the token has expired; ask for a new one"),
    "revoked": ("token_revoked", "the token has been revoked"),
    "disabled": ("principal_disabled", "the token's holder has been disabled"),
}
# The holder is known, and their organisation may not act: refused as forbidden.
_MEMBER_REFUSALS = {
    "member_suspended": ("member_suspended", "the token's organisation is suspended"),
    "member_deregistered": ("member_deregistered",
                            "the token's organisation has left this exchange"),
}


@dataclass(frozen=True, slots=True)
class AuthRefusal:
    """Why a token was refused: the audit entry to record and the error to raise."""

    entry: AuditEntry
    error: DomainError

    def audit_and_raise(self, uows: UnitOfWorkFactory[AuditUnitOfWork], clock: Clock) -> NoReturn:
        refuse(uows, clock, self.entry, self.error)


def identify(uow: PrincipalsUnitOfWork | None, token: str | None, now: datetime,
             holder_of: Callable[[str], TokenHolder | None] | None = None
             ) -> Principal | AuthRefusal:
    """The principal holding `token`, read within `uow` (a transaction the caller has open)
    or by `holder_of` (a query's, which may keep it while the standing version has not
    moved), or why it is refused. A revoked or expired token is refused on the very next
    request: its end is checked against `now` every time. Without a token nothing is read,
    and `uow` may be None."""
    digest = token_digest(token) if token else None
    state = "missing"
    if digest is not None:
        if holder_of is None:
            assert uow is not None
            holder_of = uow.principals.holder
        holder = holder_of(digest)
        state = "unknown" if holder is None else holder.state(now)
        if holder is not None and state == "live":
            return holder.principal
    # Only a digest prefix: enough to correlate attempts, useless to replay.
    detail_seen = {"token_digest_prefix": digest[:12]} if digest else {}
    if state in _MEMBER_REFUSALS:
        code, detail = _MEMBER_REFUSALS[state]
        return AuthRefusal(denial("auth", None, code, detail=detail_seen),
                           forbidden(code, detail))
    code, detail = _REFUSALS.get(state, _REFUSALS["unknown"])
    return AuthRefusal(denial("auth", None, code, detail=detail_seen),
                       unauthenticated(code, detail))


def authenticate(uows: UnitOfWorkFactory[PrincipalsUnitOfWork], clock: Clock,
                 token: str | None) -> Principal:
    now = clock.now()
    if token:
        with uows() as uow:
            found = identify(uow, token, now)
    else:
        found = identify(None, token, now)
    if isinstance(found, Principal):
        return found
    found.audit_and_raise(uows, clock)


def require_role(uows: UnitOfWorkFactory[AuditUnitOfWork], clock: Clock, principal: Principal,
                 roles: set[Role], action: str) -> None:
    """Refuse (and audit) a principal whose role may not do `action`."""
    if principal.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        refuse_as(uows, clock, action, principal,
                  forbidden("role_not_allowed", f"{action} is for {allowed} roles only"))


class AuthService:
    """Who is calling, as the entry points ask it, each refusal audited: a bearer token's
    holder, a role allowed an action, a signed request's signer (RFC 9421) and whether it
    may act for the caller."""

    def __init__(self, uows: UnitOfWorkFactory[PrincipalsUnitOfWork], clock: Clock,
                 verifier: RequestVerifier) -> None:
        self.uows = uows
        self.clock = clock
        self.verifier = verifier

    def authenticate(self, token: str | None) -> Principal:
        return authenticate(self.uows, self.clock, token)

    def require_role(self, principal: Principal, roles: set[Role], action: str) -> None:
        require_role(self.uows, self.clock, principal, roles, action)

    def verify_signature(self, msg: SignedMessage, body: bytes) -> SignedBy:
        return self.verifier.verify(self.uows, msg, body)

    def require_signature(self, detail: dict[str, Any]) -> NoReturn:
        """Refuse a request that came unsigned where every request must be signed."""
        refuse_signature(self.uows, self.clock, "signature_required", None, detail)

    def check_signer(self, policy: SignaturePolicy, signed: SignedBy | None,
                     caller: Principal) -> None:
        check_caller(self.uows, self.clock, policy, signed, caller.org_id, caller.id)
