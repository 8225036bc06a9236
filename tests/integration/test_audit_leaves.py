"""The whole log read as leaves straight from the driver's cursor (`audit verify`, archive
bundles), on SQLite and PostgreSQL: the same bytes as each entry read the long way, the
fast reading taken for entries as appends write them, and the long way for the rest."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onceonly.adapters.db.audit_leaves import _SPELLED, BETWEEN, quick_leaf, stream_leaves
from onceonly.adapters.db.migrate import upgrade
from onceonly.audit.entries import AuditEntry, AuditRecord, UnreadableEntry
from onceonly.audit.merkle import leaf_hash
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.crypto.canonical import orjson_exact
from tests.integration.test_audit import entry
from tests.integration.test_audit_integrity import _operator, lift_triggers, write_raw

# Entries as appends write them, in their variety: the fast reading takes each.
ORDINARY = [
    entry(0),
    entry(1, purpose="Gwasanaeth ŵ — “quoted” \\ \u2028 \x07", reason=None, actor_id=None),
    entry(2, detail={"z": [1, {"b": None, "a": True}], "é": "😀", "n": -(2**53 - 1)}),
    entry(3, fields=(), agreement_id=None, values_hash=None),
]
# Values only rfc8785 writes (a float; a key beyond the Basic Multilingual Plane, whose
# UTF-16 order is not orjson's): read the long way.
LONG_WAY = [entry(4, detail={"ratio": 0.5}), entry(5, detail={"😀": 1, "\uffff": 2})]


def _append(exchange: Exchange) -> None:
    now = exchange.clock.now()
    with exchange.uows(write=True) as uow:
        for n, appended in enumerate([*ORDINARY, *LONG_WAY]):
            hidden = now + timedelta(days=30, microseconds=7) if n == 2 else None
            uow.audit.record(replace(appended, hidden_until=hidden),
                             now + timedelta(microseconds=n))
        uow.commit()


def _leaves(log, start, stop):
    return stream_leaves(log, BETWEEN, {"start": start, "stop": stop})


def _leaf_hashes(uow, start, stop, stored):
    """The stream's batches as (index, hash) pairs (a batch's two lists as long)."""
    return [pair for indexes, hashes in uow.audit.leaf_hashes(start, stop, stored)
            for pair in zip(indexes, hashes, strict=True)]


def test_leaves_read_fast_are_the_entries_leaves_on_both_databases(exchange):
    _append(exchange)
    count = len(ORDINARY) + len(LONG_WAY)
    with exchange.uows() as uow:
        long_way = [(r.index, r.leaf()) for r in uow.audit.entries(0, count)
                    if isinstance(r, AuditRecord)]
        assert list(_leaves(uow.audit, 0, count)) == long_way
        assert list(_leaves(uow.audit, 2, 4)) == long_way[2:4]
        rows = [row for rows in BETWEEN.fast[uow.conn.dialect.name].stream(
            uow.conn, {"start": 0, "stop": count}) for row in rows]
    fast = [quick_leaf(row) for row in rows]
    assert fast[:len(ORDINARY)] == [leaf for _, leaf in long_way[:len(ORDINARY)]]
    assert fast[len(ORDINARY):] == [None] * len(LONG_WAY)


def test_a_row_changed_behind_the_logs_back_is_read_the_long_way_and_named(exchange):
    _append(exchange)
    lift_triggers(exchange.engine)
    write_raw(exchange.engine, 1, "detail", "[1, 2]", as_json=True)
    write_raw(exchange.engine, 3, "fields", "[ ]", as_json=True)  # the same JSON, respaced
    with exchange.uows() as uow:
        leaves = dict(_leaves(uow.audit, 0, 6))
        long_way = {r.index: r for r in uow.audit.entries(0, 6)}
    assert isinstance(leaves[1], UnreadableEntry)
    assert str(leaves[1]) == "entry 1: unreadable (detail is a list, not a JSON object)"
    assert leaves[3] == long_way[3].leaf()  # type: ignore[union-attr]


# -- leaf hashes, as `audit verify` reads them: spelled by SQLite where the tree holds a leaf

@pytest.fixture
def log(exchange: Exchange) -> Exchange:
    """An exchange whose operator signs tree heads, so that entries can be integrated."""
    _operator(exchange)
    return exchange


def _long_way_hashes(uow, start: int, stop: int) -> list[tuple[int, bytes | UnreadableEntry]]:
    return [(r.index, r if isinstance(r, UnreadableEntry) else leaf_hash(r.leaf()))
            for r in uow.audit.entries(start, stop)]


def _spelled(uow, start: int, stop: int) -> list[bytes | None]:
    assert _SPELLED is not None, "this SQLite's json_valid can be made strict"
    return [leaf for rows in _SPELLED.stream(uow.conn, {"start": start, "stop": stop})
            for _, leaf in rows]


def test_leaf_hashes_are_the_long_ways_on_both_databases_spelled_by_sqlite_where_it_can(log):
    _append(log)
    count = len(ORDINARY) + len(LONG_WAY)
    log.audit.integrate()
    with log.uows() as uow:
        stored = uow.tree.complete_level(0, 0, count)
        long_way = _long_way_hashes(uow, 0, count)
        assert _leaf_hashes(uow, 0, count, stored) == long_way
        assert _leaf_hashes(uow, 2, count, []) == long_way[2:]  # no tree yet
        assert _leaf_hashes(uow, 0, count, stored[:1]) == long_way
        assert _leaf_hashes(uow, 1, count, stored[1:]) == long_way[1:]
        if uow.conn.dialect.name == "sqlite":
            spelled = _spelled(uow, 0, count)
            leaves = {r.index: r.leaf() for r in uow.audit.entries(0, count)}
            # Entry 2's detail holds text beyond ASCII, stored escaped, and entry 5 keys
            # out of UTF-16 order: spelled otherwise, so read again. Entry 4's float is
            # stored as RFC 8785 writes it (0.5): its spelling is kept.
            assert [spelled[i] == leaves[i] for i in range(count)] == [
                True, True, False, True, True, False]


# Text PostgreSQL stores (no NUL); ASCII where JSON should be stored as RFC 8785 writes it.
_ASCII = st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=10)
_JSON = st.recursive(
    st.none() | st.booleans() | _ASCII | st.integers(-(2**53) + 1, 2**53 - 1),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ASCII, inner, max_size=3),
    max_leaves=6)
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                    max_size=10)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.builds(
    AuditEntry, action=_ANY_TEXT, outcome=_ASCII, actor_id=st.none() | _ANY_TEXT,
    org_id=st.none() | _ASCII, reason=st.none() | _ANY_TEXT,
    agreement_id=st.none() | st.integers(-(2**31), 2**31 - 1),  # PostgreSQL: an integer
    fields=st.lists(_ASCII, max_size=3).map(tuple),
    detail=st.dictionaries(_ASCII, _JSON, max_size=3) | st.dictionaries(_ANY_TEXT, st.floats(
        allow_nan=False, allow_infinity=False) | _ANY_TEXT, max_size=2),
    hidden_until=st.none() | st.datetimes(timezones=st.just(UTC))), min_size=1, max_size=5))
def test_generated_entries_leaf_hashes_are_the_long_ways_and_sqlites_spelling_its_bytes(
        log, entries):
    with log.uows(write=True) as uow:
        start = uow.audit.size() or 0
        for appended in entries:
            uow.audit.record(appended, log.clock.now())
        uow.commit()
    stop = start + len(entries)
    log.audit.integrate()
    with log.uows() as uow:
        stored = uow.tree.complete_level(0, start, stop)
        long_way = _long_way_hashes(uow, start, stop)
        assert _leaf_hashes(uow, start, stop, stored) == long_way
        if uow.conn.dialect.name == "sqlite":
            for record, spelled in zip(uow.audit.entries(start, stop), _spelled(uow, start, stop),
                                       strict=True):
                assert isinstance(record, AuditRecord)
                # Kept only where it is the leaf's bytes; and it is, for JSON whose text
                # an append stores as RFC 8785 writes it (keys in order, no float, no \u
                # escape: json.dumps writes one for all but printable ASCII).
                detail, fields = record.entry.detail, list(record.entry.fields)
                if (json.dumps(detail) == json.dumps(detail, sort_keys=True)
                        and orjson_exact(detail)
                        and "\\u" not in json.dumps(detail) + json.dumps(fields)):
                    assert spelled == record.leaf()
                elif spelled is not None and spelled != record.leaf():
                    assert leaf_hash(spelled) != stored[record.index - start]


@pytest.mark.parametrize(("column", "value"), [
    ("at", "2026-11-24T12:00:00.000005"),  # a time respelled: T for the space
    ("at", b"2026-11-24 12:00:00.000005"),  # the same bytes as a BLOB
    ("action", b"query.release"),
    ("agreement_id", "1"),
    ("agreement_id", 1.0),
    ("hidden_until", "2026-11-24 12:00:00"),
    ("detail", '{"z": 1, "a": 2}'),  # keys out of order: the same object, read again
    ("detail", b'{"a": 1}'),
    ("detail", "{a: 1}"),
    ("fields", "not json"),
])
def test_a_row_changed_behind_the_logs_back_gives_the_long_ways_verdict_on_sqlite(
        sqlite_url, clock, column, value):
    """SQLite only: it stores what PostgreSQL's column types refuse, and only SQLite's
    spelling of a leaf is kept by its hash."""
    log = bootstrap(sqlite_url, clock=clock)
    upgrade(log.engine)
    _operator(log)
    _append(log)
    log.audit.integrate()
    lift_triggers(log.engine)
    write_raw(log.engine, 1, column, value,
              as_json=column in ("detail", "fields") and not isinstance(value, bytes))
    with log.uows() as uow:
        stored = uow.tree.complete_level(0, 0, 6)
        long_way = _long_way_hashes(uow, 0, 6)
        assert _leaf_hashes(uow, 0, 6, stored) == long_way
    log.close()
