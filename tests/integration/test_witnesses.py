"""Two exchanges witnessing each other's audit logs on PostgreSQL, over real HTTP on
127.0.0.1 (C2SP tlog-witness and tlog-cosignature): each head cosigned once its consistency
with the last one cosigned is proven, the cosignatures kept with the head and shown with it;
a log rolled back and a log forked each refused by the witness, entered in the witness's
own audit log with an operator alert; and a server on a rolled-back log refusing to start."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select, update

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.audit.checkpoints import parse_note
from onceonly.bootstrap import Exchange, bootstrap, witness_for, witnesses_for
from onceonly.crypto.cosignatures import (
    Witness,
    load_key,
    new_key,
    read_signature_line,
    verify_cosignature,
)
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.services.witnesses import CosigningFailed, LogBehindWitness
from tests.integration.test_audit import _operator, append
from tests.integration.test_audit_integrity import lift_triggers
from tests.support.postgres import fresh_schema


@dataclass
class Peer:
    name: str  # a or b
    url: str  # the database
    exchange: Exchange
    witness: Witness  # its own witness identity
    key_file: Path
    base: str = ""  # its server's URL, once serving
    logs_file: Path | None = None  # the logs it watches, once wired
    witnessed_by: list[tuple[str, str]] = field(default_factory=list)  # (url, vkey)

    @property
    def origin(self) -> str:
        return f"{self.name}.example/audit"


def make_peer(name: str, url: str, folder: Path) -> Peer:
    exchange = bootstrap(url, clock=MovableClock())
    upgrade(exchange.engine)
    _operator(exchange)
    key_file = folder / f"{name}-witness.pem"
    key_file.write_bytes(new_key())
    identity = Witness(f"{name}.example/witness", load_key(key_file.read_bytes()).public_key())
    return Peer(name, url, exchange, identity, key_file)


def wire(peer: Peer, other: Peer, folder: Path) -> None:
    """`peer` witnesses `other`'s log, and is witnessed by `other`."""
    logs = folder / f"{peer.name}-watches.json"
    logs.write_text(json.dumps({"logs": [{"origin": other.origin, "log_org": "GOV/EXCHANGE",
                                          "jwks": other.exchange.key_store.jwks()}]}))
    peer.logs_file = logs
    peer.witnessed_by = [(f"{other.base}/witness", other.witness.vkey)]
    configure_witnessing(peer)


def configure_witnessing(peer: Peer) -> None:
    """The peer's exchange configured as wired: its own witness and its log's witnesses."""
    ex = peer.exchange
    ex.witness = witness_for(ex.uows, ex.clock, key_file=peer.key_file,
                             logs_file=peer.logs_file, name=peer.witness.name)
    ex.witnesses = witnesses_for(ex.uows, ex.clock, origin=peer.origin,
                                 configured=peer.witnessed_by)


@pytest.fixture
def peers(postgres_server: str, tmp_path: Path) -> Iterator[tuple[Peer, Peer]]:
    with ExitStack() as stack:
        a = make_peer("a", stack.enter_context(fresh_schema(postgres_server)), tmp_path)
        b = make_peer("b", stack.enter_context(fresh_schema(postgres_server)), tmp_path)
        a.base = stack.enter_context(running(create_app(a.exchange, integrate_every=0)))
        b.base = stack.enter_context(running(create_app(b.exchange, integrate_every=0)))
        wire(a, b, tmp_path)
        wire(b, a, tmp_path)
        yield a, b
        a.exchange.close()
        b.exchange.close()


def grow(peer: Peer, count: int, start: int = 0) -> int:
    append(peer.exchange, count, start=start)
    return peer.exchange.audit.integrate().head.tree_size


def refusals(witness: Peer) -> list[tuple[str | None, dict]]:
    with witness.exchange.engine.connect() as conn:
        return [(row.reason, row.detail) for row in conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "witness.cosign"))]


def open_alerts(witness: Peer) -> list[str]:
    with witness.exchange.engine.connect() as conn:
        return [row.kind for row in conn.execute(select(t.operator_alerts).where(
            t.operator_alerts.c.cleared_at.is_(None)))]


