"""`onceonly org idp ...`: an organisation's OpenID provider, through which its staff sign
in to the portals (services/single_sign_on.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider, parse_role_mapping
from onceonly.entrypoints.cli.common import DbOption, acting, console

idp_app = typer.Typer(help="Organisations' identity providers (staff single sign-on).",
                      no_args_is_help=True)


# long: one option a setting of the registration; the call itself is three lines
@idp_app.command("set")
def idp_set(
    org: Annotated[str, typer.Argument(help="the organisation, CLASS/CODE")],
    issuer: Annotated[str, typer.Option(help="the provider's issuer URL (https)")],
    client_id: Annotated[str, typer.Option(help="the exchange's client id there")],
    secret: Annotated[str, typer.Option(
        help="where the client secret or private key is read from: env:NAME or file:/path")],
    role: Annotated[list[str], typer.Option(
        help="VALUE=ROLE: a value of the roles claim and the role it gives (officer, "
             "guardian, manager or org_admin); repeat for each")],
    client_auth: Annotated[ClientAuth, typer.Option(
        help="how the exchange authenticates at the token endpoint")] =
        ClientAuth.PRIVATE_KEY_JWT,
    person_claim: Annotated[str, typer.Option(help="the claim that names the person")] = "sub",
    name_claim: Annotated[str, typer.Option(help="the claim with their name")] = "name",
    roles_claim: Annotated[str, typer.Option(help="the group or role claim")] = "groups",
    org_claim: Annotated[str | None, typer.Option(
        help="a claim naming the person's organisation, where organisations share one "
             "provider (its value must be the organisation's id)")] = None,
    scope: Annotated[list[str] | None, typer.Option(
        help="a scope to ask for (repeat; default openid and profile)")] = None,
    db: DbOption = None,
) -> None:
    """Register (or replace) an organisation's identity provider and its claim mapping."""
    with acting(db) as (exchange, admin):
        provider = exchange.single_sign_on.register(admin, IdentityProvider(
            org, issuer, client_id, client_auth, secret, person_claim=person_claim,
            name_claim=name_claim, roles_claim=roles_claim, roles=parse_role_mapping(role),
            org_claim=org_claim, scopes=tuple(scope or ("openid", "profile"))))
    console.print(f"{provider.org_id}'s staff sign in through {provider.issuer}",
                  soft_wrap=True)


@idp_app.command("list")
def idp_list(db: DbOption = None) -> None:
    """Registered providers as 'ORG ISSUER CLIENT-ID CLIENT-AUTH' lines."""
    with acting(db, read_only=True) as (exchange, _admin):
        providers = exchange.single_sign_on.providers()
    for provider in providers:
        print(provider.org_id, provider.issuer, provider.client_id, provider.client_auth.value)


@idp_app.command("waiting")
def idp_waiting(db: DbOption = None) -> None:
    """Citizens GOV.UK One Login proved whose record waits to be confirmed, as
    'ISSUER SUBJECT PERSON-KEY COMPARISONS' lines."""
    with acting(db, read_only=True) as (exchange, admin):
        waiting = exchange.single_sign_on.waiting_citizens(admin)
    for issuer, person, person_key, compared in waiting:
        levels = ",".join(f"{name}={level}" for name, level in sorted(compared.items()))
        print(issuer, person, person_key, levels)


@idp_app.command("confirm")
def idp_confirm(issuer: Annotated[str, typer.Argument(help="One Login's issuer")],
                subject: Annotated[str, typer.Argument(help="the citizen's pairwise sub")],
                db: DbOption = None) -> None:
    """Confirm a waiting citizen's record: their next sign-in goes through."""
    with acting(db) as (exchange, admin):
        person_key = exchange.single_sign_on.decide_citizen(admin, issuer, subject,
                                                            confirm=True)
    console.print(f"confirmed: linked to person {person_key}", soft_wrap=True)


@idp_app.command("reject")
def idp_reject(issuer: Annotated[str, typer.Argument(help="One Login's issuer")],
               subject: Annotated[str, typer.Argument(help="the citizen's pairwise sub")],
               db: DbOption = None) -> None:
    """Reject a waiting citizen's match: they are not that person."""
    with acting(db) as (exchange, admin):
        exchange.single_sign_on.decide_citizen(admin, issuer, subject, confirm=False)
    console.print("rejected", soft_wrap=True)
