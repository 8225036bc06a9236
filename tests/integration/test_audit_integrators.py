"""Integrators in several processes at once (servers, the init step, `audit` commands):
whichever signs a head first, the others find it signed, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from onceonly.services.audit_verification import verify_log
from tests.integration.test_audit import append, batched, entry, stored_leaves
from tests.integration.test_audit import log as log  # noqa: F401 - the fixture


def test_an_integrator_that_found_the_log_empty_finds_its_first_head_signed_since(log):
    other, late = batched(log, 7), batched(log, 7)
    uows = late.uows

    def other_signs_first(**options: Any) -> Any:
        if options.get("write"):  # between the late one's look and its write
            late.uows = uows
            other.integrate()
        return uows(**options)

    late.uows = other_signs_first
    head = late.integrate()
    assert head.head.tree_size == 0
    with log.uows() as uow:
        assert [h.head for h in uow.tree.heads()] == [head.head]
    append(log, 3)
    assert late.integrate().head.tree_size == 3
    assert verify_log(log.uows, log.key_store.jwks()).ok


def test_integration_commits_to_each_entrys_leaf_as_read_the_long_way_in_order(log):
    """Integration hashes leaves straight from the rows; every kind of entry (a value only
    rfc8785 writes, a hidden one, text beyond ASCII) gets the leaf its full reading gives,
    at its index, batch after batch, and after an integrator that died before writing."""
    append(log, 3)
    with log.uows(write=True) as uow:
        for detail, hidden in (({"score": 0.5}, None), ({"name": "Siân Ó"}, None),
                               ({}, log.clock.now() + timedelta(days=30))):
            uow.audit.record(entry(9, detail=detail, hidden_until=hidden), log.clock.now())
        uow.commit()
    append(log, 4, start=3)
    dying = batched(log, 4)

    def dies_before_writing(**options: Any) -> Any:
        if options.get("write"):
            raise KeyboardInterrupt  # the process killed between its read and its write
        return log.uows(**options)

    dying.uows = dies_before_writing
    with pytest.raises(KeyboardInterrupt):
        dying.integrate()
    assert batched(log, 4).integrate().head.tree_size == 10
    with log.uows() as uow:
        tree = uow.tree.level(0, 0, 10)
    assert [tree[i] for i in range(10)] == stored_leaves(log)
    assert verify_log(log.uows, log.key_store.jwks()).ok
