"""Audit log sections that need the database (run from bench_audit.py's `sections`).

    3. What the audit append adds to a governed query: `QueryService.query` on the demo world,
       in-process, against the same service whose releases write everything but the audit
       entry (the peer; on PostgreSQL the same one-statement release without its append),
       in alternating blocks, on SQLite and PostgreSQL. Also what integrating the appended
       entries under a signed head costs per entry (done in the background by each server).
    4. Inclusion and consistency proofs read from the database at M leaves (default
       10,000,000): the stored tree (2M - 1 perfect nodes) is loaded in bulk, then
       `AuditService.inclusion_proof` / `consistency_proof` (a read transaction, the head,
       O(log n) nodes in one statement) for random indexes, beside the cheapest stored read
       there is, one node by its primary key in its own read transaction (the peer).
    5. Integrate and verify N stored entries end to end on SQLite: `AuditService.integrate`
       and `verify_log` (what `onceonly audit verify` runs), beside bare hashlib doing the
       same number of SHA-256 calls, with the share of RFC 8785 encoding shown.
    6. What use limits and anomaly notes add to a governed query: an agreement with every
       use limit set and each decision noted for the anomaly rules, against the same
       agreement with the daily count only and nothing noted (on PostgreSQL, the same
       one-statement release without those parts), in-process and over HTTP.
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from benchmarks import Report
from benchmarks.bench_http import allow_load, postgres_database, sqlite_database
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.releases import SqlReleases, _pg_release, pg_release_params
from onceonly.adapters.db.unit_of_work import SqlUnitOfWork
from onceonly.audit.merkle import MemoryTree, verify_inclusion
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.domain.limits import counts_persons, counts_uses
from onceonly.domain.reasons import Reason
from onceonly.services.queries import QueryCommand, QueryService

BACKENDS = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}


@contextmanager
def exchange_on(backend: str) -> Iterator[tuple[Exchange, str, str]]:
    with BACKENDS[backend]() as (url, store_prefix):
        exchange = bootstrap(url)
        try:
            yield exchange, url, store_prefix
        finally:
            exchange.close()


def us(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1e6


# -- 3. the append's share of a governed query ---------------------------------------------


class _PartialReleases(SqlReleases):
    """A release without some of its parts: each limit but the day's count (`every_limit`),
    the anomaly note (`notes`), the audit entry (`audited`). On PostgreSQL the same one
    statement without those parts."""

    def __init__(self, uow: SqlUnitOfWork, *, every_limit: bool = True, notes: bool = True,
                 audited: bool = True) -> None:
        super().__init__(uow.conn, uow.usage, uow.activity, uow.audit)
        self.every_limit, self.notes, self.audited = every_limit, notes, audited

    def release(self, agreement: Any, day: Any, person_key: str | None, note: Any,
                consumer_id: str, entry: Any, at: datetime) -> Reason | int:
        if not self.every_limit:
            agreement = dataclasses.replace(agreement, max_persons_per_day=None, max_uses=None)
        if self.conn.dialect.name == "postgresql":
            statement = _pg_release(counts_persons(agreement, person_key),
                                    counts_uses(agreement), self.notes, self.audited)
            [(refused, seq)] = statement.run(self.conn, pg_release_params(
                agreement, day, person_key, note, consumer_id, entry, at))
            if refused is not None:
                return Reason(refused)
            return -1 if seq is None else int(seq)
        refused = self.refusal(agreement, day, person_key, note, entry)
        if refused is not None:
            return refused
        if self.notes:
            self.activity.record(note, consumer_id)
        return self.audit.record(entry, at) if self.audited else -1


class _UnauditedUnitOfWork(SqlUnitOfWork):
    """Releases write everything but the audit entry (on PostgreSQL, the same statement
    without its append)."""

    def __enter__(self) -> _UnauditedUnitOfWork:
        super().__enter__()
        self.releases = _PartialReleases(self, audited=False)
        return self


def append_cost(out: Report, people: int, queries: int, blocks: int) -> None:
    _pair(out, "audited", "unaudited", "append adds", people, queries, blocks,
          _UnauditedUnitOfWork, lambda exchange, world: 1, integrate=True)
    out("   target: the append adds at most 10% to a governed query. Integration runs in the")
    out("   background (each server, every second), not in the query's path.")


def constraints_cost(out: Report, people: int, queries: int, blocks: int) -> None:
    """Issue 6's constraints: an agreement with every use limit set (queries a day, people a
    day, a use count) and each decision noted for the anomaly rules, against the same
    agreement with only the daily count (which the exchange had before) and nothing noted."""
    _pair(out, "constrained", "bare", "they add", people, queries, blocks,
          _UnconstrainedUnitOfWork, _every_limit, integrate=False)
    out("   target: limits and anomaly rules add at most 10% to a governed query. The rules")
    out("   themselves are evaluated in the background (each server, every second).")


def _pair(out: Report, name: str, peer: str, adds: str, people: int, queries: int,
          blocks: int, peer_uow: type[SqlUnitOfWork],
          agreement_for: Callable[[Exchange, Any], int], integrate: bool) -> None:
    out(f"   demo world of {people:,} people; {blocks} alternating blocks of {queries:,} "
        f"queries each way; per-query wall time, median; and the process's CPU time per "
        f"query (steadier than wall time on a shared machine, where fsync and the "
        f"scheduler wait on others)")
    out("   in-process: QueryService.query; HTTP: POST /v1/queries, one request at a time, "
        "to two servers over the same database (in this process: CPU counts both ends)")
    out()
    out(f"   {'':<12}{'':>4}{name + ' µs':>16}{peer + ' µs':>16}{adds:>13}"
        f"{'CPU µs':>12}{'peer CPU':>10}{'CPU adds':>10}")
    for backend in BACKENDS:
        with exchange_on(backend) as (exchange, url, store_prefix):
            figures, integrate_us = _pair_on(exchange, url, store_prefix, people, queries,
                                             blocks, backend, peer_uow, agreement_for,
                                             integrate)
        for way in ("in", "HTTP"):
            measured, bare = us(figures[way]["measured"]), us(figures[way]["peer"])
            cpu, peer_cpu = (statistics.mean(figures[f"{way} CPU"][side]) * 1e6
                             for side in ("measured", "peer"))
            out(f"   {backend:<12}{way:>4}{measured:>16.0f}{bare:>16.0f}"
                f"{(measured / bare - 1) * 100:>12.1f}%{cpu:>12.0f}{peer_cpu:>10.0f}"
                f"{(cpu / peer_cpu - 1) * 100:>9.1f}%")
        if integrate:
            out(f"   {backend:<12} integrating the appended entries afterwards: "
                f"{integrate_us:.0f} µs per entry, in the background")
    out()


def _every_limit(exchange: Exchange, world: Any) -> int:
    from datetime import timedelta

    from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
    from onceonly.services.agreements import DraftCommand

    officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
    guardian = next(a.principal for a in world.accounts if a.label == "guardian:GOV/HMRC")
    now = exchange.clock.now()
    draft = exchange.agreements.draft(officer, DraftCommand(
        dataset_id="GOV/HMRC/income",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code="benefit-entitlement", purpose_text="Every use limit set",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30), max_queries_per_day=10_000_000,
        retention_days=30, max_persons_per_day=10_000_000, max_uses=10_000_000,
        assessment=PrivacyAssessment(Risk.LOW, "benchmark", officer.name, now.date())))
    exchange.agreements.transition(officer, draft.id, "submit", "benchmark")
    exchange.agreements.transition(guardian, draft.id, "approve", "benchmark")
    return draft.id


def _pair_on(exchange: Exchange, url: str, store_prefix: str, people: int, queries: int,
             blocks: int, backend: str, peer_uow: type[SqlUnitOfWork],
             agreement_for: Callable[[Exchange, Any], int], integrate: bool
             ) -> tuple[dict[str, dict[str, list[float]]], float]:
    import httpx

    from onceonly.demo.seed import build_world
    from onceonly.entrypoints.api.app import create_app
    from onceonly.entrypoints.api.server import running

    world = build_world(exchange, url, people=people, store_prefix=store_prefix)
    allow_load(exchange)
    agreement = agreement_for(exchange, world)
    officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
    with exchange.engine.connect() as conn:
        ninos = conn.execute(select(t.person_links.c.value)
                             .where(t.person_links.c.scheme == "nino")).scalars().all()
    peer = QueryService(lambda *, write=False, transaction=True: peer_uow(
                            exchange.engine, write=write, transaction=transaction),
                        exchange.connectors, exchange.clock, exchange.key_store)
    services = {"measured": exchange.queries, "peer": peer}
    apps = {"measured": create_app(exchange),
            "peer": create_app(dataclasses.replace(exchange, queries=peer), integrate_every=0)}
    figures: dict[str, dict[str, list[float]]] = {
        way: {name: [] for name in services}
        for way in ("in", "HTTP", "in CPU", "HTTP CPU")}
    rng = random.Random(3)
    headers = {"Authorization": f"Bearer {world.token('officer:GOV/DWP')}"}

    def body() -> dict[str, Any]:
        return {"agreement_id": agreement,
                "subject": {"scheme": "nino", "value": rng.choice(ninos)},
                "fields": ["income_band"], "purpose": "benefit-entitlement"}

    def in_process(name: str) -> None:
        cpu = time.process_time()
        for _ in range(queries):
            command = QueryCommand(agreement, "nino", rng.choice(ninos), ("income_band",),
                                   "benefit-entitlement")
            start = time.perf_counter()
            services[name].query(officer, command)
            figures["in"][name].append(time.perf_counter() - start)
        figures["in CPU"][name].append((time.process_time() - cpu) / queries)

    exchange.audit.integrate()
    for block in range(blocks):
        for name in (services if block % 2 == 0 else reversed(services)):
            in_process(name)
    integrate_us = 0.0
    if integrate:
        with exchange.uows() as uow:
            pending = uow.audit.size() - uow.tree.latest_head().head.tree_size
        start = time.perf_counter()
        exchange.audit.integrate()
        integrate_us = (time.perf_counter() - start) / pending * 1e6

    with running(apps["measured"]) as measured_url, running(apps["peer"]) as peer_url, \
            httpx.Client(timeout=30) as client:
        bases = {"measured": measured_url, "peer": peer_url}
        for block in range(blocks):
            for name in (services if block % 2 == 0 else reversed(services)):
                cpu = time.process_time()
                for _ in range(queries):
                    start = time.perf_counter()
                    response = client.post(f"{bases[name]}/v1/queries", json=body(),
                                           headers=headers)
                    figures["HTTP"][name].append(time.perf_counter() - start)
                    assert response.status_code == 200, response.text
                figures["HTTP CPU"][name].append((time.process_time() - cpu) / queries)
            print(f"   ... {backend} HTTP block {block + 1}/{blocks}", file=sys.stderr,
                  flush=True)
    return figures, integrate_us


class _UnconstrainedUnitOfWork(SqlUnitOfWork):
    """Releases as they were before use limits and anomaly notes: the day's count and the
    audit entry only."""

    def __enter__(self) -> _UnconstrainedUnitOfWork:
        super().__enter__()
        self.releases = _PartialReleases(self, every_limit=False, notes=False)
        return self


# -- 4. proofs read from the database --------------------------------------------------------


def build_tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    chunk = 1_000_000
    for first in range(0, size, chunk):
        tree.extend([b"%032d" % i for i in range(first, min(first + chunk, size))])
    return tree


def _node_rows(tree: MemoryTree) -> Iterator[tuple[int, int, bytes]]:
    for level, hashes in enumerate(tree.levels):
        for index, digest in enumerate(hashes):
            yield level, index, digest


def load_tree(exchange: Exchange, tree: MemoryTree, progress: Callable[[int], None]) -> None:
    """Bulk-load every perfect node, and a head for the whole tree (proofs do not read its
    signature, so it is a placeholder)."""
    raw = exchange.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if exchange.engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # the driver is in autocommit mode (see engine.py)
            rows = _node_rows(tree)
            while chunk := [row for _, row in zip(range(500_000), rows, strict=False)]:
                cursor.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)",
                                   chunk)
                progress(len(chunk))
        else:
            with cursor.copy("COPY audit_nodes (level, idx, hash) FROM STDIN") as copy:
                for n, row in enumerate(_node_rows(tree), start=1):
                    copy.write_row(row)
                    if n % 500_000 == 0:
                        progress(500_000)
        raw.commit()
    finally:
        raw.close()
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.audit_tree_heads).values(
            tree_size=tree.size, root_hash=tree.root(), signature="placeholder",
            timestamp=int(datetime.now(UTC).timestamp() * 1000)))


def stored_proofs(out: Report, leaves: int, calls: int, blocks: int) -> None:
    started = time.perf_counter()
    tree = build_tree(leaves)
    nodes = sum(map(len, tree.levels))
    out(f"   tree of {leaves:,} leaves ({nodes:,} perfect nodes) built in memory in "
        f"{time.perf_counter() - started:.0f} s; {calls:,} random proofs per block, "
        f"{blocks} blocks, per-call wall time, median")
    out()
    out("   inclusion and consistency at a signed head's size, as a verifier asks; 'latest': "
        "inclusion at the latest head, read first")
    out()
    out(f"   {'':<12}{'load s':>8}{'one node µs':>13}{'inclusion µs':>14}{'latest µs':>11}"
        f"{'consistency µs':>16}{'incl./node':>12}")
    rng = random.Random(11)
    for backend in BACKENDS:
        load_s, figures = _proofs_on(backend, tree, rng, calls, blocks)
        node, inclusion, latest, consistency = (
            us(figures[k]) for k in ("node", "inclusion", "latest", "consistency"))
        out(f"   {backend:<12}{load_s:>8.0f}{node:>13.0f}{inclusion:>14.0f}{latest:>11.0f}"
            f"{consistency:>16.0f}{inclusion / node:>11.2f}x")
    out()
    out("   target: an inclusion proof at 10,000,000 entries in at most 1 ms.")


def _proofs_on(backend: str, tree: MemoryTree, rng: random.Random, calls: int,
               blocks: int) -> tuple[float, dict[str, list[float]]]:
    from onceonly.adapters.db.migrate import upgrade

    leaves, nodes, root = tree.size, sum(map(len, tree.levels)), tree.root()
    loaded = 0

    def progress(n: int) -> None:
        nonlocal loaded
        loaded += n
        if loaded % 5_000_000 < n:
            print(f"   ... {backend}: {loaded:,} of {nodes:,} nodes stored", file=sys.stderr,
                  flush=True)

    with exchange_on(backend) as (exchange, _url, _prefix):
        upgrade(exchange.engine)
        start = time.perf_counter()
        load_tree(exchange, tree, progress)
        load_s = time.perf_counter() - start
        audit = exchange.audit
        for index in (0, leaves // 3, leaves - 1):  # the stored proofs are the real ones
            proof = audit.inclusion_proof(index)
            assert proof.audit_path == tree.inclusion_proof(index)
            assert verify_inclusion(proof.leaf_hash, index, leaves, proof.audit_path, root)

        def one_node(i: int) -> None:
            with exchange.uows() as uow:
                uow.tree.read([(0, i)])

        figures: dict[str, list[float]] = {"node": [], "inclusion": [], "latest": [],
                                           "consistency": []}
        runs = {"node": one_node,
                "inclusion": lambda i: audit.inclusion_proof(i, leaves),
                "latest": audit.inclusion_proof,
                "consistency": lambda i: audit.consistency_proof(i + 1, leaves)}
        for _ in range(blocks):
            for name, run in runs.items():
                for _ in range(calls):
                    i = rng.randrange(leaves - 1)
                    begin = time.perf_counter()
                    run(i)
                    figures[name].append(time.perf_counter() - begin)
    return load_s, figures


# -- 5. integrate and verify stored entries, end to end --------------------------------------


def stored_log(out: Report, entries: int, batch: int = 10_000,
               backends: tuple[str, ...] = ("SQLite",), repeat: int = 3) -> None:
    """The whole path: entries read from the database and encoded as RFC 8785 leaves,
    hashed, nodes written, heads signed (integrate) or checked (audit verify); verify and
    the hashlib floor timed `repeat` times each, alternating, medians reported."""
    for backend in backends:
        _stored_log_on(out, backend, entries, batch, repeat)


def _stored_log_on(out: Report, backend: str, entries: int, batch: int, repeat: int) -> None:
    from hashlib import sha256

    from onceonly.adapters.keystore import add_signing_key
    from onceonly.audit.entries import AuditEntry, AuditRecord
    from onceonly.services.audit_verification import verify_log

    with exchange_on(backend) as (exchange, _url, _prefix):
        from onceonly.adapters.db.migrate import upgrade

        upgrade(exchange.engine)
        now = datetime.now(UTC)
        with exchange.engine.begin() as conn:
            conn.execute(insert(t.organisations).values(id="GOV/EXCHANGE", name="Operator"))
            add_signing_key(conn, "GOV/EXCHANGE", now, envelopes=exchange.envelopes)

        def sample(n: int) -> AuditEntry:
            return AuditEntry("query.release", "permit", f"officer-{n % 50}", "GOV/DWP",
                              agreement_id=1, provider_id="GOV/HMRC",
                              purpose="benefit-entitlement", person_key=f"P{n:07d}",
                              fields=("income_band",), values_hash=f"{n:064x}",
                              detail={"release_id": f"{n:032x}"})

        started = time.perf_counter()
        for first in range(0, entries, batch):
            with exchange.uows(write=True) as uow:
                for n in range(first, min(first + batch, entries)):
                    uow.audit.record(sample(n), now)
                uow.commit()
            print(f"   ... {first + batch:,} entries appended", file=sys.stderr, flush=True)
        append_s = time.perf_counter() - started
        leaves = [AuditRecord(i, now, sample(i)).leaf() for i in range(20_000)]
        integrate_s = _seconds(exchange.audit.integrate)
        verify_runs, hashlib_runs, verify_cpu, hashlib_cpu = [], [], [], []
        for _ in range(repeat):
            verify = []
            cpu = time.process_time()
            verify_runs.append(_seconds(lambda: verify.append(  # noqa: B023
                verify_log(exchange.uows, exchange.key_store.jwks()))))
            verify_cpu.append(time.process_time() - cpu)
            assert verify[0].ok and verify[0].entries == entries, verify[0]
            cpu = time.process_time()
            hashlib_runs.append(_seconds(lambda: [
                sha256(b"\x00" + leaf).digest()
                for leaf in leaves * (2 * entries // len(leaves))]))
            hashlib_cpu.append(time.process_time() - cpu)
    verify_s, hashlib_s = statistics.median(verify_runs), statistics.median(hashlib_runs)
    # CPU seconds as well: on a shared machine wall time is mostly waiting for a core.
    verify_c, hashlib_c = statistics.median(verify_cpu), statistics.median(hashlib_cpu)
    out(f"   {backend}: {entries:,} entries appended through SqlAuditLog in {append_s:.0f} s "
        f"({append_s / entries * 1e6:.0f} µs each, {batch:,} per transaction)")
    out(f"   {'':<58}{'seconds':>9}{'vs hashlib':>12}   runs")
    out(f"   {'bare hashlib: the same number of SHA-256 calls (the floor)':<58}"
        f"{hashlib_s:>9.2f}{1:>11.2f}x   {_runs(hashlib_runs)}")
    out(f"   {'onceonly integrate (read, encode, hash, store, sign), once':<58}"
        f"{integrate_s:>9.2f}{integrate_s / hashlib_s:>11.2f}x")
    out(f"   {'onceonly audit verify (read, encode, hash, check heads)':<58}"
        f"{verify_s:>9.2f}{verify_s / hashlib_s:>11.2f}x   {_runs(verify_runs)}")
    out(f"   {'CPU seconds: the floor / audit verify':<58}{hashlib_c:>9.2f} / {verify_c:.2f}"
        f"{verify_c / hashlib_c:>8.2f}x   {_runs(hashlib_cpu)} / {_runs(verify_cpu)}")
    out()


def _runs(seconds: list[float]) -> str:
    return ", ".join(f"{s:.2f}" for s in seconds)


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start
