"""The audit log in the database, on SQLite and PostgreSQL: dense indexes, batched
integration under signed heads, proofs read from storage, and `verify_log` catching every
kind of tampering at the index it happened."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key
from onceonly.audit import merkle
from onceonly.audit.entries import AuditEntry
from onceonly.audit.heads import SignedTreeHead, TreeHead
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.crypto.signing import SigningKey
from onceonly.domain.errors import DomainError
from onceonly.services.audit import AuditService
from onceonly.services.audit_integration import Backlog
from onceonly.services.audit_verification import verify_log

OPERATOR = "GOV/EXCHANGE"


def _operator(exchange: Exchange) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.organisations).values(id=OPERATOR, name="Exchange operator"))
        add_signing_key(conn, OPERATOR, datetime.now(UTC), envelopes=exchange.envelopes)


@pytest.fixture
def log(exchange: Exchange) -> Exchange:
    """An empty exchange whose operator can sign tree heads."""
    _operator(exchange)
    return exchange


def entry(n: int, **changes) -> AuditEntry:
    fields = dict(action="query.release", outcome="permit", actor_id=f"officer-{n % 3}",
                  org_id="GOV/DWP", agreement_id=1, provider_id="GOV/HMRC",
                  purpose="benefit-entitlement", person_key=f"P{n:05d}",
                  fields=("income_band",), values_hash=f"{n:064x}")
    fields.update(changes)
    return AuditEntry(**fields)


def append(exchange: Exchange, count: int, start: int = 0) -> list[int]:
    indexes = []
    for n in range(start, start + count):
        with exchange.uows(write=True) as uow:
            indexes.append(uow.audit.record(entry(n), exchange.clock.now()))
            uow.commit()
    return indexes


def stored_leaves(exchange: Exchange) -> list[bytes]:
    with exchange.uows() as uow:
        return [merkle.leaf_hash(r.leaf()) for r in uow.audit.entries(0, uow.audit.size())]


def batched(exchange: Exchange, batch: int) -> AuditService:
    audit = exchange.audit
    return AuditService(audit.uows, audit.clock, audit.signer, audit.secrets,
                           audit.operator_org, batch=batch)


def test_indexes_are_dense_from_zero_and_entries_read_back_exactly(log):
    assert append(log, 5) == [0, 1, 2, 3, 4]
    with log.uows() as uow:
        records = uow.audit.entries(0, 5)
        assert uow.audit.size() == 5
    assert [r.entry for r in records] == [entry(n) for n in range(5)]


def test_a_rolled_back_append_leaves_no_gap(log):
    append(log, 2)
    with log.uows(write=True) as uow:
        assert uow.audit.record(entry(99), log.clock.now()) == 2
        # no commit: the unit of work rolls back
    assert append(log, 1, start=2) == [2]


def test_an_entry_with_no_canonical_form_is_refused_at_append(log):
    """Else it would sit in the log and stop the integrator for good."""
    with pytest.raises(ValueError), log.uows(write=True) as uow:
        uow.audit.record(entry(0, detail={"index": 2**60}), log.clock.now())
    assert append(log, 1) == [0]
    assert log.audit.integrate().head.tree_size == 1


def test_integration_in_batches_signs_heads_whose_roots_match_the_entries(log):
    append(log, 23)
    head = batched(log, 5).integrate()

    assert head.head.tree_size == 23
    assert head.head.root_hash == merkle.root(stored_leaves(log))
    with log.uows() as uow:
        sizes = [h.head.tree_size for h in uow.tree.heads()]
    assert sizes == [5, 10, 15, 20, 23]
    result = verify_log(log.uows, log.key_store.jwks())
    assert result.ok, result.problem
    assert (result.entries, result.signed_size, result.heads) == (23, 23, 5)


def test_one_batch_at_a_time_says_whether_entries_are_still_waiting(log):
    """The server's background work integrates a step at a time (api/background.py)."""
    append(log, 5)
    steps = [log.audit.integrate_batch(2) for _ in range(3)]
    assert [(head.head.tree_size, more) for head, more in steps] == [
        (2, True), (4, True), (5, False)]
    head, more = log.audit.integrate_batch(2)
    assert (head.head.tree_size, more) == (5, False)  # nothing new: the same head
    with log.uows() as uow:
        assert [h.head.tree_size for h in uow.tree.heads()] == [2, 4, 5]


def test_the_backlog_counts_entries_waiting_and_the_latest_head_s_age(log, clock):
    append(log, 3)
    assert log.audit.backlog() == Backlog(entries=3, signed=0, head_age_seconds=None)
    log.audit.integrate()
    append(log, 2, start=3)
    clock.advance(timedelta(seconds=90))
    backlog = log.audit.backlog()
    assert (backlog.entries, backlog.signed, backlog.unsigned) == (5, 3, 2)
    assert 90 <= backlog.head_age_seconds < 91


