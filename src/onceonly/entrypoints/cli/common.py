"""What every command shares: the consoles, the --db option, failing with a message (exit 2),
and opening the exchange with a clear message when it cannot be reached or is not set up."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from onceonly.adapters.db.engine import Access, make_engine
from onceonly.adapters.db.migrate import current_revision, head_revision, known
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.config import database_url, operator_org
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Principal, Role

console = Console()
errors = Console(stderr=True)

DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default: "
                     "ONCEONLY_DATABASE_URL, else SQLite in ./onceonly-data)")]


def fail(message: str) -> NoReturn:
    # Unwrapped, and no markup: paths and JSON in a message are printed as they are.
    errors.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
    raise typer.Exit(2)


def problem(message: str) -> None:
    """A problem that makes the command exit 1 once it has said everything."""
    errors.print(Text.assemble(("problem: ", "red"), message), soft_wrap=True)


def url_of(db: str | None) -> str:
    """--db, else its default (config.database_url), or a message saying what to give."""
    try:
        return database_url(db)
    except ValueError as exc:
        fail(str(exc))


def schema_revision(engine: Engine, url: str) -> str | None:
    """The database's schema revision (None before any), or a message if it cannot be read."""
    try:
        return current_revision(engine)
    except DBAPIError as exc:  # unreachable, refused, locked, or a file that is no database
        fail(f"cannot open the database {url}: {' '.join(str(exc.orig).split())}")


def newer_than_code(url: str, revision: str) -> str:
    return (f"the database {url} is at schema revision {revision}, which this onceonly does "
            f"not know (it knows up to {head_revision()}): a newer onceonly migrated it. Run "
            "that version, or have it downgrade the database (`onceonly db downgrade "
            f"{head_revision()}`) after a backup")


def check_database(url: str) -> None:
    """Fail with a message unless `url` names a database of a supported kind that answers;
    for the commands that set one up, so a new SQLite file is made."""
    try:
        engine = make_engine(url, Access.CREATE)
    except ValueError as exc:
        fail(str(exc))
    try:
        schema_revision(engine, url)
    finally:
        engine.dispose()


def open_exchange(db: str | None, *, read_only: bool = False) -> Exchange:
    """The exchange at --db, or a clear message if it cannot be reached or is not set up.
    It is never made here; `read_only` (for commands that only read) also refuses every
    write and makes no file, not even the default master key file."""
    url = url_of(db)
    try:
        exchange = bootstrap(url, access=Access.READ_ONLY if read_only else Access.EXISTING)
    except ValueError as exc:  # a SQLite file that does not exist
        fail(str(exc))
    try:
        revision = schema_revision(exchange.engine, url)
        if revision is None:
            fail(f"the database {url} is not set up: run `onceonly db upgrade --db {url}` "
                 "or `onceonly demo --db URL`")
        if not known(revision):
            fail(newer_than_code(url, revision))
        if revision != head_revision():
            fail(f"the database {url} is at schema revision {revision}, this onceonly needs "
                 f"{head_revision()}: run `onceonly db upgrade --db {url}`")
    except typer.Exit:
        exchange.close()
        raise
    return exchange


def console_admin(operator: str | None = None) -> Principal:
    """Who acts at the command line: whoever holds the database's URL and master key runs
    the exchange, as one of its administrators (of `operator`, the one stored at
    initialisation; else the one configured); audited as `cli:USER`."""
    user = getpass.getuser()
    return Principal(f"cli:{user}", f"{user} at the command line",
                     operator or operator_org(), Role.ADMIN)


@contextmanager
def acting(db: str | None, *, read_only: bool = False) -> Iterator[tuple[Exchange, Principal]]:
    """The exchange at --db and the administrator at the console; a refusal is a message
    and exit 2."""
    exchange = open_exchange(db, read_only=read_only)
    try:
        yield exchange, console_admin(exchange.members.operator())
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()


def progress(*, transient: bool = False, remaining: bool = True) -> Progress:
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
    return Progress(*columns, *([TimeRemainingColumn()] if remaining else []),
                    console=console, transient=transient)