def roll_back(peer: Peer, size: int) -> Exchange:
    """What restoring an old copy of the database does: the log as it was at `size`
    entries (a head of that size among them). Returns the exchange started again on it."""
    engine = peer.exchange.engine
    lift_triggers(engine, "audit_log", "audit_nodes", "audit_tree_heads")
    with engine.begin() as conn:
        conn.execute(delete(t.audit_log).where(t.audit_log.c.seq >= size))
        conn.execute(delete(t.audit_tree_heads).where(t.audit_tree_heads.c.tree_size > size))
        for level in range(40):
            nodes = t.audit_nodes.c
            conn.execute(delete(t.audit_nodes).where(
                nodes.level == level, (nodes.idx + 1) * (1 << level) > size))
        conn.execute(delete(t.audit_head_cosignatures)
                     .where(t.audit_head_cosignatures.c.tree_size > size))
        conn.execute(update(t.audit_counter).values(next_index=size))
    peer.exchange.close()
    peer.exchange = bootstrap(peer.url, clock=MovableClock())
    configure_witnessing(peer)  # started again with the same configuration
    return peer.exchange


def test_two_exchanges_cosign_each_others_heads_and_show_the_cosignatures(peers):
    a, b = peers
    first = grow(a, 3)
    a.exchange.witnesses.send_latest()
    grow(b, 2)
    b.exchange.witnesses.send_latest()
    second = grow(a, 4, start=3)  # proven consistent with the 3 cosigned before
    a.exchange.witnesses.send_latest()
    assert [c.witness for c in a.exchange.witnesses.cosignatures(first)] == [b.witness.name]
    assert [c.witness for c in b.exchange.witnesses.cosignatures(2)] == [a.witness.name]
    shown = httpx.get(f"{a.base}/v1/audit/tree-head").json()
    assert shown["tree_size"] == second
    body = shown["checkpoint"].encode()
    assert body == f"{a.origin}\n{second}\n{shown['root_hash']}\n".encode()
    [cosignature] = shown["cosignatures"]
    assert cosignature["witness"] == b.witness.name
    signature = base64.b64decode(cosignature["signature"])
    assert verify_cosignature(b.witness, body, signature) == cosignature["timestamp"]
    # The witness's own record, as a note with its cosignature: what a restarted log asks.
    note = parse_note(httpx.get(f"{b.base}/witness/checkpoint",
                                params={"origin": a.origin}).text)
    assert (note.tree_size, note.origin) == (second, a.origin)
    [line] = [f"\u2014 {n} {s}" for n, s in note.signatures]
    assert verify_cosignature(b.witness, note.body, read_signature_line(b.witness, line))
    assert refusals(b) == [] and a.exchange.witnesses.check_current() == []


def test_a_rolled_back_log_is_refused_by_its_witness_and_does_not_serve(peers):
    a, b = peers
    kept = grow(a, 3)
    a.exchange.witnesses.send_latest()
    newest = grow(a, 5, start=3)
    a.exchange.witnesses.send_latest()
    restarted = roll_back(a, kept)
    with pytest.raises(LogBehindWitness, match=f"cosigned {newest} entries .* latest signed "
                                               f"head has {kept}"):
        restarted.witnesses.check_current()
    app = create_app(restarted, integrate_every=0)

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    from tests.support.loops import run_in_own_loop
    with pytest.raises(LogBehindWitness, match="refusing to serve"):
        run_in_own_loop(start())
    # Sent anyway, a new head of the old log is refused: the witness says so in its own
    # log, and alerts its operator.
    append(restarted, 2, start=50)
    assert restarted.audit.integrate().head.tree_size < newest
    with pytest.raises(LogBehindWitness, match="rolled back"):
        restarted.witnesses.send_latest()
    [(reason, detail)] = refusals(b)
    assert reason == "log_rolled_back"
    assert detail["origin"] == a.origin and detail["tree_size"] == kept + 2
    assert "witness_log_rolled_back" in open_alerts(b)


def test_a_forked_log_is_refused_by_its_witness(peers):
    a, b = peers
    kept = grow(a, 3)
    a.exchange.witnesses.send_latest()
    cosigned = grow(a, 5, start=3)
    a.exchange.witnesses.send_latest()
    restarted = roll_back(a, kept)
    append(restarted, 7, start=100)  # other entries after the fork point
    forked = restarted.audit.integrate().head.tree_size
    assert forked > cosigned
    with pytest.raises(CosigningFailed, match="HTTP 422"):
        restarted.witnesses.send_latest()
    # First told the size it cosigned last (the restored log did not know), then the proof
    # from it fails.
    assert [reason for reason, _ in refusals(b)] == ["old_size_mismatch", "log_forked"]
    assert "witness_log_forked" in open_alerts(b)
    assert restarted.witnesses.cosignatures(forked) == []
    with pytest.raises(LogBehindWitness, match="forked"):
        restarted.witnesses.check_current()