def test_integrating_with_nothing_new_adds_no_head(log):
    append(log, 3)
    first = log.audit.integrate()
    again = log.audit.integrate()
    assert again == first
    with log.uows() as uow:
        assert len(uow.tree.heads()) == 1


def test_the_empty_log_has_a_signed_head_of_the_empty_root(log):
    head = log.audit.tree_head()
    assert (head.head.tree_size, head.head.root_hash) == (0, merkle.EMPTY_ROOT)


def test_proofs_from_storage_equal_those_of_the_whole_tree_in_memory(log):
    append(log, 13)
    batched(log, 4).integrate()
    memory = merkle.MemoryTree(stored_leaves(log))
    for size in range(1, 14):
        for index in range(size):
            proof = log.audit.inclusion_proof(index, size)
            assert proof.audit_path == memory.inclusion_proof(index, size)
            assert merkle.verify_inclusion(proof.leaf_hash, index, size, proof.audit_path,
                                           memory.root(size))
        proof = log.audit.consistency_proof(size, 13)
        assert proof.path == memory.consistency_proof(size, 13)


def test_concurrent_integrators_never_fork(log):
    append(log, 40)
    heads, failures = [], []

    def integrate() -> None:
        try:
            heads.append(batched(log, 7).integrate())
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=integrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert {h.head.tree_size for h in heads} == {40}
    assert verify_log(log.uows, log.key_store.jwks()).ok


# -- tampering: someone with the database's keys lifts the append-only triggers ---------------


def _lift_triggers(engine: Engine, table: str = "audit_log") -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(text(f"DROP TRIGGER {table}_no_delete"))
        else:
            conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))


def _rows(conn, *indexes):
    log = t.audit_log
    return {row.seq: dict(row._mapping) for row in
            conn.execute(select(log).where(log.c.seq.in_(indexes)))}


def _alter(conn, index: int) -> None:
    conn.execute(update(t.audit_log).where(t.audit_log.c.seq == index).values(purpose="other"))


def _delete(conn, index: int) -> None:
    conn.execute(delete(t.audit_log).where(t.audit_log.c.seq == index))


def _insert(conn, index: int) -> None:
    """A forged entry slipped in at `index`, the ones after it moved up by one."""
    log = t.audit_log
    size = conn.execute(select(func.count()).select_from(log)).scalar_one()
    for seq in range(size - 1, index - 1, -1):
        conn.execute(update(log).where(log.c.seq == seq).values(seq=seq + 1))
    conn.execute(insert(log).values(seq=index, at=datetime.now(UTC), action="query.release",
                                    outcome="permit", fields=[], detail={}))
    conn.execute(update(t.audit_counter).values(next_index=size + 1))


def _swap(conn, index: int) -> None:
    log = t.audit_log
    rows = _rows(conn, index, index + 1)
    for seq, other in ((index, index + 1), (index + 1, index)):
        values = {k: v for k, v in rows[other].items() if k != "seq"}
        conn.execute(update(log).where(log.c.seq == seq).values(**values))


@pytest.mark.parametrize("tamper", [_alter, _delete, _insert, _swap],
                         ids=["altered", "deleted", "inserted", "swapped"])
@pytest.mark.parametrize("index", [0, 6, 10])
def test_verify_names_the_first_tampered_index(log, tamper, index):
    append(log, 12)
    batched(log, 5).integrate()
    assert verify_log(log.uows, log.key_store.jwks()).ok
    _lift_triggers(log.engine)

    with log.engine.begin() as conn:
        tamper(conn, index)

    result = verify_log(log.uows, log.key_store.jwks())
    assert not result.ok
    assert result.bad_index == index, result.problem


def test_rewriting_entries_and_tree_together_is_caught_by_the_signed_head(log):
    """Whoever rewrites an entry and recomputes the stored tree still cannot sign a head."""
    append(log, 8)
    batched(log, 4).integrate()
    _lift_triggers(log.engine)
    _lift_triggers(log.engine, "audit_nodes")
    with log.engine.begin() as conn:
        _alter(conn, 5)
        conn.execute(delete(t.audit_nodes))
        conn.execute(insert(t.audit_nodes), [
            {"level": level, "idx": idx, "hash": digest} for (level, idx), digest in
            merkle.integrate(0, stored_leaves_in(conn), lambda nodes: {}).items()])

    result = verify_log(log.uows, log.key_store.jwks())
    assert not result.ok
    assert result.bad_index == 4  # the head of 8 covers 4..7 beyond the head of 4
    assert "does not match" in result.problem


