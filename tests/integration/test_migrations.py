"""Schema migrations (Alembic) on SQLite and PostgreSQL: they build exactly the tables the
code describes, are safe to run again, and make the audit log append-only in the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.audit import SqlAuditLog
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import alembic_config, current_revision, upgrade
from onceonly.audit.entries import AuditEntry


@pytest.fixture
def engine(db_url: str):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def head(engine: Engine) -> str:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def schema_snapshot(engine: Engine) -> dict[str, object]:
    """Tables, columns, indexes, keys and triggers, as the database reports them."""
    inspector = inspect(engine)
    snapshot: dict[str, object] = {}
    for name in sorted(inspector.get_table_names()):
        snapshot[name] = (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
            sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
            inspector.get_pk_constraint(name)["constrained_columns"],
            sorted((fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                   for fk in inspector.get_foreign_keys(name)),
        )
    snapshot["triggers"] = triggers(engine)
    return snapshot


def triggers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        else:
            sql = ("SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                   "WHERE c.relnamespace = current_schema()::regnamespace "
                   "AND NOT t.tgisinternal ORDER BY tgname")
        return list(conn.execute(text(sql)).scalars())


def test_upgrade_creates_every_table_of_the_metadata(engine):
    assert inspect(engine).get_table_names() == []
    assert current_revision(engine) is None

    upgrade(engine)

    assert set(inspect(engine).get_table_names()) == set(t.metadata.tables) | {"alembic_version"}
    assert current_revision(engine) == head(engine)
    for table in t.metadata.sorted_tables:
        on_disk = {c["name"] for c in inspect(engine).get_columns(table.name)}
        assert on_disk == set(table.columns.keys()), table.name


def test_upgrade_again_is_a_no_op_and_keeps_the_data(engine):
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(t.organisations).values(id="GOV/TEST", name="Test department"))
    before = schema_snapshot(engine)

    upgrade(engine)
    upgrade(engine)

    assert schema_snapshot(engine) == before
    assert current_revision(engine) == head(engine)
    with engine.connect() as conn:
        assert conn.execute(select(t.organisations.c.name)).scalars().all() \
            == ["Test department"]


def test_the_migrations_match_the_metadata(engine):
    """What `alembic check` does: autogenerate finds nothing left to migrate."""
    upgrade(engine)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "compare_server_default": True,
            "target_metadata": t.metadata,
        })
        differences = compare_metadata(context, t.metadata)

    assert differences == []


def test_the_comparison_would_notice_a_missing_migration(engine):
    """The check above is not vacuous: a column added to the code only is reported."""
    upgrade(engine)
    drifted = MetaData(naming_convention=t.metadata.naming_convention)
    for table in t.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["principals"].append_column(Column("email", String(200), nullable=True))

    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), drifted)

    assert [(d[0], d[2], d[3].name) for d in differences] == [
        ("add_column", "principals", "email")]


def test_downgrade_to_base_and_back(engine):
    upgrade(engine)
    after_upgrade = schema_snapshot(engine)

    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert triggers(engine) == []

    upgrade(engine)
    assert schema_snapshot(engine) == after_upgrade


def test_upgrade_creates_the_append_only_triggers(engine):
    upgrade(engine)

    # (the standing version's triggers: tests/integration/test_standing_cache.py)
    found = [name for name in triggers(engine) if not name.startswith("standing_")]
    if engine.dialect.name == "sqlite":
        assert found == ["audit_log_counts"] + [
            f"{table}_no_{verb}" for table in APPEND_ONLY for verb in ("delete", "update")]
    else:
        assert found == [f"{table}_append_only" for table in APPEND_ONLY]


APPEND_ONLY = ("audit_log", "audit_nodes", "audit_tree_heads")


def _audit_row(engine: Engine) -> int:
    with engine.begin() as conn:
        return SqlAuditLog(conn).record(
            AuditEntry("agreement.revoke", "done", "guardian", "GOV/HMRC", reason="test",
                       agreement_id=1, detail={"from": "approved", "to": "revoked"}),
            datetime.now(UTC))


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(lambda: update(t.audit_log).values(outcome="deny"), id="update-all"),
        pytest.param(lambda: update(t.audit_log).where(t.audit_log.c.seq == 0)
                     .values(reason="rewritten"), id="update-one"),
        pytest.param(lambda: delete(t.audit_log), id="delete-all"),
        pytest.param(lambda: delete(t.audit_log).where(t.audit_log.c.seq == 0), id="delete-one"),
    ],
)
def test_the_database_refuses_to_change_the_audit_log(engine, statement):
    upgrade(engine)
    assert _audit_row(engine) == 0
    _audit_row(engine)

    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(statement())

    with engine.connect() as conn:
        rows = conn.execute(select(t.audit_log.c.seq, t.audit_log.c.outcome,
                                   t.audit_log.c.reason).order_by(t.audit_log.c.seq)).all()
    assert [tuple(r) for r in rows] == [(0, "done", "test"), (1, "done", "test")]
    # Appending still works.
    assert _audit_row(engine) == 2


def test_postgres_refuses_truncate_of_the_audit_log(postgres_url):
    engine = make_engine(postgres_url)
    try:
        upgrade(engine)
        _audit_row(engine)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one() == 1
    finally:
        engine.dispose()
