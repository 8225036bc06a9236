"""Engines for the exchange database: SQLite (embedded, WAL) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import time
import weakref
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, exc

from onceonly.adapters.db.group_commit import AtCommit, GroupCommit, WalSync
from onceonly.adapters.db.writer_queue import queue_writers
from onceonly.config import DatabaseUrlInvalid, parse_database_url

WRITE = "onceonly_write"

_GROUP_COMMITS: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()


def durability(engine: Engine) -> GroupCommit | AtCommit:
    """Where an answer waits for what it committed to be on disk: a writable SQLite
    database's group commit (group_commit.py), else nowhere (AtCommit)."""
    return _GROUP_COMMITS.get(engine) or AtCommit()


class Access(Enum):
    """What opening a database may do on disk and in it."""

    CREATE = "create"  # make the SQLite file and its folder if missing (setting one up)
    EXISTING = "existing"  # the database must exist already; read and write it
    READ_ONLY = "read_only"  # must exist; every write is refused, nothing is made on disk


# Connections to a server database kept open between requests; more are opened under load,
# up to the process's limit (ONCEONLY_DATABASE_CONNECTIONS), and closed when returned.
KEPT_OPEN = 10


def make_engine(url: str, access: Access = Access.CREATE, connections: int = 30,
                **kwargs: Any) -> Engine:
    """DatabaseUrlInvalid (a ValueError) if `url` names no database onceonly can use, or,
    unless `access` may create it, a SQLite file that does not exist. `connections`: the
    most a server database's engine opens at once (its pool and overflow together)."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None  # parse_database_url requires a file
        return _sqlite_engine(url, Path(parsed.database), access, **kwargs)
    kept = min(KEPT_OPEN, connections)
    options: dict[str, Any] = {"pool_size": kept, "max_overflow": connections - kept}
    if access is Access.READ_ONLY:
        options["execution_options"] = {"postgresql_readonly": True}
    options.update(kwargs)
    engine = create_engine(url, **options)
    _ping_when_idle(engine)
    return engine


# A connection back in the pool for longer than this is pinged before it is handed out.
IDLE_BEFORE_PING = 2.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection only if it has sat idle: a stale one (the server restarted,
    a firewall dropped it) is replaced before a request uses it, as `pool_pre_ping` would,
    without a round trip on every checkout under load, when connections are reused within
    milliseconds (BENCHMARKS.md section 2). A server that goes away mid-load fails the
    requests in flight once; SQLAlchemy then invalidates the pool and reconnects."""

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError(f"a pooled connection was stale: {error}") from error


def _sqlite_engine(url: str, database: Path, access: Access, **kwargs: Any) -> Engine:
    if access is Access.CREATE:
        database.parent.mkdir(parents=True, exist_ok=True)
    elif not database.is_file():
        raise DatabaseUrlInvalid(
            f"there is no database at {database.resolve()}: check the path in {url} "
            "(`onceonly db upgrade --db URL` or `onceonly demo --db URL` makes one)")
    options: dict[str, Any] = {"pool_size": 8, "max_overflow": 8}
    options.update(kwargs)
    engine = create_engine(url, connect_args={"timeout": 30}, **options)
    queue_writers(engine)  # writer_queue.py
    group = None if access is Access.READ_ONLY else GroupCommit(WalSync(database.resolve()))
    if group is not None:
        _GROUP_COMMITS[engine] = group

    if access is not Access.CREATE:
        @event.listens_for(engine, "do_connect")
        def open_existing(_dialect: Any, _record: Any, cargs: list[Any],
                          cparams: dict[str, Any]) -> None:
            # SQLite's own guard: mode=rw opens the file or fails, never makes an empty one.
            # (Not mode=ro: a read-only connection cannot remove the WAL files it makes.)
            cargs[0] = f"file:{quote(str(database.resolve()))}?mode=rw"
            cparams["uri"] = True

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so writes can BEGIN IMMEDIATE: a write
        # that starts as a read and upgrades later can fail with SQLITE_BUSY under load.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if access is Access.READ_ONLY:
            cursor.execute("PRAGMA query_only=ON")  # and the journal mode is left as it is
        else:
            cursor.execute("PRAGMA journal_mode=WAL")
            # An accepted write survives power loss: synced at commit, or, in a group
            # commit's run, by its sync before the answer leaves (group_commit.py).
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        # Straight to the driver: SQLAlchemy's execution machinery costs more than BEGIN.
        driver = connection.connection.driver_connection
        if group is not None:
            group.before_begin(connection.connection.info, driver.execute, immediate)
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine

