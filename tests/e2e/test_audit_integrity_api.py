"""The audit log's faults as the API and a serving process meet them, on SQLite and
PostgreSQL: an entry whose row no longer reads (its append-only triggers lifted, as anyone
holding the database can) is answered as a problem while every other entry is served; the
server's integrator stops at it, alerts the operator once, shows it on /metrics and goes on
once it is mended; a freshly migrated exchange says it is not ready instead of failing."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import structlog
from sqlalchemy import Engine, text

from onceonly.audit import merkle
from onceonly.audit.entries import AuditEntry, EntryUnreadable
from onceonly.audit.heads import b64
from onceonly.bootstrap import Exchange
from onceonly.client import OnceonlyClient
from onceonly.demo.seed import World
from onceonly.entrypoints.api import background
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.audit_metrics import AuditCollector
from onceonly.entrypoints.api.server import running
from tests.integration.test_audit import _operator
from tests.support.loops import run_in_own_loop
from tests.support.problems import assert_problem


def lift_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))


def set_detail(engine: Engine, index: int, json_text: str) -> None:
    value = "CAST(:v AS json)" if engine.dialect.name == "postgresql" else ":v"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE audit_log SET detail = {value} WHERE seq = :i"),
                     {"v": json_text, "i": index})


def append_unreadable(exchange: Exchange) -> int:
    """An entry that does not read from the moment it is committed (appended and spoilt in
    one transaction): no integrator can have signed it first."""
    with exchange.uows(write=True) as uow:
        index = uow.audit.record(AuditEntry("token.issue", "done", "x", "GOV/DWP"),
                                 exchange.clock.now())
        uow.conn.execute(  # type: ignore[attr-defined]
            text("UPDATE audit_log SET detail = "
                 + ("CAST('[1, 2]' AS json)" if exchange.engine.dialect.name == "postgresql"
                    else "'[1, 2]'") + " WHERE seq = :i"), {"i": index})
        uow.commit()
    return index


def principal(world: World, label: str):
    return next(a.principal for a in world.accounts if a.label == label)


def metric(body: str, name: str) -> float | None:
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_an_unreadable_entry_is_a_problem_and_every_other_entry_is_served(
        exchange: Exchange, world: World) -> None:
    exchange.audit.integrate()
    lift_triggers(exchange.engine)
    set_detail(exchange.engine, 40, "[1, 2]")
    pending = append_unreadable(exchange)
    with pytest.raises(EntryUnreadable):
        exchange.audit.integrate()
    admin = {"Authorization": f"Bearer {world.token('admin')}"}
    officer = {"Authorization": f"Bearer {world.token('officer:GOV/DWP')}"}

    with running(create_app(exchange, integrate_every=0)) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        single = client.get("/v1/audit/entries/40", headers=admin)
        beside = client.get("/v1/audit/entries/41", headers=admin)
        page = client.get("/v1/audit/entries", params={"limit": 200}, headers=admin)
        officers = client.get("/v1/audit/entries", headers=officer)
        alerts = client.get("/v1/operator-alerts", headers=admin)
        refused = client.get("/v1/operator-alerts", headers=officer)
        figures = client.get("/metrics", headers=admin)
        documented = client.get("/openapi.json").json()
        outside = OnceonlyClient(base, token=world.token("admin"))
        check = outside.check_log(samples=3, rng=Always(40))
        outside.close()

    body = assert_problem(single, 500, "entry_unreadable")
    assert body["detail"] == "entry 40: unreadable (detail is a list, not a JSON object)"
    assert beside.status_code == 200 and beside.json()["entry"]["index"] == 41
    listed = {item["index"]: item for item in page.json()["entries"]}
    assert listed[40] == {"index": 40, "code": "entry_unreadable",
                          "detail": "entry 40: unreadable (detail is a list, not a JSON object)"}
    assert listed[pending]["code"] == "entry_unreadable"
    assert all("entry" in item for index, item in listed.items() if index not in (40, pending))
    assert sorted(listed) == list(range(max(listed) + 1))  # none left out
    assert officers.status_code == 200, officers.text
    [alert] = alerts.json()
    assert (alert["kind"], alert["audit_index"], alert["cleared_at"]) == (
        "audit_entry_unreadable", pending, None)
    assert_problem(refused, 403, "role_not_allowed")
    assert metric(figures.text, "onceonly_audit_integration_stopped") == 1
    assert metric(figures.text, "onceonly_audit_stopped_at_index") == pending
    answers = documented["paths"]["/v1/audit/entries/{index}"]["get"]["responses"]
    assert "entry_unreadable" in answers["500"]["description"]
    assert check.problems == ["entry 40 is unreadable on the server: entry 40: unreadable "
                              "(detail is a list, not a JSON object)"]


class Always:
    """A sampler that always picks one index: the checker's sample made certain."""

    def __init__(self, index: int) -> None:
        self.index = index

    def randrange(self, _stop: int) -> int:
        return self.index


