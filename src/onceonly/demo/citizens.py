"""Web sign-in for the demo's citizens: an account with a fresh password for each citizen
principal the demo made (the password is printed for the browser, never typed in a shell)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import Exchange
from onceonly.demo.seed import World
from onceonly.domain.organisations import Principal, Role


@dataclass(frozen=True)
class CitizenLogin:
    label: str  # the demo account's label ("citizen")
    login: str
    password: str
    name: str  # the synthetic person's name


def new_password() -> str:
    """About 100 bits, in groups that are easy to copy."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def open_citizen_accounts(exchange: Exchange, world: World) -> list[CitizenLogin]:
    with exchange.uows() as uow:
        open_already = {a.principal.id for a in world.accounts
                        if uow.accounts.by_principal(a.principal.id) is not None}
    logins = []
    for account in world.accounts:
        if account.principal.role is not Role.CITIZEN or account.principal.id in open_already:
            continue
        principal = account.principal
        if principal.person_key is None:  # the demo binds its citizen after the population
            principal = _with_person(exchange, principal.id)
        login, password = account.label.replace(":", "-").lower(), new_password()
        exchange.accounts.open_account(login, password, person_key=principal.person_key,
                                               principal=principal)
        logins.append(CitizenLogin(account.label, login, password,
                                   world.citizen_ids.get("name", principal.name)))
    return logins


def _with_person(exchange: Exchange, principal_id: str) -> Principal:
    with exchange.engine.connect() as conn:
        row = conn.execute(select(t.principals).where(t.principals.c.id == principal_id)).one()
    return Principal(row.id, row.name, row.org_id, Role(row.role), row.person_key)
