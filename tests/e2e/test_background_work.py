"""What a serving app does between requests, on SQLite and PostgreSQL: it brings each new
audit entry under a signed tree head within the interval and leaves none outside one when it
stops; with SQLite it does so on the event loop, where the requests run, and with PostgreSQL
on threads of its own (api/background.py)."""

from __future__ import annotations

import asyncio
import threading
import time

from onceonly.entrypoints.api.app import create_app
from onceonly.services.queries import QueryCommand
from tests.support.loops import run_in_own_loop


def officer(world, org):
    return next(a.principal for a in world.accounts if a.label == f"officer:{org}")


def a_release(exchange, world) -> int:
    command = QueryCommand(agreement_id=1, scheme="nino", value=world.citizen_ids["nino"],
                           fields=("income_band",), purpose="benefit-entitlement")
    return exchange.queries.query(officer(world, "GOV/DWP"), command).audit_seq


def signed_size(exchange) -> int:
    with exchange.uows() as uow:
        latest = uow.tree.latest_head()
    return latest.head.tree_size if latest else 0


def test_new_entries_come_under_a_signed_head_while_serving(exchange, world, monkeypatch):
    threads: set[int] = set()
    integrate_batch = exchange.audit.integrate_batch

    def noting_the_thread(batch=None):
        threads.add(threading.get_ident())
        return integrate_batch(batch)

    monkeypatch.setattr(exchange.audit, "integrate_batch", noting_the_thread)
    app = create_app(exchange, integrate_every=0.05)

    async def serve() -> tuple[int, int]:
        async with app.router.lifespan_context(app):
            seq = a_release(exchange, world)
            deadline = time.monotonic() + 10
            while signed_size(exchange) <= seq:
                assert time.monotonic() < deadline, "the entry was never integrated"
                await asyncio.sleep(0.02)
            return seq, threading.get_ident()

    seq, loop_thread = run_in_own_loop(serve())
    assert signed_size(exchange) >= seq + 1
    assert (threads == {loop_thread}) is exchange.embedded_database


def test_stopping_leaves_no_entry_outside_a_signed_head(exchange, world):
    app = create_app(exchange, integrate_every=3600)  # no tick comes while serving

    async def serve() -> int:
        async with app.router.lifespan_context(app):
            return max(a_release(exchange, world) for _ in range(3))

    last = run_in_own_loop(serve())
    assert signed_size(exchange) == last + 1
