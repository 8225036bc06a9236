"""What the consent check adds to a governed query.

What it measures
    Per query, in process (`QueryService.query`), on SQLite and PostgreSQL, on the demo
    world (1,000 people, built fresh): Northbank asking HMRC for `income_band` under an
    agreement whose legal basis is consent, for people who each hold a live consent (half
    of them also a withdrawn one, which the check must pass over), against the peer: the
    same query, same fields, same limits, under an otherwise identical agreement whose
    legal basis is statutory duty (no consent read). Both sides run in alternating blocks
    on the same exchange; the figure is the per-query median, and the ratio is what the
    consent check (the person's live consents for the purpose, read in the statement that
    names the person) adds. Target: at most 10%. Blocks are short and many, so that load
    from other work on a shared machine falls on both sides alike. Also the check alone:
    naming the person with the consent question against naming them without it
    (`Identities.name`, in an open read unit of work, alternating, median of 2,000 calls
    each), the difference beside the statutory query's median.

How to run
    uv run python -m benchmarks.bench_consent            # 40 blocks of 100 queries each way
    uv run python -m benchmarks.bench_consent --quick    # 4 blocks of 100
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import select

from benchmarks import Report, machine_header
from benchmarks.bench_http import allow_load, postgres_database, sqlite_database
from onceonly.adapters.db import tables as t
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import build_world
from onceonly.demo.world import EXCHANGE_ORG
from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
from onceonly.domain.consent import fields_covered
from onceonly.domain.organisations import Principal, Role
from onceonly.services.agreements import DraftCommand
from onceonly.services.ports.identity import ConsentQuestion
from onceonly.services.queries import QueryCommand

BACKENDS = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}
PURPOSE = "mortgage-affordability"
CONSENTING = 300  # people who consented: the queries ask about them


def agreement(exchange: Exchange, world, basis: LegalBasis) -> int:
    """A fresh agreement for Northbank on HMRC's income band, limits far above the run."""
    officer = next(a.principal for a in world.accounts if a.label == "officer:COM/NORTHBANK")
    guardian = next(a.principal for a in world.accounts if a.label == "guardian:GOV/HMRC")
    now = exchange.clock.now()
    draft = exchange.agreements.draft(officer, DraftCommand(
        dataset_id="GOV/HMRC/income",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code=PURPOSE, purpose_text=f"benchmark, {basis.value}", legal_basis=basis,
        valid_from=now - timedelta(minutes=1), valid_until=now + timedelta(days=30),
        max_queries_per_day=10_000_000, retention_days=30,
        assessment=PrivacyAssessment(Risk.LOW, "benchmark", officer.name, now.date())))
    exchange.agreements.transition(officer, draft.id, "submit", "benchmark")
    exchange.agreements.transition(guardian, draft.id, "approve", "benchmark")
    return draft.id


def run(report: Report, backend: str, queries: int, blocks: int) -> None:
    with BACKENDS[backend]() as (url, store_prefix):
        exchange = bootstrap(url)
        try:
            world = build_world(exchange, url, people=1_000, store_prefix=store_prefix)
            allow_load(exchange, "COM/NORTHBANK")
            by_basis = {"consent": agreement(exchange, world, LegalBasis.CONSENT),
                        "statutory": agreement(exchange, world, LegalBasis.STATUTORY_DUTY)}
            with exchange.engine.connect() as conn:
                people = conn.execute(
                    select(t.person_links.c.value, t.person_links.c.person_key)
                    .where(t.person_links.c.scheme == "nino")
                    .order_by(t.person_links.c.value).limit(CONSENTING)).all()
            until = exchange.clock.now() + timedelta(days=30)
            for n, (_nino, person_key) in enumerate(people):
                citizen = Principal(f"citizen-{n}", "citizen", EXCHANGE_ORG, Role.CITIZEN,
                                    person_key)
                if n % 2:
                    withdrawn, _ = exchange.consents.grant(citizen, PURPOSE, None,
                                                           ["income_band"], until)
                    exchange.consents.withdraw(citizen, withdrawn.id)
                exchange.consents.grant(citizen, PURPOSE, "COM/NORTHBANK", ["income_band"],
                                        until)
            officer = next(a.principal for a in world.accounts
                           if a.label == "officer:COM/NORTHBANK")
            ninos = [nino for nino, _ in people]
            rng = random.Random(5)
            figures: dict[str, list[float]] = {name: [] for name in by_basis}

            def block(name: str) -> None:
                for _ in range(queries):
                    command = QueryCommand(by_basis[name], "nino", rng.choice(ninos),
                                           ("income_band",), PURPOSE)
                    start = time.perf_counter()
                    exchange.queries.query(officer, command)
                    figures[name].append(time.perf_counter() - start)

            block("consent")  # warm both paths before measuring
            block("statutory")
            figures = {name: [] for name in by_basis}
            for n in range(blocks):
                for name in (by_basis if n % 2 == 0 else reversed(list(by_basis))):
                    block(name)
            alone = check_alone(exchange, people[0][0])
        finally:
            exchange.close()
    consent, statutory = (statistics.median(figures[n]) * 1e6 for n in by_basis)
    report(f"| {backend}, in-process | {consent:,.0f} µs | {statutory:,.0f} µs | "
           f"{(consent / statutory - 1) * 100:.1f}% | {alone:,.0f} µs "
           f"({alone / statutory * 100:.1f}%) |")


def check_alone(exchange: Exchange, nino: str, calls: int = 2_000) -> float:
    """What the consent question adds to naming the person, in an open read unit of work:
    the difference of the medians, in microseconds."""
    times: dict[bool, list[float]] = {True: [], False: []}
    with exchange.uows(transaction=False) as uow:
        for n in range(2 * calls):
            asked = n % 2 == 0
            question = ConsentQuestion("COM/NORTHBANK", PURPOSE, exchange.clock.now())
            start = time.perf_counter()
            named = uow.identities.name("COM/NORTHBANK", "nino", nino, "nino",
                                        question if asked else None)
            times[asked].append(time.perf_counter() - start)
            assert fields_covered(named.consented, ("income_band",)) is asked
    return (statistics.median(times[True]) - statistics.median(times[False])) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=100, help="queries per block")
    parser.add_argument("--blocks", type=int, default=40, help="alternating blocks each way")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=sorted(BACKENDS), action="append")
    options = parser.parse_args(argv)
    if options.quick:
        options.queries, options.blocks = 100, 4
    report = Report("consent")
    report(machine_header("what the consent check adds to a governed query, per query"))
    report(f"queries    {options.blocks} alternating blocks of {options.queries} each way "
           "(median per query)")
    report("")
    report("| | consent basis, live consent | statutory basis | consent check adds | "
           "the check alone |")
    report("|---|---:|---:|---:|---:|")
    for backend in options.backend or list(BACKENDS):
        run(report, backend, options.queries, options.blocks)
    report.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