def test_the_servers_integrator_stops_alerts_once_and_goes_on_when_mended(
        exchange: Exchange, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    captured = structlog.testing.CapturingLogger()
    monkeypatch.setattr(background, "log", structlog.wrap_logger(
        captured, processors=[], wrapper_class=structlog.make_filtering_bound_logger(0)))
    admin = principal(world, "admin")
    exchange.audit.integrate()
    lift_triggers(exchange.engine)
    app = create_app(exchange, integrate_every=0.02)

    async def until(condition, what: str) -> None:
        deadline = time.monotonic() + 20
        while not condition():
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.02)

    def open_alerts() -> list[int | None]:
        return [a.audit_index for a in exchange.audit.operator_alerts(admin)
                if a.cleared_at is None]

    async def serve() -> tuple[int, int, float, list[str]]:
        async with app.router.lifespan_context(app):
            index = append_unreadable(exchange)
            await until(lambda: open_alerts() == [index], "no alert was raised")
            await asyncio.sleep(0.3)  # many more ticks, each stopping at the same entry
            signed = exchange.audit.tree_head().head.tree_size
            stopped = {m.name: m.samples[0].value
                       for m in AuditCollector(exchange.audit).collect()}
            set_detail(exchange.engine, index, "{}")  # mended
            await until(lambda: exchange.audit.tree_head().head.tree_size > index,
                        "integration did not go on")
            await until(lambda: not open_alerts(), "the alert was not cleared")
        return index, signed, stopped["onceonly_audit_stopped_at_index"], [
            m.name for m in AuditCollector(exchange.audit).collect()]

    index, signed, stopped_at, after = run_in_own_loop(serve())

    assert signed == index and stopped_at == index
    assert "onceonly_audit_stopped_at_index" not in after
    logged = [call.kwargs for call in captured.calls
              if call.kwargs.get("work") == "audit-integrator"]
    assert [(line["event"], line["error"]) for line in logged] == [
        ("background work failed", f"entry {index}: unreadable (detail is a list, not a JSON "
                                   "object)"),
        ("background work recovered", f"entry {index}: unreadable (detail is a list, not a "
                                      "JSON object)")]
    assert logged[1]["failures"] > 5  # failed every tick, logged once


def test_a_fresh_exchange_is_not_ready_until_its_operator_has_a_key(exchange: Exchange) -> None:
    with running(create_app(exchange, integrate_every=0)) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        head = client.get("/v1/audit/tree-head")
        health = client.get("/healthz")
        _operator(exchange)
        head_after = client.get("/v1/audit/tree-head")
        health_after = client.get("/healthz")

    assert_problem(head, 503, "exchange_not_initialised")
    assert head.headers["retry-after"]
    assert "operator signing key" in assert_problem(health, 503,
                                                    "exchange_not_initialised")["detail"]
    assert head_after.status_code == 200, head_after.text
    assert (head_after.json()["tree_size"], head_after.json()["root_hash"]) == (
        0, b64(merkle.EMPTY_ROOT))
    assert health_after.json() == {"status": "ok"}
