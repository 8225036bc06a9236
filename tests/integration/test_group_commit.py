"""SQLite's group commit on a real database: a write run through it commits under
synchronous=NORMAL and is followed by a sync of the WAL file; any other write commits under
FULL, as before. PostgreSQL and a read-only SQLite database wait for nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from onceonly.adapters.db.engine import WRITE, Access, durability, make_engine
from onceonly.adapters.db.group_commit import AtCommit, GroupCommit, WalSync
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.db.unit_of_work import SqlUnitOfWork
from onceonly.bootstrap import bootstrap
from onceonly.demo.seed import build_world
from onceonly.domain.errors import DomainError
from tests.conftest import WORLD_PEOPLE


@pytest.fixture
def answers(tmp_path: Path) -> Iterator[tuple[Engine, GroupCommit, list[str]]]:
    """A SQLite database of one table on one connection, its group commit, and what happened:
    "synced" after each real fdatasync of its -wal file."""
    engine = make_engine(f"sqlite:///{tmp_path / 'exchange.sqlite'}", pool_size=1,
                         max_overflow=0)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE answers (n INTEGER)"))
        group = durability(engine)
        assert isinstance(group, GroupCommit)
        happened: list[str] = []
        wal_sync = group._sync

        def sync() -> None:
            wal_sync()
            happened.append("synced")

        group._sync = sync
        yield engine, group, happened
    finally:
        engine.dispose()


def write_and_read_synchronous(engine) -> int:
    with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
        conn.execute(text("INSERT INTO answers VALUES (1)"))
        return conn.execute(text("PRAGMA synchronous")).scalar_one()


def test_a_write_in_a_run_defers_its_sync_and_one_outside_syncs_at_commit(answers):
    engine, group, happened = answers
    assert asyncio.run(group.run(lambda: write_and_read_synchronous(engine))) == 1  # NORMAL
    assert happened == ["synced"]
    assert write_and_read_synchronous(engine) == 2  # FULL again on the same connection
    assert happened == ["synced"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar_one() == 2


def read_synchronous(engine) -> int:
    with SqlUnitOfWork(engine) as uow:
        uow.conn.execute(text("SELECT count(*) FROM answers")).scalar_one()
        return uow.conn.execute(text("PRAGMA synchronous")).scalar_one()


def write_deferred_and_read_synchronous(engine) -> int:
    with engine.connect() as conn, conn.begin():  # BEGIN (deferred), then a write
        conn.execute(text("INSERT INTO answers VALUES (3)"))
        return conn.execute(text("PRAGMA synchronous")).scalar_one()


def read_then_write(engine) -> int:
    """A request's reads and then its writes, on one connection (WritingLater)."""
    with SqlUnitOfWork(engine) as uow:
        uow.conn.execute(text("SELECT count(*) FROM answers")).scalar_one()
        uow.begin_writing()
        uow.conn.execute(text("INSERT INTO answers VALUES (2)"))
        written_under = uow.conn.execute(text("PRAGMA synchronous")).scalar_one()
        uow.commit()
    return written_under


def test_only_an_answer_that_began_writing_waits_for_a_sync(answers):
    engine, group, happened = answers
    assert asyncio.run(group.run(lambda: read_synchronous(engine))) == 2  # FULL
    assert happened == []
    assert asyncio.run(group.run(lambda: read_then_write(engine))) == 1  # NORMAL
    assert happened == ["synced"]
    assert asyncio.run(group.run(lambda: read_synchronous(engine))) == 2
    # A write in a deferred transaction owes no sync: it is synced at its commit.
    assert asyncio.run(group.run(lambda: write_deferred_and_read_synchronous(engine))) == 2
    assert happened == ["synced"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM answers")).scalar_one() == 2


def test_a_request_that_only_read_waits_for_no_sync_and_a_refused_one_does(sqlite_url, clock):
    exchange = bootstrap(sqlite_url, clock=clock)
    try:
        upgrade(exchange.engine)
        world = build_world(exchange, sqlite_url, people=WORLD_PEOPLE)
        synced: list[int] = []
        exchange.durability._sync = lambda: synced.append(1)
        token = world.token("officer:GOV/DWP")

        answer = asyncio.run(exchange.durability.run(lambda: exchange.auth.authenticate(token)))
        assert answer.org_id == "GOV/DWP"
        assert synced == []  # who is calling was only read

        with pytest.raises(DomainError):  # an unknown token: the refusal is audited
            asyncio.run(exchange.durability.run(lambda: exchange.auth.authenticate("forged")))
        assert synced == [1]
    finally:
        exchange.close()


def test_the_wal_sync_reaches_the_file_or_finds_none(tmp_path: Path):
    database = tmp_path / "exchange.sqlite"
    sync = WalSync(database)
    sync()  # no WAL yet: nothing to sync, no error
    (tmp_path / "exchange.sqlite-wal").write_bytes(b"frames")
    sync()
    assert sync._named is not None


def test_a_read_only_database_and_postgresql_wait_for_nothing(tmp_path: Path, postgres_url):
    url = f"sqlite:///{tmp_path / 'exchange.sqlite'}"
    creating = make_engine(url)
    with creating.connect():
        pass
    creating.dispose()
    read_only = make_engine(url, Access.READ_ONLY)
    server = make_engine(postgres_url)
    try:
        assert isinstance(durability(read_only), AtCommit)
        assert isinstance(durability(server), AtCommit)
        assert asyncio.run(AtCommit().run(lambda: "answer")) == "answer"
    finally:
        read_only.dispose()
        server.dispose()


def test_what_waits_for_durability_runs_after_the_answers_sync_or_at_once_outside(answers):
    """Deliveries claimed at a report's intake are handed to a worker only once the report
    is on disk (services/intake_claims.py): inside a run, after its sync."""
    engine, group, happened = answers

    def work() -> None:
        write_and_read_synchronous(engine)
        group.after_durable(lambda: happened.append("handed over"))
        happened.append("committed")

    asyncio.run(group.run(work))
    assert happened == ["committed", "synced", "handed over"]
    group.after_durable(lambda: happened.append("at once"))  # outside a run: FULL
    assert happened[-1] == "at once"
    done: list[int] = []
    AtCommit().after_durable(lambda: done.append(1))
    assert done == [1]
