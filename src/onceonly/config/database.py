"""Where the exchange's database is, and the files it keeps beside it (its master keys)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from onceonly.config.loading import settings
from onceonly.config.model import DEFAULT_DATA_DIR, MASTER_KEY_FILE, parse_database_url


def database_url(explicit: str | None = None) -> str:
    """--db, else ONCEONLY_DATABASE_URL (or its file, or the TOML file), else the embedded
    SQLite file; checked by parse_database_url."""
    if explicit is not None:
        parse_database_url(explicit)
        return explicit
    return settings().database_url or \
        f"sqlite:///{(DEFAULT_DATA_DIR / 'exchange.sqlite').resolve()}"


def database_connections() -> int:
    """The most connections one process opens to a server database (ONCEONLY_DATABASE_
    CONNECTIONS)."""
    return settings().database_connections


def beside_database(db_url: str | URL, name: str) -> Path:
    """Where the exchange at `db_url` keeps a file of its own (its master keys, the demo's
    provider stores and tokens): beside its SQLite file and named after it, so that two
    exchanges in one folder share nothing (`/x/d.sqlite`: `/x/d.<name>`); for a server
    database, `./onceonly-data/<name>`."""
    url = parse_database_url(db_url) if isinstance(db_url, str) else db_url
    if url.get_backend_name() == "sqlite" and url.database:
        database = Path(url.database).resolve()
        return database.with_name(f"{database.stem}.{name}")
    return (DEFAULT_DATA_DIR / name).resolve()


def master_key_file(db_url: str | URL) -> tuple[Path, bool]:
    """The key file holding the master keys, and whether it was configured explicitly.

    ONCEONLY_MASTER_KEY_FILE if set (it must exist: `onceonly keys init` makes one); else,
    for the demo and tests, the default beside the database (beside_database), made when
    first needed. A folder where an earlier onceonly kept one `master-keys.json` for every
    SQLite database in it, and which has no key file named after this one, keeps using
    that file: its keys wrap the data keys of the databases made then. In production keep
    the key file apart from the database (or use a KMS): whoever has both has the keys."""
    explicit = settings().master_key_file
    if explicit:
        return explicit.expanduser(), True
    path = beside_database(db_url, MASTER_KEY_FILE)
    shared = path.with_name(MASTER_KEY_FILE)
    if shared != path and shared.exists() and not path.exists():
        return shared, False
    return path, False
