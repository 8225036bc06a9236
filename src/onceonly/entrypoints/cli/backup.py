"""`onceonly backup`: an online backup of a SQLite exchange database (PostgreSQL: pg_dump)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onceonly.adapters.db.backup import BackupRefused, backup_sqlite
from onceonly.config import DatabaseUrlInvalid, master_key_file, parse_database_url
from onceonly.entrypoints.cli.common import DbOption, console, fail, url_of


def backup(
    file: Annotated[Path, typer.Argument(help="the backup file to make (never overwritten)")],
    db: DbOption = None,
) -> None:
    """Back up a SQLite exchange database while it serves (SQLite's online backup API).
    The master key file is not in it: back that up apart (docs/operations.md)."""
    url = url_of(db)
    try:
        made = backup_sqlite(parse_database_url(url), file)
    except (BackupRefused, DatabaseUrlInvalid) as refused:
        fail(str(refused))
    console.print(f"backed up {url} to {made.path} ({made.pages} pages, schema revision "
                  f"{made.schema_revision or 'none'})", soft_wrap=True, highlight=False)
    keys, _ = master_key_file(url)
    console.print(f"not in the backup: the master key file {keys}; keep a copy of it apart "
                  "from this backup", style="dim", soft_wrap=True, highlight=False)
