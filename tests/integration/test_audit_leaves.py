"""The whole log read as leaves straight from the driver's cursor (`audit verify`, archive
bundles), on SQLite and PostgreSQL: the same bytes as each entry read the long way, the
fast reading taken for entries as appends write them, and the long way for the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from onceonly.adapters.db.audit_leaves import BETWEEN, quick_leaf, stream_leaves
from onceonly.audit.entries import AuditRecord, UnreadableEntry
from onceonly.bootstrap import Exchange
from tests.integration.test_audit import entry
from tests.integration.test_audit_integrity import lift_triggers, write_raw

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
