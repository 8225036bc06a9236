"""The audit log read by someone who changed the database behind its back (its append-only
triggers lifted, as anyone holding the database file can), on SQLite and PostgreSQL: a row
that no longer reads is named, never raised; integration stops at it with one operator
alert and goes on once it is mended; every stored node and leaf is checked whether or not
a head covers it; each signed tree head names the one before it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text, update

from onceonly.adapters.db import tables as t
from onceonly.audit import merkle
from onceonly.audit.entries import AuditRecord, EntryUnreadable, UnreadableEntry
from onceonly.audit.heads import SignedTreeHead, TreeHead
from onceonly.bootstrap import Exchange
from onceonly.domain.organisations import Principal, Role
from onceonly.services.audit_integration import ExchangeNotInitialised
from onceonly.services.audit_verification import verify_log
from tests.integration.test_audit import _operator, append, batched

ADMIN = Principal("admin-1", "Admin", "GOV/EXCHANGE", Role.ADMIN)


@pytest.fixture
def log(exchange: Exchange) -> Exchange:
    _operator(exchange)
    return exchange


def lift_triggers(engine: Engine, *tables: str) -> None:
    with engine.begin() as conn:
        for table in tables or ("audit_log",):
            if engine.dialect.name == "sqlite":
                for verb in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
            else:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))


def write_raw(engine: Engine, index: int, column: str, value: Any, *,
              as_json: bool = False) -> None:
    """Store `value` in one column of entry `index` as the driver sends it (SQLite: text,
    a blob or a number as given; PostgreSQL: cast to json where the column is json)."""
    target = "CAST(:value AS json)" if as_json and engine.dialect.name == "postgresql" \
        else ":value"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_log SET {column} = {target} WHERE seq = :index"),
                     {"value": value, "index": index})


def raw_value(engine: Engine, index: int, column: str) -> Any:
    cast = f"CAST({column} AS TEXT)" if engine.dialect.name == "postgresql" else column
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT {cast} FROM audit_log WHERE seq = :index"),
                            {"index": index}).scalar_one()


# Corruptions either database can hold (PostgreSQL checks JSON syntax, and a time's type).
ANYWHERE = [
    ("fields", "5", "fields is a number, not a list of names"),
    ("detail", "[1, 2]", "detail is a list, not a JSON object"),
    ("detail", "null", "detail is null, not a JSON object"),
    ("detail", '{"n": 9007199254740993}', "a value JSON cannot carry exactly"),
    ("fields", '["income_band", 7]', "fields is a list, not a list of names"),
]
# Only SQLite stores these: any value in any column.
SQLITE_ONLY = [
    ("fields", "[", "fields is not JSON"),
    ("fields", "", "fields is not JSON"),
    ("detail", b"\x00\xff\x10", "detail does not decode"),
    ("fields", 5, "fields is a number, not a list of names"),
    ("detail", '{"n": NaN}', "a value JSON cannot carry exactly"),
    ("at", "garbage", "at is not a stored time"),
    ("hidden_until", "not a time", "hidden_until is not a stored time"),
    ("agreement_id", "one", "agreement_id is text, not an integer"),
    ("action", b"\x01", "action is binary data, not text"),
]


def assert_named_unreadable(log: Exchange, index: int, why: str) -> None:
    """verify_log, the adapter, a single read and a page all name the entry, and read on."""
    result = verify_log(log.uows, log.key_store.jwks())
    assert (result.ok, result.bad_index) == (False, index), result.problem
    assert result.problem is not None
    assert result.problem.startswith(f"entry {index}: unreadable ("), result.problem
    assert why in result.problem
    with log.uows() as uow:
        around = uow.audit.entries(index - 1, index + 2)
    assert [type(r) for r in around] == [AuditRecord, UnreadableEntry, AuditRecord]
    assert [r.index for r in around] == [index - 1, index, index + 1]
    with pytest.raises(EntryUnreadable, match=f"entry {index}: unreadable"):
        log.audit.entry(ADMIN, index)
    page = log.audit.entries(ADMIN, provider=None, before=None, limit=50)
    assert [type(r) for r in page.records].count(UnreadableEntry) == 1
    assert len(page.records) > 3  # the others are served all the same


@pytest.mark.parametrize(("column", "value", "why"), ANYWHERE,
                         ids=[f"{c}={v}" for c, v, _ in ANYWHERE])
def test_a_row_that_does_not_read_is_named_on_both_databases(log, column, value, why):
    append(log, 8)
    log.audit.integrate()
    lift_triggers(log.engine)

    write_raw(log.engine, 5, column, value, as_json=True)

    assert_named_unreadable(log, 5, why)


@pytest.mark.parametrize(("column", "value", "why"), SQLITE_ONLY,
                         ids=[f"{c}={v!r}" for c, v, _ in SQLITE_ONLY])
def test_a_row_that_does_not_read_is_named_on_sqlite(sqlite_url, clock, column, value, why):
    from onceonly.adapters.db.migrate import upgrade
    from onceonly.bootstrap import bootstrap

    exchange = bootstrap(sqlite_url, clock=clock)
    try:
        upgrade(exchange.engine)
        _operator(exchange)
        append(exchange, 8)
        exchange.audit.integrate()
        lift_triggers(exchange.engine)

        write_raw(exchange.engine, 5, column, value)

        assert_named_unreadable(exchange, 5, why)
    finally:
        exchange.close()


@pytest.mark.parametrize("column", ["purpose", "fields", "at"])
def test_text_that_is_not_utf8_is_named_on_sqlite(sqlite_url, clock, column):
    """SQLite's driver refuses such text for a whole read: the row is named all the same."""
    from onceonly.adapters.db.migrate import upgrade
    from onceonly.bootstrap import bootstrap

    exchange = bootstrap(sqlite_url, clock=clock)
    try:
        upgrade(exchange.engine)
        _operator(exchange)
        append(exchange, 8)
        exchange.audit.integrate()
        lift_triggers(exchange.engine)
        with exchange.engine.begin() as conn:
            conn.execute(text(f"UPDATE audit_log SET {column} = CAST(X'5bff5d' AS TEXT) "
                              "WHERE seq = 5"))

        assert_named_unreadable(exchange, 5, "")
    finally:
        exchange.close()


