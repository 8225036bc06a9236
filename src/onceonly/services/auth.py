"""Who is calling: a bearer token becomes a principal, or a refusal with a reason."""

from __future__ import annotations

from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import forbidden, unauthenticated
from onceonly.domain.organisations import Principal, Role
from onceonly.services.audit import refuse
from onceonly.services.ports import AuditEntry, Clock, UnitOfWorkFactory

_REFUSALS = {
    "missing": ("token_missing", "send 'Authorization: Bearer <token>'"),
    "unknown": ("token_invalid", "the token is not one this exchange issued"),
    "expired": ("token_expired", "the token has expired; ask for a new one"),
    "revoked": ("token_revoked", "the token has been revoked"),
}


def authenticate(uows: UnitOfWorkFactory, clock: Clock, token: str | None) -> Principal:
    now = clock.now()
    digest = token_digest(token) if token else None
    state = "missing"
    if digest is not None:
        with uows() as uow:
            principal = uow.principals.by_token_digest(digest, now)
            if principal is not None:
                return principal
            state = uow.principals.token_state(digest, now)
    code, detail = _REFUSALS.get(state, _REFUSALS["unknown"])
    # Only a digest prefix: enough to correlate attempts, useless to replay.
    detail_seen = {"token_digest_prefix": digest[:12]} if digest else {}
    refuse(uows, clock, AuditEntry("auth", "deny", None, None, reason=code, detail=detail_seen),
           unauthenticated(code, detail))


def require_role(uows: UnitOfWorkFactory, clock: Clock, principal: Principal,
                 roles: set[Role], action: str) -> None:
    """Refuse (and audit) a principal whose role may not do `action`."""
    if principal.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        refuse(uows, clock,
               AuditEntry(action, "deny", principal.id, principal.org_id,
                          reason="role_not_allowed"),
               forbidden("role_not_allowed", f"{action} is for {allowed} roles only"))
