"""`onceonly people`: identifiers of demo people, to try queries with."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.entrypoints.cli.common import DbOption, fail, open_exchange


def people(
    org: Annotated[str, typer.Option(help="organisation whose identifiers to print")],
    db: DbOption = None,
    n: Annotated[int, typer.Option("-n", min=1, max=10_000, help="how many")] = 10,
) -> None:
    """Print identifiers of demo people as 'SCHEME VALUE' lines, to try queries with."""
    exchange = open_exchange(db, read_only=True)
    try:
        identifiers = exchange.people.identifiers_named_by(org, n)
    except DomainError as error:
        fail(f"{error.detail}; try GOV/DWP or GOV/DVLA")
    finally:
        exchange.close()
    for scheme, value in identifiers:
        print(scheme, value)