def test_integration_stops_at_an_unreadable_entry_alerts_once_and_goes_on_when_mended(log):
    append(log, 3)
    log.audit.integrate()
    append(log, 3, start=3)  # 3, 4, 5: not yet under a signed head
    lift_triggers(log.engine)
    original = raw_value(log.engine, 4, "detail")
    write_raw(log.engine, 4, "detail", "[1, 2]", as_json=True)

    head, more = log.audit.integrate_batch()  # entry 3, and no further
    assert (head.head.tree_size, more) == (4, True)
    for audit in (log.audit, log.audit, batched(log, 128)):  # again, and another process
        with pytest.raises(EntryUnreadable, match="entry 4: unreadable"):
            audit.integrate()
    alerts = log.audit.operator_alerts(ADMIN)
    assert [(a.kind, a.audit_index, a.cleared_at) for a in alerts] == [
        ("audit_entry_unreadable", 4, None)]
    assert "entry 4: unreadable (detail is a list" in alerts[0].detail
    assert log.audit.backlog().stopped_at == 4
    assert actions_since(log, 6) == ["operator_alert.raise"]  # audited once

    write_raw(log.engine, 4, "detail", original, as_json=True)  # mended
    head = log.audit.integrate()

    assert head.head.tree_size >= 7
    [alert] = log.audit.operator_alerts(ADMIN)
    assert alert.cleared_at is not None
    assert log.audit.backlog().stopped_at is None
    assert actions_since(log, 6) == ["operator_alert.raise", "operator_alert.clear"]
    assert verify_log(log.uows, log.key_store.jwks()).ok


def actions_since(log: Exchange, index: int) -> list[str]:
    with log.engine.connect() as conn:
        return list(conn.execute(select(t.audit_log.c.action).where(t.audit_log.c.seq >= index)
                                 .order_by(t.audit_log.c.seq)).scalars())


def test_a_deleted_counter_is_named_not_raised(log):
    append(log, 4)
    log.audit.integrate()
    with log.engine.begin() as conn:
        conn.execute(delete(t.audit_counter))

    result = verify_log(log.uows, log.key_store.jwks())

    assert (result.ok, result.bad_index) == (False, 4)
    assert "counter (audit_counter) is missing" in result.problem
    assert log.audit.backlog().entries is None


# -- stored nodes and leaves, with or without a head over them ------------------------------


@pytest.mark.parametrize(("level", "idx", "change"), [
    (2, 1, "overwritten"), (3, 0, "overwritten"), (4, 0, "deleted"), (1, 9, "overwritten")])
def test_verify_recomputes_every_stored_interior_node(log, level, idx, change):
    append(log, 20)
    batched(log, 7).integrate()
    lift_triggers(log.engine, "audit_nodes")
    node = (t.audit_nodes.c.level == level) & (t.audit_nodes.c.idx == idx)
    with log.engine.begin() as conn:
        if change == "deleted":
            conn.execute(delete(t.audit_nodes).where(node))
        else:
            conn.execute(update(t.audit_nodes).where(node).values(hash=bytes(32)))

    result = verify_log(log.uows, log.key_store.jwks())

    assert (result.ok, result.bad_index) == (False, idx << level), result.problem
    assert f"node at level {level}, index {idx}" in result.problem
    if change == "overwritten":  # what a citizen's proof through it would meet
        beside = (idx ^ 1) << level  # an entry under its sibling: the node is on its path
        proof = log.audit.inclusion_proof(beside, 20)
        assert not merkle.verify_inclusion(proof.leaf_hash, beside, 20, proof.audit_path,
                                           log.audit.tree_head().head.root_hash)


