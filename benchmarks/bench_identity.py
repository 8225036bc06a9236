"""Identity across organisations: resolving identifiers at 1,000,000 people, and matching
100,000 records against 100,000 people, each beside a peer in the same run.

What it measures
    resolution  A person index of N people (the demo population's person keys, identifier
                formats and shares of schemes, ~5 links a person, bulk-loaded) on SQLite
                and PostgreSQL. Per call, inside one open
                read transaction as a query's read phase has: the exchange's
                `Identities.name` (one statement on the driver's connection: the person by
                DVLA's driver number, their NHS number, whether DVLA may use the scheme),
                p50/p99 over random people, in 3 rounds alternating with the person
                index's own resolve through SQLAlchemy Core (the same join without the
                rights, to see what the statement machinery costs), medians of the
                rounds' percentiles; and the in-process steps beside it: a
                plain dict lookup of the same resolution (the floor any index can reach)
                and the pairwise pseudonym (HKDF-derived key, HMAC-SHA256).
    matching    A new organisation's N records against the index's N people (generated with
                ground truth: names mistyped or changed on marriage, addresses moved, dates
                of birth mistyped, one record in ten of someone the index does not know,
                half carrying a NINO). splink (DuckDB, 2 threads) probabilistic on name,
                date of birth and postcode plus identifiers, against the deterministic
                peers: identifiers only through the same splink model, and a plain dict
                join on the NINO. Time, peak memory of the matching process (each variant
                in a fresh process), precision and recall of: links applied automatically
                (identifier agreement, weight >= ACCEPT_WEIGHT), links proposed to a
                guardian (weight >= REVIEW_WEIGHT), and links at ACCEPT_WEIGHT or more
                whatever their evidence.
    planted     The demo world (SQLite): `onceonly identity match --org GOV/DVLA` on the
                driver numbers the generator left out of the index; precision and recall of
                the guardian's queue against the generator's truth.

How to run
    uv run python -m benchmarks identity            # 1,000,000 people; 100,000 x 100,000
    uv run python -m benchmarks identity --quick    # 20,000 people; 5,000 x 5,000
    uv run python -m benchmarks.bench_identity --part matching   # one part (see --help)
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import Connection, Engine, and_, bindparam, insert, select, text
from sqlalchemy.orm import aliased

from benchmarks import Report, machine_header
from benchmarks.bench_http import postgres_database
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.matching_splink import SplinkMatcher
from onceonly.bootstrap import bootstrap
from onceonly.crypto.pseudonyms import consumer_key, pseudonym
from onceonly.demo.population import (
    NINO_PREFIXES,
    Pools,
    make_person,
    person_key,
    planted_links,
)
from onceonly.demo.seed import REFERENCE_DAY, SEED, build_world
from onceonly.demo.world import org_schemes, organisation_names, schemes
from onceonly.domain.identity import (
    ACCEPT_WEIGHT,
    REVIEW_WEIGHT,
    Match,
    MatchRecord,
    best_per_record,
    postcode_of,
    precision_recall,
)

CHUNK = 50_000
ROUNDS = 3  # of the resolution's timed calls, each way
PARTS = ("resolution", "matching", "planted")


# Resolution ------------------------------------------------------------------------------

def population_links(people: int) -> Iterator[list[tuple[str, str, str]]]:
    """A person index of the demo population's shape, in chunks of (scheme, value, person
    key): the same person keys and identifier formats, each person's share of schemes as in
    demo/population.py, generated straight from the index (make_person's Faker-driven
    people cost 0.1 ms each, too slow for a million on a shared machine)."""
    chunk: list[tuple[str, str, str]] = []
    for index in range(people):
        key = person_key(SEED, index)
        share = index * 2_654_435_761 % 100  # spread over the people, reproducibly
        prefix, number = divmod(index, 1_000_000)
        chunk += [("grn", f"RN19{index % 100:02d}{index:08d}", key),
                  ("nhs", f"{400_000_000 + index * 11:010d}", key)]
        if share < 80:
            chunk.append(("nino", f"{NINO_PREFIXES[prefix % len(NINO_PREFIXES)]}"
                                  f"{number:06d}{'ABCD'[index % 4]}", key))
        if share < 55:
            chunk.append(("driver", f"DRIVE{index % 1_000_000:06d}J{index:07d}", key))
            if share < 35:
                chunk.append(("vrm", f"NS{index % 60 + 10:02d} {index:07d}", key))
        if share % 4 != 3:
            chunk.append(("passport", f"{500_000_000 + index}", key))
        if share % 2 == 0:
            chunk.append(("ctr", f"NS{index:09d}", key))
        if (index + 1) % CHUNK == 0 or index + 1 == people:
            yield chunk
            chunk = []


def load_index(engine: Engine, people: int, progress: Progress) -> list[tuple[str, str, str]]:
    """The organisations, schemes and the person index of `people` people, bulk-loaded
    (executemany on SQLite, COPY on PostgreSQL); returns every link."""
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(t.organisations), [{"id": o, "name": n}
                                                for o, n in organisation_names().items()])
        conn.execute(insert(t.identifier_schemes),
                     [{"code": c, "name": n, "issuer_id": i} for c, n, i in schemes()])
        conn.execute(insert(t.organisation_schemes),
                     [{"org_id": o, "scheme": s} for o, codes in org_schemes().items()
                      for s in codes])
        conn.execute(text("DROP INDEX ix_person_links_person"))
    everything: list[tuple[str, str, str]] = []
    task = progress.add_task(f"index of {people:,} people ({engine.dialect.name})",
                             total=people)
    raw = engine.raw_connection()
    try:
        for chunk in population_links(people):
            cursor = raw.cursor()
            if engine.dialect.name == "postgresql":
                with cursor.copy("COPY person_links (scheme, value, person_key) FROM STDIN"
                                 ) as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                cursor.executemany("INSERT INTO person_links (scheme, value, person_key) "
                                   "VALUES (?, ?, ?)", chunk)
            raw.commit()
            everything += chunk
            progress.advance(task, min(CHUNK, people - progress.tasks[task].completed))
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_person_links_person ON person_links "
                          "(person_key, scheme)"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE person_links"))
    return everything


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed_each(calls: int, call: Callable[[int], object]) -> list[float]:
    """Microseconds per call, one by one."""
    samples = []
    clock = time.perf_counter_ns
    for n in range(calls):
        start = clock()
        call(n)
        samples.append((clock() - start) / 1000)
    return samples


_TARGET_LINK = aliased(t.person_links)
# The peer: the same lookup as a plain SQLAlchemy Core statement, built once.
_RESOLVE = (
    select(t.person_links.c.person_key, _TARGET_LINK.c.value)
    .select_from(t.person_links.outerjoin(
        _TARGET_LINK, and_(_TARGET_LINK.c.person_key == t.person_links.c.person_key,
                           _TARGET_LINK.c.scheme == bindparam("target_scheme"))))
    .where(t.person_links.c.scheme == bindparam("scheme"),
           t.person_links.c.value == bindparam("value"))
    .limit(1)
)


def core_resolve(conn: Connection, scheme: str, value: str, target_scheme: str) -> Any:
    return conn.execute(_RESOLVE, {"scheme": scheme, "value": value,
                                   "target_scheme": target_scheme}).first()


def resolution(report: Report, backend: str, url: str, people: int, calls: int,
               progress: Progress) -> None:
    engine = make_engine(url)
    exchange = bootstrap(url, engine=engine)
    try:
        everything = load_index(engine, people, progress)
        drivers = [value for scheme, value, _ in everything if scheme == "driver"]
        asked = random.Random(1).choices(drivers, k=calls)
        by_identifier = {(s, v): k for s, v, k in everything if s in ("driver", "nhs")}
        by_person = {(k, s): v for s, v, k in everything if s == "nhs"}
        del everything

        exchange_rounds, core_rounds = [], []
        with exchange.uows() as uow:  # one read transaction, as a query's read phase
            for value in asked[:200]:  # warm the statement caches and the pages
                uow.identities.name("GOV/DVLA", "driver", value, "nhs")
                core_resolve(uow.conn, "driver", value, "nhs")
            # Rounds alternate the two, the order swapped each round, so that a burst of
            # load on this shared machine falls on both; each round's percentiles are kept.
            for number in range(ROUNDS):
                runs = [(exchange_rounds, lambda n: uow.identities.name(
                            "GOV/DVLA", "driver", asked[n], "nhs")),
                        (core_rounds, lambda n: core_resolve(uow.conn, "driver", asked[n],
                                                             "nhs"))]
                for kept, call in runs[::-1] if number % 2 else runs:
                    kept.append(percentiles(timed_each(calls, call)))
            found = uow.identities.name("GOV/DVLA", "driver", asked[0], "nhs")
        assert found.allowed and found.person_key and found.provider_value

        def in_memory(n: int) -> object:
            person = by_identifier.get(("driver", asked[n]))
            return person, by_person.get((person, "nhs"))

        dict_us = timed_each(calls, in_memory)
        key = consumer_key(b"\x01" * 32, "COM/ACME")
        pseudonym_us = timed_each(calls, lambda n: pseudonym(key, by_identifier[
            ("driver", asked[n])]))
    finally:
        exchange.close()
    (d50, d99), (p50, p99) = (percentiles(s) for s in (dict_us, pseudonym_us))
    e50, e99 = (statistics.median(r[i] for r in exchange_rounds) for i in (0, 1))
    c50, c99 = (statistics.median(r[i] for r in core_rounds) for i in (0, 1))
    report(f"{backend:<11} exchange p99 by round: "
           + ", ".join(f"{r[1]:.1f}" for r in exchange_rounds) + " us")
    report(f"{backend:<11} exchange (driver SQL)  p50 {e50:7.1f} us  p99 {e99:7.1f} us  "
           f"(medians of {ROUNDS} rounds)")
    report(f"{'':<11} SQLAlchemy Core (peer) p50 {c50:7.1f} us  p99 {c99:7.1f} us  "
           f"(Core / exchange: {c50 / e50:.1f}x at p50)")
    report(f"{'':<11} dict lookup (peer)     p50 {d50:7.2f} us  p99 {d99:7.2f} us  "
           f"(exchange / dict: {e99 / d99:,.0f}x at p99)")
    report(f"{'':<11} pairwise pseudonym     p50 {p50:7.2f} us  p99 {p99:7.2f} us")
    report(f"{'':<11} target p99 <= 100 us:  exchange {'met' if e99 <= 100 else 'NOT met'}, "
           f"in-process steps (dict + pseudonym) {d99 + p99:.1f} us")


# Matching --------------------------------------------------------------------------------

def matching_records(n: int) -> tuple[list[MatchRecord], list[MatchRecord], dict[str, str]]:
    """A new organisation's records, the index's people, and the truth (record -> person).

    The reference is the index's view: current name, date of birth, current postcode, NINO.
    The organisation's records differ as records do: a surname changed on marriage kept
    under the old name (1 in 3 of those who changed), a mistyped name (1 in 25), a moved
    address (1 in 8), a mistyped date of birth (1 in 50); half carry the NINO; one in ten
    is someone the index does not know (their person is left out of the reference)."""
    pools = Pools.make(SEED)
    records, reference, truth = [], [], {}
    for index in range(n):
        person = make_person(SEED, index, pools, REFERENCE_DAY)
        noise = random.Random(SEED * 7 + index)
        nino = person.ids.get("nino")
        postcode = postcode_of(person.address)
        unknown = noise.random() < 0.10
        if not unknown:
            reference.append(MatchRecord(person.person_key, person.full_name,
                                         person.date_of_birth, postcode,
                                         (f"nino:{nino}",) if nino else ()))
        name = person.full_name
        if person.previous_name and noise.random() < 1 / 3:
            name = person.previous_name
        if noise.random() < 1 / 25:
            at = noise.randrange(1, len(name) - 1)
            name = name[:at] + name[at + 1] + name[at] + name[at + 2:]
        if noise.random() < 1 / 8:
            postcode = postcode_of(person.stale_address or f"x, NS{noise.randint(1, 29)} "
                                   f"{noise.randint(1, 9)}AB")
        born = person.date_of_birth
        if noise.random() < 1 / 50:
            born = born + timedelta(days=noise.choice([-10, -1, 1, 10]))
        carries = (f"nino:{nino}",) if nino and noise.random() < 0.5 else ()
        record_id = f"NEW{index:08d}"
        records.append(MatchRecord(record_id, name, born, postcode, carries))
        if not unknown:
            truth[record_id] = person.person_key
    return records, reference, truth


def dict_join(records: list[MatchRecord], reference: list[MatchRecord]) -> list[Match]:
    """The plainest deterministic peer: an exact join on the NINO."""
    by_nino = {i: r.record_id for r in reference for i in r.identifiers}
    return [Match(r.record_id, by_nino[i], ACCEPT_WEIGHT, True) for r in records
            for i in r.identifiers if i in by_nino]


_DATA: tuple[list[MatchRecord], list[MatchRecord], dict[str, str]] | None = None


def _child(variant: str, queue: Any) -> None:
    assert _DATA is not None  # made by the parent before the fork
    records, reference, truth = _DATA
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if variant == "dict":
        matches = dict_join(records, reference)
    else:
        matches = SplinkMatcher(use_probabilistic=variant == "splink").match(records, reference)
    best = best_per_record(matches)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    applied = {m.record_id: m.person_key for m in best
               if m.identifier_agreement and m.match_weight >= ACCEPT_WEIGHT}
    proposed = {m.record_id: m.person_key for m in best if m.match_weight >= REVIEW_WEIGHT}
    strong = {m.record_id: m.person_key for m in best if m.match_weight >= ACCEPT_WEIGHT}
    queue.put({"seconds": seconds, "peak_mib": peak / 1024, "before_mib": before / 1024,
               "pairs": len(matches), "truth": len(truth),
               "applied": precision_recall(applied, truth) + (len(applied),),
               "proposed": precision_recall(proposed, truth) + (len(proposed),),
               "strong": precision_recall(strong, truth) + (len(strong),)})


def in_fresh_process(variant: str) -> dict[str, Any]:
    """Run a variant in a forked process of its own (the records made once, before), so
    its peak memory is its own."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_child, args=(variant, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def matching(report: Report, n: int) -> None:
    global _DATA
    _DATA = matching_records(n)
    report(f"matching   {n:,} records against {len(_DATA[1]):,} people; {len(_DATA[2]):,} "
           "records have a person there (each variant in a forked process)")
    results = {}
    for variant, title in (("dict", "dict join on NINO (peer)"),
                           ("identifiers", "splink, identifiers only"),
                           ("splink", "splink, probabilistic")):
        r = results[variant] = in_fresh_process(variant)
        report(f"  {title:<26} {r['seconds']:7.2f} s  peak RSS {r['peak_mib']:6.0f} MiB "
               f"(records {r['before_mib']:.0f} MiB)  {r['pairs']:,} pairs >= {REVIEW_WEIGHT:g}")
        for label, key in (("applied automatically", "applied"),
                           ("proposed to a guardian", "proposed"),
                           (f"weight >= {ACCEPT_WEIGHT:g}", "strong")):
            precision, recall, count = r[key]
            report(f"  {'':<26} {label:<24} {count:7,} links  precision {precision:.4f}  "
                   f"recall {recall:.4f}")
    splink, identifiers = results["splink"], results["identifiers"]
    report(f"  probabilistic / identifiers only: time "
           f"{splink['seconds'] / identifiers['seconds']:.1f}x, recall of the proposals "
           f"{splink['proposed'][1] / max(identifiers['proposed'][1], 1e-9):.2f}x")


