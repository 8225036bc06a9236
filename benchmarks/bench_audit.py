"""Audit log: the RFC 9162 Merkle tree against bare hashlib and pymerkle.

What it measures
    1. Integrate and verify N entries (default 1,000,000). The entries are N distinct
       200-byte byte strings (an 8-digit counter and random bytes), prepared before any
       timing. Three contenders run in the same repetition, in an order rotated every
       repetition so that drift in the machine's load falls on all of them:
       - onceonly, integrate: `leaf_hash` of each entry and `MemoryTree.extend` in batches
         (default 1,000, as the server integrates), taking the tree head (size, root) after
         every batch as the server does to sign it.
         onceonly, verify: recompute the root from the entries with `root()` and check it
         equals the tree's, then a consistency proof between successive batch heads, made
         and checked with `verify_consistency`, for a sample of 100 of them.
       - hashlib: the same number of SHA-256 calls the tree needs (N leaf hashes of 0x00 +
         entry, N - 1 node hashes of 65 bytes) in bare list comprehensions: the floor.
       - pymerkle 7 (`InmemoryTree`, SHA-256 with its default 0x00/0x01 prefixes, which are
         RFC 9162's): append the same entries one by one (`append_entry`, what a log does
         as entries arrive) and read the root; its root must equal ours.
       Seconds are wall time, the median of the repetitions (3 by default). The garbage
       collector stays on, as in a server.
    2. Proofs in memory at M leaves (default 10,000,000): a `MemoryTree` of M leaf hashes is
       built (progress on stderr), then the median over 5 repetitions of the mean time of
       `MemoryTree.inclusion_proof` for 20,000 random indexes, `MemoryTree.consistency_proof`
       for random first sizes against the full tree, and their verification, beside the
       cost of one `hashlib.sha256(65 bytes).digest()` call as the peer.
    3-5. With the database (benchmarks/bench_audit_db.py): what the audit append adds to a
       governed query, in-process and over HTTP, on SQLite and PostgreSQL; proofs read from
       the database at M leaves; and integrate and `audit verify` of N stored entries end
       to end (reading, RFC 8785 encoding, hashing, storing), beside hashlib, on SQLite
       or, with --backend, PostgreSQL (verify and hashlib alternated --repeat times).
       PostgreSQL: ONCEONLY_BENCH_POSTGRES_URL, else postgres@127.0.0.1:5432/test.

How to run (pymerkle is in the bench dependency group)
    uv run --group bench python -m benchmarks.bench_audit             # 1,000,000 / 10,000,000
    uv run --group bench python -m benchmarks.bench_audit --quick     # 50,000 / 100,000
    uv run --group bench python -m benchmarks.bench_audit --entries 200000 --repeat 5
    uv run --group bench python -m benchmarks.bench_audit --only 5 --backend SQLite,PostgreSQL
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256

from benchmarks import Report, bench_audit_db, machine_header
from onceonly.audit.merkle import (
    MemoryTree,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

ENTRY_BYTES = 200
SAMPLE_HEADS = 100


@dataclass
class Options:
    entries: int
    batch: int
    repeat: int
    proof_leaves: int
    proof_calls: int
    proof_repeat: int
    quick: bool = False
    backends: tuple[str, ...] = ("SQLite",)


Section = Callable[[Report], None]


def sections(options: Options) -> list[tuple[str, Section]]:
    """The benchmark's sections in order, each printing its figures beside its peers. Add a
    section (for instance proofs read from the database) by appending to this list."""
    return [
        (f"integrate and verify N = {options.entries:,} entries",
         lambda out: integrate_and_verify(out, options)),
        (f"inclusion proof, in memory, at {options.proof_leaves:,} leaves",
         lambda out: proofs_in_memory(out, options)),
        ("what the audit append adds to a governed query (in-process)",
         lambda out: bench_audit_db.append_cost(
             out, people=500 if options.quick else 5_000,
             queries=200 if options.quick else 1_000, blocks=4 if options.quick else 6)),
        (f"proofs read from the database at {options.proof_leaves:,} leaves",
         lambda out: bench_audit_db.stored_proofs(
             out, options.proof_leaves, calls=500 if options.quick else 2_000,
             blocks=2 if options.quick else 3)),
        (f"integrate and verify {options.entries:,} stored entries, end to end",
         lambda out: bench_audit_db.stored_log(out, options.entries, backends=options.backends,
                                               repeat=options.repeat)),
        ("what use limits and anomaly notes add to a governed query",
         lambda out: bench_audit_db.constraints_cost(
             out, people=500 if options.quick else 5_000,
             queries=200 if options.quick else 1_000, blocks=4 if options.quick else 6)),
    ]


# -- helpers -------------------------------------------------------------------------------------


def entries(n: int, seed: int = 7) -> list[bytes]:
    """n distinct ~200-byte entries: a counter (distinct) and random bytes (incompressible)."""
    blob = random.Random(seed).randbytes(n * (ENTRY_BYTES - 8))
    step = ENTRY_BYTES - 8
    return [b"%08d" % i + blob[i * step:(i + 1) * step] for i in range(n)]


def timed(run: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


# -- 1. integrate and verify ---------------------------------------------------------------------


def onceonly_integrate(data: list[bytes], batch: int) -> tuple[MemoryTree, list[tuple[int, bytes]]]:
    tree = MemoryTree()
    heads = []
    for start in range(0, len(data), batch):
        tree.extend([leaf_hash(entry) for entry in data[start:start + batch]])
        heads.append((tree.size, tree.root()))
    return tree, heads


def onceonly_verify(data: list[bytes], tree: MemoryTree, heads: list[tuple[int, bytes]],
                    sample: list[int]) -> bool:
    ok = root([leaf_hash(entry) for entry in data]) == tree.root()
    for i in sample:
        (first, first_root), (second, second_root) = heads[i], heads[i + 1]
        proof = tree.consistency_proof(first, second)
        ok &= verify_consistency(first, second, first_root, second_root, proof)
    return ok


def bare_hashlib(data: list[bytes]) -> int:
    """As many SHA-256 calls as the tree makes, on inputs of the same sizes, nothing else."""
    leaves = [sha256(b"\x00" + entry).digest() for entry in data]
    block = b"\x01" + leaves[0] + leaves[-1]
    nodes = [sha256(b).digest() for b in itertools.repeat(block, len(data) - 1)]
    return len(leaves) + len(nodes)


def pymerkle_append(data: list[bytes]) -> bytes:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")  # security=True by default: 0x00 / 0x01 prefixes
    append = tree.append_entry
    for entry in data:
        append(entry)
    return tree.get_root()


def integrate_and_verify(out: Report, options: Options) -> None:
    try:
        import pymerkle
    except ImportError:
        pymerkle = None
    n, batch = options.entries, options.batch
    t0 = time.perf_counter()
    data = entries(n)
    out(f"   {n:,} distinct entries of {ENTRY_BYTES} bytes prepared in "
        f"{time.perf_counter() - t0:.2f} s (not timed); batches of {batch:,}; "
        f"median of {options.repeat} repetitions, order rotated each time")
    out(f"   SHA-256 calls per pass: {n:,} leaf + {n - 1:,} node = {2 * n - 1:,}")
    heads_count = -(-n // batch)
    sample = sorted(random.Random(11).sample(range(heads_count - 1),
                                             min(SAMPLE_HEADS, heads_count - 1)))
    times: dict[str, list[float]] = {"hashlib": [], "integrate": [], "verify": [], "pymerkle": []}
    roots: dict[str, bytes] = {}
    verified = True

    def run_hashlib() -> None:
        took, calls = timed(lambda: bare_hashlib(data))
        assert calls == 2 * n - 1
        times["hashlib"].append(took)

    def run_onceonly() -> None:
        nonlocal verified
        took, (tree, heads) = timed(lambda: onceonly_integrate(data, batch))
        times["integrate"].append(took)
        roots["onceonly"] = tree.root()
        took, ok = timed(lambda: onceonly_verify(data, tree, heads, sample))
        times["verify"].append(took)
        verified &= ok

    def run_pymerkle() -> None:
        took, digest = timed(lambda: pymerkle_append(data))
        times["pymerkle"].append(took)
        roots["pymerkle"] = digest

    runners = [run_hashlib, run_onceonly] + ([run_pymerkle] if pymerkle else [])
    for rep in range(options.repeat):
        for run in runners[rep % len(runners):] + runners[:rep % len(runners)]:
            run()
        print(f"   ... repetition {rep + 1}/{options.repeat} done", file=sys.stderr, flush=True)

    med = {name: statistics.median(ts) for name, ts in times.items() if ts}
    low = {name: min(ts) for name, ts in times.items() if ts}
    out()
    out(f"   {'':<58}{'median s':>9}{'min s':>8}{'µs/entry':>10}{'vs hashlib':>12}")
    rows = [
        ("hashlib", f"bare hashlib: {2 * n - 1:,} sha256 calls (the floor)"),
        ("integrate", "onceonly integrate: leaf_hash + MemoryTree.extend + head"),
        ("verify", f"onceonly verify: root() + {len(sample)} consistency proofs"),
        ("pymerkle", f"pymerkle {getattr(pymerkle, '__version__', '?')} InmemoryTree: "
                     "append_entry + get_root"),
    ]
    for name, label in rows:
        if name in med:
            out(f"   {label:<58}{med[name]:>9.3f}{low[name]:>8.3f}"
                f"{med[name] / n * 1e6:>10.2f}{ratio(med[name], med['hashlib']):>12}")
    out()
    out(f"   onceonly integrate / hashlib  = {ratio(med['integrate'], med['hashlib'])}  "
        "(target <= 3x)")
    out(f"   onceonly verify / hashlib     = {ratio(med['verify'], med['hashlib'])}  "
        "(target <= 3x)")
    out(f"   onceonly integrate + verify / hashlib = "
        f"{ratio(med['integrate'] + med['verify'], med['hashlib'])}  (two passes over the "
        "hashes, so the floor is 2x)")
    if pymerkle:
        out(f"   onceonly integrate / pymerkle = {ratio(med['integrate'], med['pymerkle'])}  "
            f"(pymerkle takes {ratio(med['pymerkle'], med['integrate'])} as long)")
    out(f"   verified: root() == tree root and {len(sample)} consistency proofs: "
        f"{'yes' if verified else 'NO'}")
    ours = roots["onceonly"]
    if pymerkle:
        same = roots["pymerkle"] == ours
        out(f"   roots: onceonly {ours.hex()[:16]}..., pymerkle {roots['pymerkle'].hex()[:16]}..."
            f" -> {'equal (RFC 9162 hashing)' if same else 'DIFFERENT: pymerkle cannot match'}")
    else:
        out("   pymerkle is not installed: run with `uv run --group bench`")
    if not verified or (pymerkle and roots["pymerkle"] != ours):
        raise SystemExit("the roots do not agree")


# -- 2. proofs in memory -------------------------------------------------------------------------


def build_tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    chunk = 1_000_000
    start = time.perf_counter()
    for first in range(0, size, chunk):
        tree.extend([sha256(b"\x00%d" % i).digest() for i in range(first, min(first + chunk,
                                                                               size))])
        if size > chunk:
            print(f"   ... {tree.size:,} leaves in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)
    return tree


def per_call_us(calls: int, repeat: int, run: Callable[[int], None]) -> list[float]:
    """run(i) for i in range(calls), repeat times; µs per call of each repetition."""
    results = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for i in range(calls):
            run(i)
        results.append((time.perf_counter() - start) / calls * 1e6)
    return results


def proofs_in_memory(out: Report, options: Options) -> None:
    size = options.proof_leaves
    took, tree = timed(lambda: build_tree(size))
    out(f"   built a MemoryTree of {size:,} leaf hashes in {took:.1f} s "
        f"({sum(map(len, tree.levels)):,} perfect nodes)")
    rng = random.Random(5)
    calls, repeat = options.proof_calls, options.proof_repeat
    indexes = [rng.randrange(size) for _ in range(calls)]
    firsts = [rng.randrange(1, size) for _ in range(calls)]
    tree_root = tree.root()
    leaves = tree.levels[0]
    inclusion = [tree.inclusion_proof(i) for i in indexes[:1000]]
    consistency = [tree.consistency_proof(m) for m in firsts[:1000]]
    first_roots = [tree.root(m) for m in firsts[:1000]]
    assert all(verify_inclusion(leaves[i], i, size, p, tree_root)
               for i, p in zip(indexes, inclusion, strict=False))
    assert all(verify_consistency(m, size, r, tree_root, p)
               for m, r, p in zip(firsts, first_roots, consistency, strict=False))
    block = b"\x01" + bytes(64)

    figures = {
        "sha256": per_call_us(calls, repeat, lambda i: sha256(block).digest()),
        "inclusion": per_call_us(calls, repeat, lambda i: tree.inclusion_proof(indexes[i])),
        "consistency": per_call_us(calls, repeat, lambda i: tree.consistency_proof(firsts[i])),
        "verify inclusion": per_call_us(
            1000, repeat, lambda i: verify_inclusion(leaves[indexes[i]], indexes[i], size,
                                                     inclusion[i], tree_root)),
        "verify consistency": per_call_us(
            1000, repeat, lambda i: verify_consistency(firsts[i], size, first_roots[i],
                                                       tree_root, consistency[i])),
    }
    lengths = {"inclusion": statistics.mean(map(len, inclusion)),
               "consistency": statistics.mean(map(len, consistency))}
    peer = statistics.median(figures["sha256"])
    out(f"   {calls:,} random indexes / first sizes, median of {repeat} repetitions")
    out()
    out(f"   {'':<50}{'median µs':>10}{'min µs':>9}{'vs sha256':>11}")
    labels = {
        "sha256": "one hashlib.sha256(65 bytes).digest() (the peer)",
        "inclusion": f"MemoryTree.inclusion_proof ({lengths['inclusion']:.1f} hashes)",
        "consistency": f"MemoryTree.consistency_proof ({lengths['consistency']:.1f} hashes)",
        "verify inclusion": "verify_inclusion",
        "verify consistency": "verify_consistency",
    }
    for name, label in labels.items():
        median = statistics.median(figures[name])
        out(f"   {label:<50}{median:>10.2f}{min(figures[name]):>9.2f}{ratio(median, peer):>11}")


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="50,000 entries and proofs at 100,000 leaves, for a smoke run")
    parser.add_argument("--entries", type=int, help="default 1,000,000 (50,000 with --quick)")
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--proof-leaves", type=int,
                        help="default 10,000,000 (100,000 with --quick)")
    parser.add_argument("--only", type=lambda text: {int(n) for n in text.split(",")},
                        help="run only these sections, e.g. --only 4,5")
    parser.add_argument("--backend", default="SQLite",
                        help="section 5's databases: SQLite, PostgreSQL or both, by commas")
    args = parser.parse_args(argv)
    options = Options(
        entries=args.entries or (50_000 if args.quick else 1_000_000),
        batch=args.batch,
        repeat=max(args.repeat, 1),
        proof_leaves=args.proof_leaves or (100_000 if args.quick else 10_000_000),
        proof_calls=20_000,
        proof_repeat=5,
        quick=args.quick,
        backends=tuple(args.backend.split(",")),
    )
    out = Report("audit")
    out(machine_header(f"audit: RFC 9162 Merkle tree, {options.entries:,} entries; proofs at "
                       f"{options.proof_leaves:,} leaves"))
    for number, (title, run) in enumerate(sections(options), start=1):
        if args.only and number not in args.only:
            continue
        out()
        out(f"{number}. {title}")
        run(out)
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