@pytest.mark.parametrize("heads", ["all", "latest"])
def test_an_entry_is_checked_against_its_leaf_with_the_heads_deleted(log, heads):
    append(log, 12)
    batched(log, 5).integrate()
    lift_triggers(log.engine, "audit_log", "audit_tree_heads")
    index = 7 if heads == "all" else 11  # under the head of 10, or only under the latest
    with log.engine.begin() as conn:
        if heads == "all":
            conn.execute(delete(t.audit_tree_heads))
        else:
            conn.execute(delete(t.audit_tree_heads).where(t.audit_tree_heads.c.tree_size == 12))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == index)
                     .values(purpose="forged"))

    result = verify_log(log.uows, log.key_store.jwks())

    assert (result.ok, result.bad_index) == (False, index), result.problem
    assert "differs from the entry the tree holds" in result.problem


# -- the chain of signed tree heads ----------------------------------------------------------


def test_each_head_names_the_one_before_it(log):
    append(log, 12)
    batched(log, 5).integrate()

    with log.uows() as uow:
        heads = [signed.head for signed in uow.tree.heads()]

    assert [(h.tree_size, h.previous.tree_size) for h in heads] == [(5, 0), (10, 5), (12, 10)]
    assert heads[0].previous.root_hash == merkle.EMPTY_ROOT
    assert [h.previous.root_hash for h in heads[1:]] == [h.root_hash for h in heads[:-1]]
    result = verify_log(log.uows, log.key_store.jwks())
    assert result.ok and (result.chained_from, result.unchained) == (5, 0)


@pytest.mark.parametrize("missing", [5, 10])
def test_a_head_deleted_from_the_chain_is_named(log, missing):
    append(log, 12)
    batched(log, 5).integrate()
    lift_triggers(log.engine, "audit_tree_heads")
    with log.engine.begin() as conn:
        conn.execute(delete(t.audit_tree_heads).where(t.audit_tree_heads.c.tree_size == missing))

    result = verify_log(log.uows, log.key_store.jwks())

    assert (result.ok, result.bad_index) == (False, missing), result.problem
    assert f"the tree head of size {missing} is missing" in result.problem


def sign_unchained(log: Exchange, size: int) -> None:
    """A head as signed before heads named the one before them: no `previous` at all."""
    with log.uows(write=True) as uow:
        latest = uow.tree.latest_head()
        start = latest.head.tree_size if latest else 0
        leaves = [merkle.leaf_hash(r.leaf()) for r in uow.audit.entries(start, size)]
        uow.tree.add_nodes(merkle.integrate(start, leaves, uow.tree.read))
        head = TreeHead(size, merkle.root_at(size, uow.tree.read), 1_700_000_000_000)
        uow.tree.add_head(SignedTreeHead(head, log.key_store.sign_compact_for("GOV/EXCHANGE",
                                                                         head.payload())))
        uow.commit()


def test_heads_from_before_the_chain_verify_and_the_chain_starts_after_them(log):
    append(log, 7)
    sign_unchained(log, 2)
    sign_unchained(log, 4)
    head = log.audit.integrate().head

    assert (head.previous.tree_size, head.previous.root_hash) == (
        4, log.audit.root_at(4))
    result = verify_log(log.uows, log.key_store.jwks())
    assert result.ok, result.problem
    assert (result.heads, result.unchained, result.chained_from) == (3, 2, 7)

    lift_triggers(log.engine, "audit_tree_heads")
    with log.engine.begin() as conn:  # the last head from before the chain is still held
        conn.execute(delete(t.audit_tree_heads).where(t.audit_tree_heads.c.tree_size == 4))
    result = verify_log(log.uows, log.key_store.jwks())
    assert (result.ok, result.bad_index) == (False, 4), result.problem


# -- an exchange not yet set up ----------------------------------------------------------------


def test_without_an_operator_key_no_head_is_signed_and_the_service_says_so(exchange):
    with pytest.raises(ExchangeNotInitialised, match="cannot sign tree heads"):
        exchange.audit.tree_head()
    with pytest.raises(ExchangeNotInitialised):
        exchange.audit.check_signer()
    _operator(exchange)
    exchange.audit.check_signer()
    head = exchange.audit.tree_head().head
    assert (head.tree_size, head.root_hash) == (0, merkle.EMPTY_ROOT)
    assert datetime.fromtimestamp(head.timestamp / 1000, UTC) <= exchange.clock.now()


def test_a_citizens_verification_of_an_unreadable_entry_fails_saying_why(log):
    from onceonly.services.entry_verification import verify_entry

    append(log, 4)
    log.audit.integrate()
    lift_triggers(log.engine)
    write_raw(log.engine, 2, "detail", "[1, 2]", as_json=True)

    result = verify_entry(log.audit, log.key_store.jwks(), ADMIN, 2)

    assert not result.ok
    assert "does not read (detail is a list, not a JSON object)" in result.problem