def test_a_second_root_for_a_cosigned_size_is_refused_as_a_fork(peers):
    a, b = peers
    kept = grow(a, 2)
    a.exchange.witnesses.send_latest()
    cosigned = grow(a, 4, start=2)
    a.exchange.witnesses.send_latest()
    restarted = roll_back(a, kept)
    append(restarted, cosigned - kept, start=200)
    assert restarted.audit.integrate().head.tree_size == cosigned
    with pytest.raises(CosigningFailed):
        restarted.witnesses.send_latest()
    (first, _), (reason, detail) = refusals(b)
    assert first == "old_size_mismatch"
    assert reason == "log_forked" and "two roots" in detail["detail"]
    assert "witness_log_forked" in open_alerts(b)


def test_the_witness_refuses_heads_not_signed_by_the_log_and_logs_it_does_not_watch(peers):
    a, b = peers
    grow(a, 2)
    head = a.exchange.audit.tree_head()
    stranger = witnesses_for(a.exchange.uows, a.exchange.clock, origin="c.example/audit",
                             configured=[(f"{b.base}/witness", b.witness.vkey)])
    with pytest.raises(CosigningFailed, match="404"):
        stranger.send_latest()
    forged = a.exchange.witnesses.checkpoint(head).replace(
        head.signature.encode(), b.exchange.audit.tree_head().signature.encode())
    answer = httpx.post(f"{b.base}/witness/add-checkpoint",
                        content=b"old 0\n\n" + forged)
    assert answer.status_code == 403 and answer.json()["code"] == "checkpoint_not_signed"
    assert [reason for reason, _ in refusals(b)] == ["unknown_log", "checkpoint_not_signed"]
    assert httpx.post(f"{b.base}/witness/add-checkpoint", content=b"nonsense").status_code == 400


def test_audit_check_requires_the_cosignatures_asked_for(peers):
    from typer.testing import CliRunner

    from onceonly.entrypoints.cli import app as cli

    a, b = peers
    grow(a, 3)
    runner = CliRunner()
    check = ["audit", "check", "--url", a.base, "--witness", b.witness.vkey,
             "--cosignatures", "1"]
    waiting = runner.invoke(cli, check)
    assert waiting.exit_code == 1
    assert "0 valid cosignatures of the witnesses named, 1 required" in " ".join(
        waiting.output.split())
    a.exchange.witnesses.send_latest()
    cosigned = runner.invoke(cli, check)
    assert cosigned.exit_code == 0, cosigned.output
    assert f"cosigned by 1 witnesses: {b.witness.name}" in cosigned.output
    # A witness key that did not cosign does not count, and cannot be asked for twice over.
    other = runner.invoke(cli, ["audit", "check", "--url", a.base, "--witness",
                                a.witness.vkey, "--cosignatures", "1"])
    assert other.exit_code == 1
    too_many = runner.invoke(cli, [*check[:-1], "2"])
    assert too_many.exit_code == 2 and "needs at least as many --witness" in too_many.output


def test_readiness_shows_the_heads_waiting_for_a_witness_and_stays_ready(peers):
    a, _ = peers
    grow(a, 3)
    a.exchange.witnesses.send_latest()
    assert httpx.get(f"{a.base}/readyz").json()["witnesses"] == {
        "heads_waiting": 0, "oldest_waiting_seconds": None}
    grow(a, 2, start=3)
    grow(a, 2, start=5)
    a.exchange.clock.advance(timedelta(minutes=5))
    ready = httpx.get(f"{a.base}/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    waiting = ready.json()["witnesses"]
    assert waiting["heads_waiting"] == 2
    assert 300 <= waiting["oldest_waiting_seconds"] < 310
    a.exchange.witnesses.send_latest()  # the newest head's cosignature covers both
    assert httpx.get(f"{a.base}/readyz").json()["witnesses"]["heads_waiting"] == 0


def test_closing_the_exchange_closes_its_witnesses_clients(peers):
    a, _ = peers
    clients = [endpoint._client for endpoint in a.exchange.witnesses.endpoints]
    assert clients and not any(client.is_closed for client in clients)
    a.exchange.close()
    assert all(client.is_closed for client in clients)
