"""`onceonly identity ...`: matching an organisation's records missing from the person index."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import parse_org_id
from onceonly.entrypoints.cli.common import (
    DbOption,
    acting,
    console,
    fail,
    open_exchange,
    progress,
)

identity_app = typer.Typer(help="Identity across organisations: matching and links.",
                           no_args_is_help=True)
MATCH_STAGES = ("records read", "reference read", "matched", "stored")


@identity_app.command("match")
def match(
    org: Annotated[str, typer.Option("--org", help="the organisation whose records to link, "
                                                   "e.g. GOV/DVLA")],
    db: DbOption = None,
) -> None:
    """Match the organisation's records that the person index does not link yet:
    identifiers first, then name, date of birth and postcode (splink). Links with an
    identifier agreement above the acceptance weight are applied; the others wait for the
    organisation's guardian (GET /v1/identity/candidates)."""
    try:
        parse_org_id(org)
    except DomainError as error:
        fail(error.detail)
    exchange = open_exchange(db)
    try:
        with progress(transient=True, remaining=False) as bar:
            task = bar.add_task(f"matching {org}", total=len(MATCH_STAGES))

            def advance(stage: str) -> None:
                bar.update(task, advance=1, description=f"matching {org}: {stage}")

            run = exchange.identity.match(org, progress=advance)
    except DomainError as error:
        fail(f"{error.code}: {error.detail}")
    finally:
        exchange.close()
    console.print(f"{run.org_id}: {run.records} records without a {run.scheme} link, compared "
                  f"with {run.reference} people; {run.applied} links applied, {run.pending} "
                  f"waiting for a guardian, {run.already_proposed} proposed before")


@identity_app.command("enrol")
def enrol(
    identifiers: Annotated[list[str], typer.Argument(
        help="the person's identifiers, each SCHEME:VALUE (one a scheme)")],
    db: DbOption = None,
) -> None:
    """Enrol a person new to the person index, known by these identifiers; prints their
    person key."""
    pairs = [tuple(i.split(":", 1)) for i in identifiers]
    if any(len(p) != 2 for p in pairs):
        fail("each identifier is SCHEME:VALUE, such as nino:QQ123456C")
    with acting(db) as (exchange, admin):
        person_key = exchange.identity.enrol(admin, pairs)  # type: ignore[arg-type]
    console.print(f"enrolled {person_key}", soft_wrap=True)