# Planted cases in the demo world ----------------------------------------------------------

@contextmanager
def demo_world(people: int) -> Iterator[Any]:
    with tempfile.TemporaryDirectory(prefix="onceonly-identity-") as folder:
        url = f"sqlite:///{Path(folder) / 'exchange.sqlite'}"
        exchange = bootstrap(url)
        try:
            build_world(exchange, url, people=people)
            yield exchange
        finally:
            exchange.close()


def planted(report: Report, people: int) -> None:
    pools = Pools.make(SEED)
    truth = {value: person.person_key for index in range(people)
             for person in [make_person(SEED, index, pools, REFERENCE_DAY)]
             for _, value in planted_links(person)}
    with demo_world(people) as exchange:
        start = time.perf_counter()
        run = exchange.identity.match("GOV/DVLA")
        seconds = time.perf_counter() - start
        with exchange.engine.connect() as conn:
            rows = conn.execute(text("SELECT value, person_key, match_weight FROM "
                                     "link_candidates")).all()
    proposed = {value: person for value, person, _ in rows}
    strong = {value: person for value, person, weight in rows if weight >= ACCEPT_WEIGHT}
    report(f"planted    demo world of {people:,} people: {len(truth)} DVLA driver numbers "
           f"missing from the index; match GOV/DVLA in {seconds:.1f} s ({run.records} "
           f"records against {run.reference:,} people)")
    for label, links_found in (("proposed to the guardian", proposed),
                               (f"weight >= {ACCEPT_WEIGHT:g}", strong)):
        precision, recall = precision_recall(links_found, truth)
        report(f"  {label:<26} {len(links_found):5} links  precision {precision:.4f}  "
               f"recall {recall:.4f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--planted-people", type=int, default=10_000)
    parser.add_argument("--backend", choices=("SQLite", "PostgreSQL"), action="append",
                        help="resolution on this backend only (default: both)")
    parser.add_argument("--part", choices=PARTS, action="append",
                        help="run only this part (again for more; default: all)")
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args(argv)
    parts = options.part or PARTS
    if options.quick:
        options.people, options.calls, options.records = 20_000, 5_000, 5_000
        options.planted_people = 2_000
    report = Report("identity")
    report(machine_header("identity: resolution, matching, planted cases"))
    if "resolution" in parts:
        report(f"resolution {options.people:,} people, {options.calls:,} calls per variant "
               "(DVLA's driver number -> NHS number)")
        backends = options.backend or ("SQLite", "PostgreSQL")
        with Progress(transient=True) as progress:
            if "SQLite" in backends:
                with tempfile.TemporaryDirectory(prefix="onceonly-identity-") as folder:
                    resolution(report, "SQLite", f"sqlite:///{Path(folder) / 'index.sqlite'}",
                               options.people, options.calls, progress)
            if "PostgreSQL" in backends:
                with postgres_database() as (url, _schema):
                    resolution(report, "PostgreSQL", url, options.people, options.calls,
                               progress)
    if "matching" in parts:
        matching(report, options.records)
    if "planted" in parts:
        planted(report, options.planted_people)
    report.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
