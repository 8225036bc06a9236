"""`onceonly anomaly ...`: the rules that suspend an agreement on an unusual pattern."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.entrypoints.cli.common import DbOption, console, fail, open_exchange

anomaly_app = typer.Typer(help="Anomaly rules: patterns that suspend an agreement.",
                          no_args_is_help=True)


@anomaly_app.command("rule")
def anomaly_rule(
    consumer: Annotated[str, typer.Option(help="the consuming organisation, e.g. COM/ACME")],
    kind: Annotated[str, typer.Option(
        help="many_persons, sequential_ids, off_hours or refusal_storm")],
    threshold: Annotated[int, typer.Option(help="fire once the count reaches this")],
    window: Annotated[int, typer.Option(help="over this many seconds")],
    officer: Annotated[str | None, typer.Option(
        help="one officer's id, for a threshold of their own")] = None,
    db: DbOption = None,
) -> None:
    """Set a consumer's (or one of its officers') threshold for a kind of anomaly."""
    exchange = open_exchange(db)
    try:
        exchange.anomaly.set_rule(consumer, officer, kind, threshold, window)
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    who = f"officer {officer} of {consumer}" if officer else consumer
    console.print(f"{kind} for {who}: {threshold} within {window} s")
