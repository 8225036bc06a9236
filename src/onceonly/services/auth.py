"""Who is calling: a bearer token becomes a principal, or a refusal with a reason."""

from __future__ import annotations

from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import unauthenticated
from onceonly.domain.organisations import Principal
from onceonly.services.ports import AuditEntry, Clock, UnitOfWorkFactory

_REFUSALS = {
    "unknown": ("token_invalid", "the token is not one this exchange issued"),
    "expired": ("token_expired", "the token has expired; ask for a new one"),
    "revoked": ("token_revoked", "the token has been revoked"),
}


def authenticate(uows: UnitOfWorkFactory, clock: Clock, token: str | None) -> Principal:
    if not token:
        raise unauthenticated("token_missing", "send 'Authorization: Bearer <token>'")
    now = clock.now()
    digest = token_digest(token)
    with uows() as uow:
        principal = uow.principals.by_token_digest(digest, now)
        if principal is not None:
            return principal
        state = uow.principals.token_state(digest, now)
    code, detail = _REFUSALS.get(state, _REFUSALS["unknown"])
    with uows(write=True) as uow:
        # Only a digest prefix: enough to correlate attempts, useless to replay.
        uow.audit.record(
            AuditEntry("auth", "deny", None, None, reason=code,
                       detail={"token_digest_prefix": digest[:12]}),
            now,
        )
        uow.commit()
    raise unauthenticated(code, detail)