def stored_leaves_in(conn) -> list[bytes]:
    from onceonly.adapters.db.audit import SqlAuditLog

    audit = SqlAuditLog(conn)
    return [merkle.leaf_hash(r.leaf()) for r in audit.entries(0, audit.size())]


def test_a_head_signed_with_another_key_fails(log):
    append(log, 3)
    real = log.audit.integrate().head
    append(log, 1, start=3)
    leaves = stored_leaves(log)
    forged = TreeHead(4, merkle.root(leaves), real.timestamp)
    with log.uows(write=True) as uow:
        uow.tree.add_nodes(merkle.integrate(3, leaves[3:], uow.tree.read))
        uow.tree.add_head(SignedTreeHead(forged, SigningKey.generate(OPERATOR).sign(
            forged.payload())))
        uow.commit()

    result = verify_log(log.uows, log.key_store.jwks())
    assert not result.ok
    assert "not validly signed" in result.problem


# -- many processes ------------------------------------------------------------------------


def _append_from_process(url: str, worker: int, count: int) -> None:
    exchange = bootstrap(url)
    try:
        for n in range(count):
            with exchange.uows(write=True) as uow:
                uow.audit.record(entry(worker * 1000 + n), exchange.clock.now())
                uow.commit()
            if n % 10 == 0:
                exchange.audit.integrate()
    finally:
        exchange.close()


@pytest.mark.postgres
def test_appends_from_many_processes_make_one_tree_with_no_gaps(postgres_url):
    exchange = bootstrap(postgres_url)
    upgrade(exchange.engine)
    _operator(exchange)
    workers, count = 4, 30
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_append_from_process, args=(postgres_url, w, count))
                 for w in range(workers)]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        assert [p.exitcode for p in processes] == [0] * workers
        head = exchange.audit.integrate()

        with exchange.uows() as uow:
            records = uow.audit.entries(0, workers * count + 1)
            heads = uow.tree.heads()
        assert [r.index for r in records] == list(range(workers * count))
        written = sorted(r.entry.person_key for r in records)
        assert written == sorted(entry(w * 1000 + n).person_key
                                 for w in range(workers) for n in range(count))
        assert head.head.tree_size == workers * count
        assert len(heads) > 1  # integrated in turns by several processes
        result = verify_log(exchange.uows, exchange.key_store.jwks())
        assert result.ok, result.problem
        assert result.entries == workers * count
    finally:
        exchange.close()


# -- the migration -------------------------------------------------------------------------


def test_upgrading_renumbers_earlier_entries_densely_from_zero(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            for seq in (1, 2, 5):  # an autoincrement may leave gaps
                conn.execute(text(
                    "INSERT INTO audit_log (seq, at, action, outcome, fields, detail) "
                    f"VALUES ({seq}, '2026-01-01 00:00:00', 'token.issue', 'done', '[]', "
                    f"'{{\"n\": {seq}}}')"))
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(select(t.audit_log.c.seq, t.audit_log.c.detail)
                                .order_by(t.audit_log.c.seq)).all()
            counter = conn.execute(select(t.audit_counter.c.next_index)).scalar_one()
        assert [(r.seq, r.detail["n"]) for r in rows] == [(0, 1), (1, 2), (2, 5)]
        assert counter == 3
    finally:
        engine.dispose()


def test_verify_reads_a_log_longer_than_one_chunk(log):
    with log.uows(write=True) as uow:
        for n in range(2_500):
            uow.audit.record(entry(n), log.clock.now())
        uow.commit()
    log.audit.integrate()

    result = verify_log(log.uows, log.key_store.jwks(), chunk=1_000)

    assert result.ok, result.problem
    assert result.entries == 2_500


def test_a_proof_for_a_size_beyond_every_signed_head_is_refused(log):
    append(log, 4)
    log.audit.integrate()
    append(log, 2, start=4)  # appended, not yet under a signed head

    with pytest.raises(DomainError) as refused:
        log.audit.inclusion_proof(0, 6)
    assert refused.value.code == "beyond_tree_head"
    assert log.audit.inclusion_proof(0, 4).tree_size == 4


def test_the_integrator_signs_nothing_across_a_removed_entry(log):
    append(log, 6)
    _lift_triggers(log.engine)
    with log.engine.begin() as conn:
        _delete(conn, 3)

    head = log.audit.integrate()

    assert head.head.tree_size == 3
    result = verify_log(log.uows, log.key_store.jwks())
    assert (result.ok, result.bad_index) == (False, 3)
