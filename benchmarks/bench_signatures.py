"""Signed requests (RFC 9421): what verifying one costs, beside a bearer-token lookup.

What it measures
    Per request, in process, on SQLite and PostgreSQL (the demo world, 200 people, built
    fresh): the exchange's `RequestVerifier.check` of a signed `POST /v1/queries` (parse
    Signature-Input and Signature, rebuild the signature base, check Content-Digest, verify
    Ed25519 against the organisation's key read from the database, check freshness, and
    insert the nonce in its own transaction) against the peer: authenticating the DWP
    officer's bearer token (`services.auth.authenticate`, one read), which every request
    does today. Also the verification alone with an in-memory nonce store, to split the
    cost between the library's work and the nonce write. The requests (distinct nonces)
    are signed before any timing. Microseconds per request, median over the repetitions.

How to run
    uv run python -m benchmarks.bench_signatures            # 2,000 requests x 5
    uv run python -m benchmarks.bench_signatures --quick    # 200 x 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import datetime

import httpx

from benchmarks import Report, machine_header
from benchmarks.bench_http import postgres_database, sqlite_database
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key
from onceonly.bootstrap import bootstrap
from onceonly.crypto.http_signatures import sign
from onceonly.demo.seed import build_world
from onceonly.services.auth import authenticate
from onceonly.services.ports.request_signatures import NONCE_NEW, NONCE_REPLAYED
from onceonly.services.request_signatures import RequestVerifier, SignedMessage, message

BACKENDS = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}
BODY = (b'{"agreement_id":1,"fields":["income_band"],"purpose":"benefit-entitlement",'
        b'"subject":{"scheme":"nino","value":"AA000012A"}}')


class MemoryNonces:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def remember(self, kid: str, nonce: str, expires_at: datetime, now: datetime) -> str:
        if (kid, nonce) in self.seen:
            return NONCE_REPLAYED
        self.seen.add((kid, nonce))
        return NONCE_NEW


def timed(calls: list[Callable[[], object]]) -> float:
    start = time.perf_counter()
    for call in calls:
        call()
    return (time.perf_counter() - start) / len(calls) * 1e6


def run(report: Report, backend: str, requests: int, repeat: int) -> None:
    with BACKENDS[backend]() as (url, _prefix):
        exchange = bootstrap(url)
        upgrade(exchange.engine)
        world = build_world(exchange, url, people=200)
        token = world.token("officer:GOV/DWP")
        with exchange.engine.begin() as conn:
            key = add_signing_key(conn, "GOV/DWP", exchange.clock.now(),
                                  envelopes=exchange.envelopes)

        def signed_batch() -> list[SignedMessage]:
            batch = []
            for _ in range(requests):
                request = httpx.Request("POST", "http://127.0.0.1:8000/v1/queries",
                                        content=BODY, headers={
                                            "Authorization": f"Bearer {token}",
                                            "Content-Type": "application/json"})
                sign(request, key.key.private_key, key.kid, BODY)
                batch.append(message("POST", str(request.url), request.headers.multi_items()))
            return batch

        memory = RequestVerifier(exchange.request_signatures.keys, MemoryNonces(), exchange.clock)
        figures: dict[str, list[float]] = {"bearer": [], "signature": [], "no_store": []}
        for _ in range(repeat):
            figures["bearer"].append(timed(
                [lambda: authenticate(exchange.uows, exchange.clock, token)] * requests))
            batch = signed_batch()
            figures["signature"].append(timed(
                [lambda m=m: exchange.request_signatures.check(m, BODY) for m in batch]))
            batch = signed_batch()
            figures["no_store"].append(timed([lambda m=m: memory.check(m, BODY) for m in batch]))
        exchange.close()
    bearer, signature, no_store = (statistics.median(figures[k])
                                   for k in ("bearer", "signature", "no_store"))
    report(f"{backend:<11} bearer token {bearer:8.0f} us   signed request {signature:8.0f} us "
           f"({signature / bearer:.1f}x)   of which verification alone {no_store:6.0f} us, "
           f"nonce write {signature - no_store:6.0f} us")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=sorted(BACKENDS), action="append")
    options = parser.parse_args(argv)
    if options.quick:
        options.requests, options.repeat = 200, 3
    report = Report("signatures")
    report(machine_header("signed requests (RFC 9421) against bearer tokens, per request"))
    report(f"requests   {options.requests} x {options.repeat} repetitions (median)")
    for backend in options.backend or list(BACKENDS):
        run(report, backend, options.requests, options.repeat)
    report(f"raw output {report.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
