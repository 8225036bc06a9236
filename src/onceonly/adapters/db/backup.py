"""An online backup of a SQLite exchange database: SQLite's backup API copies a consistent
snapshot of the file while servers and workers go on reading and writing it (in WAL mode
readers never wait for writers, and one step holds only a read transaction). PostgreSQL is
backed up with its own tools (`pg_dump -Fc`, docs/operations.md)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL


class BackupRefused(ValueError):
    """A backup that cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Backup:
    path: Path
    pages: int
    schema_revision: str | None


def backup_sqlite(url: URL, target: Path) -> Backup:
    """Copy the SQLite database at `url` to `target`, a new file: written beside it under a
    temporary name, checked (`PRAGMA integrity_check`), then renamed into place, so a
    `target` that exists is a whole backup or was never made."""
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupRefused(
            f"{url.render_as_string()} is not a SQLite database: back up PostgreSQL online with "
            "`pg_dump --format=custom` and restore with `pg_restore` (docs/operations.md)")
    source_path = Path(url.database).resolve()
    if not source_path.is_file():
        raise BackupRefused(f"there is no database at {source_path}")
    target = target.resolve()
    if target.exists():
        raise BackupRefused(f"{target} exists: a backup never overwrites a file")
    if not target.parent.is_dir():
        raise BackupRefused(f"{target.parent} is not a folder")
    if target == source_path:
        raise BackupRefused("the backup cannot be the database itself")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        backup = _copy(source_path, Path(temporary))
        os.link(temporary, target)  # fails, rather than overwrites, if one appeared meanwhile
    except FileExistsError:
        raise BackupRefused(f"{target} exists: a backup never overwrites a file") from None
    finally:
        os.unlink(temporary)
    return Backup(target, backup.pages, backup.schema_revision)


def _copy(source_path: Path, temporary: Path) -> Backup:
    # mode=rw: open the database that is there, never make an empty one.
    source = sqlite3.connect(f"file:{quote(str(source_path))}?mode=rw", uri=True, timeout=30)
    copy = sqlite3.connect(temporary)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(copy)  # one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        (check,) = copy.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupRefused(f"the copy of {source_path} fails SQLite's integrity check: "
                                f"{check}")
        pages = copy.execute("PRAGMA page_count").fetchone()[0]
        revision = _revision(copy)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"cannot back up {source_path}: {exc}") from None
    finally:
        copy.close()
        source.close()
    os.chmod(temporary, 0o600)  # the database holds wrapped keys and the audit log
    return Backup(temporary, pages, revision)


def _revision(copy: sqlite3.Connection) -> str | None:
    try:
        row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table: a database never migrated
        return None
    return None if row is None else str(row[0])
