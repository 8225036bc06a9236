"""`onceonly db ...`: the exchange database's schema."""

from __future__ import annotations

from typing import Annotated

import typer
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError

from onceonly.adapters.db.engine import Access, make_engine
from onceonly.adapters.db.migrate import downgrade, head_revision, history, known, upgrade
from onceonly.bootstrap import bootstrap
from onceonly.entrypoints.cli.common import (
    DbOption,
    check_database,
    console,
    fail,
    newer_than_code,
    schema_revision,
    url_of,
)

db_app = typer.Typer(help="The exchange database.", no_args_is_help=True)


def _revision(url: str) -> str | None:
    try:
        engine = make_engine(url, Access.READ_ONLY)
    except ValueError as exc:  # a SQLite file that does not exist
        fail(str(exc))
    try:
        return schema_revision(engine, url)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply the schema migrations (Alembic) to the exchange database."""
    url = url_of(db)
    check_database(url)
    engine = make_engine(url)
    try:
        revision = schema_revision(engine, url)
        if revision is not None and not known(revision):
            fail(newer_than_code(url, revision))
        upgrade(engine)
    except DBAPIError as exc:
        fail(f"cannot migrate {url}: {' '.join(str(exc.orig).split())}")
    finally:
        engine.dispose()
    console.print(f"database at {url} is up to date")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """The database's schema revision, and whether this onceonly can run on it."""
    url = url_of(db)
    revision = _revision(url)
    head = head_revision()
    if revision is None:
        state = "not set up: run `onceonly db upgrade`"
    elif revision == head:
        state = "up to date"
    elif known(revision):
        state = f"behind this onceonly ({head}): run `onceonly db upgrade`"
    else:
        state = f"ahead of this onceonly, which knows up to {head}"
    console.print(f"{revision or '(none)'} {state}", soft_wrap=True, highlight=False)


@db_app.command("history")
def db_history(db: DbOption = None) -> None:
    """The migrations this onceonly knows, newest first; the database's is marked."""
    url = url_of(db)
    revision = _revision(url) if db is not None else None
    for step in history():
        mark = "  (current)" if step.revision == revision else ""
        console.print(f"{step.down_revision or 'base'} -> {step.revision}  {step.title}{mark}",
                      soft_wrap=True, highlight=False, markup=False)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="the revision to go back to ('base': none)")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option(
        "--yes", help="go ahead: what the later migrations hold is dropped")] = False,
) -> None:
    """Undo the migrations after REVISION (run by the onceonly that made them). Tables and
    columns they added are dropped with their data: back the database up first."""
    url = url_of(db)
    current = _revision(url)
    if current is None:
        fail(f"the database {url} is not set up: there is nothing to downgrade")
    if not known(current):
        fail(newer_than_code(url, current))
    if revision != "base" and not known(revision):
        fail(f"{revision!r} is no revision this onceonly knows; `onceonly db history` lists "
             "them")
    if not yes:
        fail(f"downgrading {url} from {current} to {revision} drops what the migrations "
             "after it hold; back it up, then run again with --yes")
    exchange = bootstrap(url, access=Access.EXISTING)  # its envelopes: 0004 decrypts keys
    try:
        downgrade(exchange.engine, revision, envelopes=exchange.envelopes)
    except CommandError as exc:
        fail(f"cannot downgrade {url} to {revision}: {exc}")
    except DBAPIError as exc:
        fail(f"cannot downgrade {url}: {' '.join(str(exc.orig).split())}")
    finally:
        exchange.close()
    console.print(f"database at {url} is at revision {revision}", soft_wrap=True)
