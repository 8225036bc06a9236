"""`onceonly token ...`: API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.entrypoints.cli.common import DbOption, console, fail, open_exchange
from onceonly.services.tokens import issue_token

token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


@token_app.command("issue")
def token_issue(
    org: Annotated[str, typer.Option(help="organisation id, e.g. GOV/DWP")],
    role: Annotated[Role, typer.Option(help="role of the token's holder")],
    db: DbOption = None,
    person: Annotated[str | None, typer.Option(
        help="for a citizen: one of their identifiers as SCHEME:VALUE")] = None,
    name: Annotated[str | None, typer.Option(help="holder's name")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="days until it expires")] = 30,
) -> None:
    """Issue an API token; the token is printed as the last word."""
    exchange = open_exchange(db)
    try:
        _, token = issue_token(exchange.uows, exchange.clock, org_id=org, role=role,
                               name=name, person=person, days=days,
                               operator_org=exchange.members.operator())
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    console.print(f"issued a {role.value} token for {org}, valid {days} days: {token}",
                  soft_wrap=True)
