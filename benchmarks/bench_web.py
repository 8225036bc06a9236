"""The web portals: what a page costs beside the API call it is built on, and what signing
in with a password (argon2id) costs beside signing in with a token.

What it measures
    Over HTTP, against the real app on a loopback port (the demo world, 200 people, built
    fresh; the citizen asked about 20 times), on SQLite and PostgreSQL, one request at a
    time from one client:
    - the citizen's "who accessed my data" page (`GET /citizen`: session cookie looked up,
      the access log read, the page rendered with Jinja2) against its peer, the same log
      from the API (`GET /v1/me/access-log` with the citizen's bearer token, as JSON);
    - a citizen's sign-in (`POST /sign-in/citizen`: CSRF check, argon2id verification of
      the password, the session and its audit entry written) against a staff sign-in with
      an API token (`POST /sign-in/staff`: a SHA-256 lookup instead of argon2).
    Milliseconds per request, median over the repetitions.

How to run
    uv run python -m benchmarks.bench_web            # 500 page loads, 40 sign-ins, x 6
    uv run python -m benchmarks.bench_web --quick    # 50 and 10, x 3
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

import httpx

from benchmarks import Report, machine_header
from benchmarks.bench_http import postgres_database, sqlite_database
from onceonly.adapters.db.migrate import upgrade
from onceonly.bootstrap import bootstrap
from onceonly.demo.citizens import open_citizen_accounts
from onceonly.demo.seed import build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.services.queries import QueryCommand

BACKENDS = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}


def per_request_ms(call: Callable[[], httpx.Response], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        answer = call()
        assert answer.status_code in (200, 303), answer.text[:200]
    return (time.perf_counter() - start) / count * 1e3


def run(report: Report, backend: str, pages: int, sign_ins: int, repeat: int) -> None:
    with BACKENDS[backend]() as (url, _prefix):
        exchange = bootstrap(url)
        upgrade(exchange.engine)
        world = build_world(exchange, url, people=200)
        [citizen] = open_citizen_accounts(exchange, world)
        officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
        for _ in range(20):
            exchange.queries.query(officer, QueryCommand(
                1, "nino", world.citizen_ids["nino"], ("income_band",), "benefit-entitlement"))
        figures: dict[str, list[float]] = {k: [] for k in ("page", "api", "password", "token")}
        with running(create_app(exchange, integrate_every=0)) as base, \
                httpx.Client(base_url=base, timeout=30) as browser, \
                httpx.Client(base_url=base, timeout=30) as api:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                             browser.get("/sign-in").text)[1]
            password_form = {"csrf_token": csrf, "login": citizen.login,
                             "password": citizen.password}
            token_form = {"csrf_token": csrf, "token": world.token("guardian:GOV/HMRC")}
            browser.post("/sign-in/citizen", data=password_form)
            bearer = {"Authorization": f"Bearer {world.token('citizen')}"}
            # Each sign-in starts anonymous (the form stays valid: it is bound to the
            # visitor cookie, which a session cookie would take precedence over).
            anonymous = httpx.Client(base_url=base, timeout=30, cookies={
                "onceonly_visitor": browser.cookies["onceonly_visitor"]})
            with anonymous:
                reads = {"page": lambda: browser.get("/citizen"),
                         "api": lambda: api.get("/v1/me/access-log", headers=bearer)}
                for turn in range(repeat):
                    # Alternating which goes first, so neither always meets a warmer cache.
                    for name in (("page", "api") if turn % 2 == 0 else ("api", "page")):
                        figures[name].append(per_request_ms(reads[name], pages))
                    figures["password"].append(per_request_ms(
                        lambda: _fresh(anonymous).post("/sign-in/citizen", data=password_form),
                        sign_ins))
                    figures["token"].append(per_request_ms(
                        lambda: _fresh(anonymous).post("/sign-in/staff", data=token_form),
                        sign_ins))
        exchange.close()
    page, api_ms, password, token = (statistics.median(figures[k])
                                     for k in ("page", "api", "password", "token"))
    report(f"{backend:<11} access log: page {page:6.2f} ms   API {api_ms:6.2f} ms   "
           f"({page / api_ms:.2f}x)")
    report(f"{backend:<11} sign-in: password (argon2id) {password:6.1f} ms   token "
           f"{token:6.2f} ms   ({password / token:.1f}x)")


def _fresh(client: httpx.Client) -> httpx.Client:
    """Forget the session cookie the last sign-in set, keeping the visitor's."""
    client.cookies.delete("onceonly_session")
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--sign-ins", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backend", choices=sorted(BACKENDS), action="append")
    options = parser.parse_args(argv)
    if options.quick:
        options.pages, options.sign_ins, options.repeat = 50, 10, 3
    report = Report("web")
    report(machine_header("the web portals: a page beside its API call; password sign-in "
                          "beside token sign-in"))
    report(f"requests   {options.pages} page loads and {options.sign_ins} sign-ins x "
           f"{options.repeat} repetitions (median)")
    for backend in options.backend or list(BACKENDS):
        run(report, backend, options.pages, options.sign_ins, options.repeat)
    report(f"raw output {report.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
