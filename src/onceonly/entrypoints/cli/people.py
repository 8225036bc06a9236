"""`onceonly people ...`: identifiers of demo people to try queries with (`list`), and the
people who act for an organisation: add, disable, tokens, training (services/people.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.entrypoints.cli.common import DbOption, acting, console, fail, open_exchange
from onceonly.services.people import LAPSING_DAYS, NewPerson
from onceonly.services.ports.people import StaffMember

people_app = typer.Typer(help="People: identifiers of demo people, and each organisation's "
                              "staff.", no_args_is_help=True)

Org = Annotated[str, typer.Option(help="organisation id, e.g. GOV/DWP")]
PrincipalId = Annotated[str, typer.Argument(help="the person's id (from `people add` or "
                                                 "`people list --staff`)")]


@people_app.command("list")
def people_list(
    org: Annotated[str, typer.Option(help="organisation whose identifiers (or staff) to print")],
    db: DbOption = None,
    n: Annotated[int, typer.Option("-n", min=1, max=10_000, help="how many")] = 10,
    staff: Annotated[bool, typer.Option("--staff", help="the organisation's staff instead, "
                                        "as 'ID ROLE STATE TRAINED-UNTIL NAME' lines")] = False,
) -> None:
    """Print identifiers of demo people as 'SCHEME VALUE' lines, to try queries with."""
    if staff:
        with acting(db, read_only=True) as (exchange, admin):
            members = exchange.people.list(admin, org)
        for member in members:
            print(_line(member))
        return
    exchange = open_exchange(db, read_only=True)
    try:
        identifiers = exchange.people.identifiers_named_by(org, n)
    except DomainError as error:
        fail(f"{error.detail}; try GOV/DWP or GOV/DVLA")
    finally:
        exchange.close()
    for scheme, value in identifiers:
        print(scheme, value)


@people_app.command("add")
def people_add(
    org: Org,
    role: Annotated[Role, typer.Option(help="officer, guardian, manager or org_admin")],
    name: Annotated[str, typer.Option(help="their name (or the service account's)")],
    db: DbOption = None,
    system: Annotated[str | None, typer.Option(
        help="for a service account: the system it acts as, CLASS/CODE/system")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="days until the token expires")] = 30,
) -> None:
    """Add someone who acts for an organisation; their first token is printed once, as the
    last word."""
    with acting(db) as (exchange, admin):
        issued = exchange.people.add(admin, NewPerson(org, name, role, days, system))
    console.print(f"added {issued.principal.id} ({role.value} at {org}), token valid until "
                  f"{issued.expires_on}: {issued.token}", soft_wrap=True)


@people_app.command("disable")
def people_disable(principal: PrincipalId, db: DbOption = None) -> None:
    """Disable someone: their tokens and web sessions stop on the next request."""
    with acting(db) as (exchange, admin):
        revoked = exchange.people.disable(admin, principal)
    console.print(f"disabled {principal}; {revoked} token(s) revoked", soft_wrap=True)


@people_app.command("training")
def people_training(
    principal: PrincipalId,
    completed: Annotated[str, typer.Option(help="completed on, YYYY-MM-DD")],
    until: Annotated[str, typer.Option(help="valid until, YYYY-MM-DD")],
    db: DbOption = None,
) -> None:
    """Record an officer's data-protection training."""
    try:
        completed_on, valid_until = date.fromisoformat(completed), date.fromisoformat(until)
    except ValueError:
        fail("give the days as YYYY-MM-DD")
    with acting(db) as (exchange, admin):
        exchange.people.record_training(admin, principal, completed_on, valid_until)
    console.print(f"{principal} trained {completed_on}, valid until {valid_until}")


@people_app.command("lapsing")
def people_lapsing(org: Org, db: DbOption = None,
                   days: Annotated[int, typer.Option(min=0, max=366)] = LAPSING_DAYS) -> None:
    """Officers whose training has lapsed, lapses within DAYS days, or is not recorded."""
    with acting(db, read_only=True) as (exchange, admin):
        members = exchange.people.lapsing(admin, org, days)
    for member in members:
        print(_line(member))


def _line(member: StaffMember) -> str:
    p = member.principal
    state = "disabled" if member.disabled_at else "active"
    trained = member.training.valid_until.isoformat() if member.training else "-"
    return f"{p.id} {p.role.value}{'@' + p.system_id if p.system_id else ''} {state} " \
           f"{trained} {p.name}"
