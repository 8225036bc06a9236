"""`onceonly db ...`: the exchange database's schema."""

from __future__ import annotations

import typer
from sqlalchemy.exc import DBAPIError

from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.entrypoints.cli.common import DbOption, check_database, console, fail, url_of

db_app = typer.Typer(help="The exchange database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply the schema migrations (Alembic) to the exchange database."""
    url = url_of(db)
    check_database(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
    except DBAPIError as exc:
        fail(f"cannot migrate {url}: {' '.join(str(exc.orig).split())}")
    finally:
        engine.dispose()
    console.print(f"database at {url} is up to date")
