"""Issuing API tokens: a new principal for an organisation and role, and its token."""

from __future__ import annotations

import secrets
from datetime import timedelta

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.tokens import new_token, token_digest
from onceonly.domain.errors import forbidden, invalid, not_found
from onceonly.domain.organisations import Principal, Role, parse_org_id
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.principals import TokensUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing


def issue_token(uows: UnitOfWorkFactory[TokensUnitOfWork], clock: Clock, *, org_id: str, role: Role,
                name: str | None = None, person: str | None = None,
                days: int = 30, operator_org: str | None = None) -> tuple[Principal, str]:
    """Returns the principal and the token; only the token's digest is stored. The
    exchange's administrators are its operator's (`operator_org`): an admin token for any
    other organisation is refused, and audited."""
    with refusing(uows, clock, "token.issue", None,
                  detail={"org": org_id[:64], "role": role.value}):
        return _issue(uows, clock, org_id, role, name, person, days, operator_org)


# long: the checks of a token's holder, then the one transaction that makes them
def _issue(uows: UnitOfWorkFactory[TokensUnitOfWork], clock: Clock, org_id: str, role: Role,
           name: str | None, person: str | None, days: int,
           operator_org: str | None) -> tuple[Principal, str]:
    parse_org_id(org_id)
    if role is Role.ADMIN and org_id != operator_org:
        raise forbidden("admin_not_operator", (
            f"an exchange administrator acts for its operator ({operator_org or 'unknown'}), "
            f"not {org_id}; an organisation's own administrator is an org_admin"))
    if (role is Role.CITIZEN) != (person is not None):
        raise invalid("person_required",
                      "a citizen token names the person (SCHEME:VALUE), and only a citizen's")
    if not 1 <= days <= 366:
        raise invalid("invalid_expiry", "a token lives between 1 and 366 days")
    now = clock.now()
    with uows(write=True) as uow:
        if uow.catalogue.organisation(org_id) is None:
            raise not_found("unknown_organisation", f"no organisation {org_id} in this exchange")
        person_key = None
        if person is not None:
            scheme, _, value = person.partition(":")
            person_key = uow.people.person_key(scheme, value)
            if person_key is None:
                raise not_found("subject_unknown", f"no person with identifier {person}")
        slug = org_id.lower().replace("/", "_")
        principal = Principal(f"{slug}.{role.value}.{secrets.token_hex(4)}",
                              name or f"{role.value} at {org_id}", org_id, role, person_key)
        uow.principals.add(principal)
        token = new_token()
        uow.principals.add_token(token_digest(token), principal.id, now, now + timedelta(days=days))
        uow.audit.record(AuditEntry("token.issue", "done", None, org_id,
                                    detail={"principal": principal.id, "role": role.value,
                                            "days": days}), now)
        uow.commit()
    return principal, token
