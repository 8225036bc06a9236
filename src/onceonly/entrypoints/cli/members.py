"""`onceonly init`, `onceonly org ...` and `onceonly scheme ...`: a new exchange, and its
members, their systems and identifier schemes (services/members.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Scheme
from onceonly.entrypoints.cli.common import DbOption, acting, console, fail, open_exchange
from onceonly.services.members import ALREADY_INITIALISED
from onceonly.services.ports.members import MemberEvent

org_app = typer.Typer(help="Members: organisations and their systems.", no_args_is_help=True)
system_app = typer.Typer(help="A member's systems.", no_args_is_help=True)
org_app.add_typer(system_app, name="system")
scheme_app = typer.Typer(help="Identifier schemes.", no_args_is_help=True)

Reason = Annotated[str, typer.Option(help="why (kept in the member's history)")]


def init(
    operator: Annotated[str, typer.Option(help="the operator's organisation, CLASS/CODE")],
    name: Annotated[str, typer.Option(help="the operator's name")],
    db: DbOption = None,
    unless_initialised: Annotated[bool, typer.Option(
        "--unless-initialised",
        help="an exchange already initialised is no failure: say so and exit 0 (a "
             "deployment's init step, run at every start); any other refusal still exits 2"),
    ] = False,
) -> None:
    """Initialise a migrated, empty exchange: its operator organisation and signing key,
    and a first administrator's token, printed once as the last word."""
    exchange = open_exchange(db)
    try:
        done = exchange.members.initialise(operator, name)
    except DomainError as error:
        if unless_initialised and error.code == ALREADY_INITIALISED:
            console.print(f"{error.detail}; nothing done", soft_wrap=True)
            return
        fail(error.detail)
    finally:
        exchange.close()
    console.print(f"initialised the exchange run by {done.operator.id} (key {done.kid}); "
                  f"first administrator {done.admin.id}, token shown once: {done.token}",
                  soft_wrap=True)


@org_app.command("add")
def org_add(
    org: Annotated[str, typer.Argument(help="CLASS/CODE, e.g. LA/EASTSHIRE")],
    name: Annotated[str, typer.Option(help="the organisation's name")],
    db: DbOption = None,
) -> None:
    """Register an organisation."""
    with acting(db) as (exchange, admin):
        registered = exchange.members.register(admin, org, name)
    console.print(f"registered {registered.id} ({registered.name})", soft_wrap=True)


@org_app.command("suspend")
def org_suspend(org: Annotated[str, typer.Argument(help="CLASS/CODE")], reason: Reason,
                db: DbOption = None) -> None:
    """Suspend a member and every agreement in force it is party to."""
    with acting(db) as (exchange, admin):
        event = exchange.members.suspend(admin, org, reason)
    _say("suspended", event)


@org_app.command("resume")
def org_resume(org: Annotated[str, typer.Argument(help="CLASS/CODE")], reason: Reason,
               db: DbOption = None) -> None:
    """Resume a member and the agreements its suspension suspended."""
    with acting(db) as (exchange, admin):
        event = exchange.members.resume(admin, org, reason)
    _say("resumed", event)


@org_app.command("deregister")
def org_deregister(org: Annotated[str, typer.Argument(help="CLASS/CODE")], reason: Reason,
                   db: DbOption = None) -> None:
    """Deregister a member: its tokens are refused, its agreements in force suspended; its
    history stays."""
    with acting(db) as (exchange, admin):
        event = exchange.members.deregister(admin, org, reason)
    _say("deregistered", event)


def _say(done: str, event: MemberEvent) -> None:
    moved = ", ".join(str(i) for i in event.agreement_ids) or "none"
    verb = "resumed" if event.action == "resume" else "suspended"
    console.print(f"{done} {event.org_id}; agreements {verb}: {moved}", soft_wrap=True)


@org_app.command("list")
def org_list(db: DbOption = None) -> None:
    """Members as 'ID STATUS NAME' lines."""
    with acting(db, read_only=True) as (exchange, admin):
        members = exchange.members.list(admin)
    for org in members:
        print(org.id, org.status.value, org.name)


@system_app.command("add")
def system_add(
    system: Annotated[str, typer.Argument(help="CLASS/CODE/system, e.g. LA/EASTSHIRE/housing")],
    title: Annotated[str, typer.Option(help="what the system is")],
    db: DbOption = None,
) -> None:
    """Register one of a member's systems."""
    with acting(db) as (exchange, admin):
        exchange.members.add_system(admin, system, title)
    console.print(f"registered system {system}", soft_wrap=True)


@scheme_app.command("add")
def scheme_add(
    code: Annotated[str, typer.Argument(help="the scheme's code, e.g. uprn")],
    name: Annotated[str, typer.Option(help="the scheme's name")],
    pattern: Annotated[str, typer.Option(help="the identifiers' format, a regular expression")],
    issuer: Annotated[str, typer.Option(help="the member that issues it, CLASS/CODE")],
    db: DbOption = None,
) -> None:
    """Register an identifier scheme."""
    with acting(db) as (exchange, admin):
        exchange.members.add_scheme(admin, Scheme(code, name, issuer, pattern))
    console.print(f"registered scheme {code}, issued by {issuer}", soft_wrap=True)


@scheme_app.command("use")
def scheme_use(
    code: Annotated[str, typer.Argument(help="the scheme's code, e.g. nino")],
    org: Annotated[str, typer.Option(help="the member that names people by it, CLASS/CODE")],
    db: DbOption = None,
) -> None:
    """A member names people by another member's scheme too."""
    with acting(db) as (exchange, admin):
        exchange.members.use_scheme(admin, org, code)
    console.print(f"{org} names people by {code}", soft_wrap=True)


@scheme_app.command("list")
def scheme_list(db: DbOption = None) -> None:
    """Schemes as 'CODE ISSUER PATTERN NAME' lines."""
    with acting(db, read_only=True) as (exchange, admin):
        schemes = exchange.members.schemes(admin)
    for s in schemes:
        print(s.code, s.issuer_id, s.pattern or "-", s.name)
