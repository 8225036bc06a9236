"""Web sign-in for the demo's citizens: an account with a fresh password for each citizen
principal the demo made (the password is printed for the browser, never typed in a shell)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from onceonly.bootstrap import Exchange
from onceonly.demo.seed import World
from onceonly.domain.organisations import Role


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
        assert principal.person_key is not None, "a citizen acts for one person"
        login, password = account.label.replace(":", "-").lower(), new_password()
        exchange.accounts.open_account(login, password, person_key=principal.person_key,
                                               principal=principal)
        logins.append(CitizenLogin(account.label, login, password,
                                   world.citizen_ids.get("name", principal.name)))
    return logins
