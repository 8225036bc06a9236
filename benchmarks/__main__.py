"""Run the benchmarks: `uv run --group bench python -m benchmarks [NAME ...] [--quick]`.

    policy  the in-process policy decision against Cedar and Casbin (benchmarks/bench_policy.py,
            run as its own process: it needs the `bench` dependency group)
    http    the governed query over HTTP against an ungoverned read of the same record, on
            SQLite and PostgreSQL, driven by wrk (benchmarks/bench_http.py)
    scale   the demo world with 1,000,000 people: build time, memory, size on disk, and the
            server's memory (benchmarks/bench_scale.py)
    audit   the Merkle log: integrate and verify 1,000,000 entries against bare hashlib and
            pymerkle, proofs at 10,000,000 leaves in memory and in the database, and what
            the audit append adds to a governed query (benchmarks/bench_audit.py; needs the
            `bench` dependency group)
    signatures  verifying a signed request (RFC 9421) beside a bearer-token lookup
            (benchmarks/bench_signatures.py)
    identity  resolving identifiers at 1,000,000 people beside a dict lookup; matching
            100,000 against 100,000 records (splink) beside identifiers only; precision and
            recall on the demo world's planted cases (benchmarks/bench_identity.py)
    consent  what the consent check adds to a governed query: a consent-based agreement
            with live consents beside a statutory one (benchmarks/bench_consent.py)
    web     a portal page beside the API call it is built on; password (argon2id) sign-in
            beside token sign-in (benchmarks/bench_web.py)
    dashboard  the manager's delivery figures (p50/p99 and counts by receiver over 24 hours)
            beside counting in the database (benchmarks/bench_delivery_figures.py)
    tell-us-once  one death told to seven organisations end to end beside POSTing straight to
            their receivers; sustained fan-out with 1, 2 and 4 workers on PostgreSQL beside
            the HTTP client alone; workers SIGKILLed mid fan-out: deliveries sent again and
            lost beside what was in flight at each kill (benchmarks/bench_tell_us_once.py)
    connectors  a governed query over the HTTP connector beside the same load sent straight
            to the provider's API; the connector's cost beside a bare GET; HTTP beside SQL
            (benchmarks/bench_connectors.py)
    cost    what governance costs: server CPU per governed query minus an ungoverned read's
            on the same stack (Δ), on SQLite and PostgreSQL, beside the share against a
            FastAPI route and a bare ASGI handler (benchmarks/bench_cost.py)

With no name, all run in that order. `--quick` is passed to each: a smoke run of a
few seconds to a few minutes instead of the full figures. Raw outputs are written to
benchmarks/results/ (not committed).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from benchmarks import machine_header

HERE = Path(__file__).resolve().parent
NAMES = ("policy", "http", "scale", "audit", "signatures", "identity", "consent", "web",
         "dashboard", "tell-us-once", "connectors", "cost")


def run_policy(quick: bool) -> int:
    if importlib.util.find_spec("cedarpy") is None or importlib.util.find_spec("casbin") is None:
        print("the policy benchmark needs the bench group: uv run --group bench python -m "
              "benchmarks policy", file=sys.stderr)
        return 2
    command = [sys.executable, str(HERE / "bench_policy.py"), *(["--quick"] if quick else [])]
    print(f"$ {' '.join(command)}", flush=True)
    return subprocess.run(command, cwd=HERE.parent).returncode


def run_audit(quick: bool) -> int:
    if importlib.util.find_spec("pymerkle") is None:
        print("the audit benchmark needs the bench group: uv run --group bench python -m "
              "benchmarks audit", file=sys.stderr)
        return 2
    from benchmarks import bench_audit

    return bench_audit.main(["--quick"] if quick else [])


def run_signatures(quick: bool) -> int:
    from benchmarks import bench_signatures

    return bench_signatures.main(["--quick"] if quick else [])


def run_identity(quick: bool) -> int:
    from benchmarks import bench_identity

    return bench_identity.main(["--quick"] if quick else [])


def run_consent(quick: bool) -> int:
    from benchmarks import bench_consent

    return bench_consent.main(["--quick"] if quick else [])


def run_web(quick: bool) -> int:
    from benchmarks import bench_web

    return bench_web.main(["--quick"] if quick else [])


def run_tell_us_once(quick: bool) -> int:
    from benchmarks import bench_tell_us_once

    return bench_tell_us_once.main(["--quick"] if quick else [])


def run_dashboard(quick: bool) -> int:
    from benchmarks import bench_delivery_figures

    return bench_delivery_figures.main(["--quick"] if quick else [])


def run_http(quick: bool) -> int:
    from benchmarks import bench_http

    return bench_http.main(["--quick"] if quick else [])


def run_connectors(quick: bool) -> int:
    from benchmarks import bench_connectors

    bench_connectors.main(["--quick"] if quick else [])
    return 0


def run_cost(quick: bool) -> int:
    from benchmarks import bench_cost

    return bench_cost.main(["--quick"] if quick else [])


def run_scale(quick: bool) -> int:
    from benchmarks import bench_scale

    return bench_scale.main(["--quick"] if quick else [])


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
        epilog="Each benchmark also runs alone: python -m benchmarks.bench_http --help, "
               "python -m benchmarks.bench_scale --help, python -m benchmarks.bench_audit --help, "
               "python benchmarks/bench_policy.py --help")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="short smoke runs")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(NAMES)}")
    names = args.names or list(NAMES)
    print(machine_header(f"benchmarks: {', '.join(names)}"), flush=True)
    runners = {"policy": run_policy, "http": run_http, "scale": run_scale, "audit": run_audit,
               "signatures": run_signatures,
               "identity": run_identity, "consent": run_consent, "web": run_web,
               "dashboard": run_dashboard, "tell-us-once": run_tell_us_once,
               "connectors": run_connectors, "cost": run_cost}
    failed = []
    for name in names:
        print(f"\n### {name}\n", flush=True)
        if runners[name](args.quick) != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
