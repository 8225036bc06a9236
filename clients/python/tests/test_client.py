"""onceonly-client against a live exchange: releases checked against their provider's key,
refusals as ExchangeError, the log checked from outside; requests turned away with 429 or
503 sent again after the wait Retry-After asks (from the exchange itself, and from a
rate-limiting proxy in front of it); and the distribution installed on its own, with httpx
and joserfc only, verifying a release from a fresh environment."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key
from onceonly.bootstrap import bootstrap
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly_client import ExchangeError, OnceonlyClient, SignatureInvalid, retry_after

CLIENT = Path(__file__).resolve().parents[1]
ROOT = CLIENT.parents[1]


def income(client: OnceonlyClient, live):
    return client.query(1, "nino", live.world.citizen_ids["nino"], ["income_band"],
                        "benefit-entitlement")


def test_a_release_is_returned_only_signed_by_its_provider(live) -> None:
    client = OnceonlyClient(live.base_url, live.world.token("officer:GOV/DWP"))
    release = income(client, live)
    assert release.provider == "GOV/HMRC" and release.agreement_id == 1
    assert set(release.data) == {"income_band"}
    # The same answer checked against keys that say another organisation holds them fails.
    other = OnceonlyClient(live.base_url, live.world.token("officer:GOV/DWP"))
    other._jwks = {"keys": [dict(k, org="COM/ACME") for k in client.jwks()["keys"]]}
    with pytest.raises(SignatureInvalid, match="no key of GOV/HMRC"):
        income(other, live)


def test_a_refusal_is_an_exchange_error_with_its_code(live) -> None:
    client = OnceonlyClient(live.base_url, "oo_not-a-token")
    with pytest.raises(ExchangeError) as refused:
        income(client, live)
    assert refused.value.status == 401 and refused.value.code


def test_the_log_checked_from_outside_extends_the_head_kept_before(live) -> None:
    client = OnceonlyClient(live.base_url, live.world.token("officer:GOV/DWP"))
    live.exchange.audit.integrate()
    first = client.check_log(samples=4)
    assert first.ok, first.problems
    income(client, live)
    live.exchange.audit.integrate()
    second = client.check_log(previous=first.head, samples=4)
    assert second.ok, second.problems
    assert second.consistent_from == first.head.head.tree_size
    assert second.head.head.tree_size > first.head.head.tree_size


# --- retries --------------------------------------------------------------------------------

def test_a_503_is_sent_again_after_the_retry_after_the_exchange_gives(tmp_path: Path) -> None:
    """A server on a database not yet migrated answers 503 database_unavailable with
    Retry-After: 60; the operator migrates it during the wait, and the retry is answered."""
    exchange = bootstrap(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
    waits: list[float] = []

    def wait(seconds: float) -> None:  # the client's sleep: the operator acts meanwhile
        waits.append(seconds)
        upgrade(exchange.engine)

    try:
        with running(create_app(exchange, integrate_every=0)) as base:
            client = OnceonlyClient(base, max_wait=120, sleep=wait)
            assert isinstance(client.catalogue(), dict | list)
    finally:
        exchange.close()
    assert waits == [60.0]


def test_a_wait_longer_than_max_wait_is_not_waited(tmp_path: Path) -> None:
    exchange = bootstrap(f"sqlite:///{tmp_path / 'exchange.sqlite'}")
    waits: list[float] = []
    try:
        with running(create_app(exchange, integrate_every=0)) as base:
            client = OnceonlyClient(base, max_wait=30, sleep=waits.append)
            with pytest.raises(ExchangeError) as refused:
                client.catalogue()
    finally:
        exchange.close()
    assert refused.value.status == 503 and refused.value.code == "database_unavailable"
    assert waits == []


class RateLimiter:
    """A rate-limiting proxy in front of the exchange: turns away the first `refuse`
    requests with 429 and the given Retry-After, then forwards each to the exchange."""

    def __init__(self, upstream: str, refuse: int, retry_after: str | None) -> None:
        self.upstream, self.refuse, self.retry_after = upstream, refuse, retry_after
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, signature nonce

    async def __call__(self, scope, receive, send) -> None:
        body, more = bytearray(), True
        while more:
            message = await receive()
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], headers.get("signature-input")))
        if len(self.seen) <= self.refuse:
            extra = [(b"retry-after", self.retry_after.encode())] if self.retry_after else []
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/problem+json"), *extra]})
            await send({"type": "http.response.body", "body": json.dumps(
                {"code": "rate_limited", "detail": "slow down"}).encode()})
            return
        query = f"?{scope['query_string'].decode()}" if scope["query_string"] else ""
        async with httpx.AsyncClient(base_url=self.upstream) as upstream:
            answer = await upstream.request(scope["method"], scope["path"] + query,
                                            content=bytes(body), headers={
                # The Host kept: a signature covers the URI the client asked for.
                k: v for k, v in headers.items() if k != "content-length"})
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in answer.headers.items()
                                if k not in {"content-length", "transfer-encoding",
                                             "content-encoding"}]})
        await send({"type": "http.response.body", "body": answer.content})


@contextmanager
def rate_limited(live, refuse: int, retry_after: str | None) -> Iterator[tuple[str, RateLimiter]]:
    limiter = RateLimiter(live.base_url, refuse, retry_after)
    with running(limiter) as base:
        yield base, limiter


def test_a_429_is_sent_again_after_its_retry_after_in_seconds(live) -> None:
    waits: list[float] = []
    with rate_limited(live, refuse=2, retry_after="7") as (base, limiter):
        client = OnceonlyClient(base, live.world.token("officer:GOV/DWP"), sleep=waits.append)
        release = income(client, live)
    assert release.data and waits == [7.0, 7.0]
    assert [m for m, _, _ in limiter.seen] == ["POST", "POST", "POST", "GET", "GET"]


def test_a_429_with_an_http_date_waits_until_then() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    assert 28 <= retry_after(response, 0.5) <= 30
    past = httpx.Response(429, headers={"Retry-After": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert retry_after(past, 0.5) == 0.0
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"}), 0.5) == 0.5


def test_without_retry_after_the_waits_double_and_the_retries_end(live) -> None:
    waits: list[float] = []
    with rate_limited(live, refuse=10, retry_after=None) as (base, limiter):
        client = OnceonlyClient(base, live.world.token("officer:GOV/DWP"), retries=3,
                                sleep=waits.append)
        with pytest.raises(ExchangeError) as refused:
            client.catalogue()
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    assert waits == [0.5, 1.0, 2.0] and len(limiter.seen) == 4


def test_a_signed_request_is_signed_afresh_for_each_retry(live) -> None:
    with live.exchange.engine.begin() as conn:  # DWP's own request-signing key
        signing = add_signing_key(conn, "GOV/DWP", live.exchange.clock.now(),
                                  envelopes=live.exchange.envelopes)
    with rate_limited(live, refuse=1, retry_after="1") as (base, limiter):
        client = OnceonlyClient(base, live.world.token("officer:GOV/DWP"),
                                signing_key=signing, sleep=lambda _: None)
        assert income(client, live).data
    posts = [nonce for method, _, nonce in limiter.seen if method == "POST"]
    assert len(posts) == 2 and all(posts) and posts[0] != posts[1]


# --- the distribution on its own ------------------------------------------------------------

def test_the_distribution_needs_httpx_and_joserfc_only() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    names = sorted(d.split(">")[0].split("=")[0].strip() for d in project["dependencies"])
    assert names == ["httpx", "joserfc"]


def test_installed_alone_it_verifies_a_live_release(live, tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is not installed: run `make env`"
    run = lambda *cmd: subprocess.run([str(c) for c in cmd], capture_output=True,  # noqa: E731
                                      text=True, timeout=300, cwd=tmp_path)
    built = run(uv, "build", "--quiet", "--package", "onceonly-client", "--wheel",
                "--out-dir", tmp_path / "dist", "--project", ROOT)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("onceonly_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist()
                                     if n.endswith("METADATA"))).decode()
    requires = sorted(line for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    assert [r.split(":")[1].split(">")[0].split(";")[0].strip() for r in requires] == \
        ["http-message-signatures", "httpx", "joserfc"]
    assert "extra == 'signatures'" in next(r for r in requires if "http-message" in r)
    venv = tmp_path / "venv"
    assert run(uv, "venv", "--quiet", "--python", "3.11", venv).returncode == 0
    installed = run(uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel)
    assert installed.returncode == 0, installed.stderr
    listed = run(uv, "pip", "list", "--python", venv / "bin" / "python")
    packages = {line.split()[0] for line in listed.stdout.splitlines()[2:]}
    assert "onceonly" not in packages and {"httpx", "joserfc", "onceonly-client"} <= packages
    script = (f"import sys\nfrom onceonly_client import OnceonlyClient\n"
              f"c = OnceonlyClient({live.base_url!r}, {live.world.token('officer:GOV/DWP')!r})\n"
              f"r = c.query(1, 'nino', {live.world.citizen_ids['nino']!r}, ['income_band'], "
              f"'benefit-entitlement')\n"
              f"print(r.signed_by, r.provider, sorted(r.data))\n"
              f"assert 'onceonly' not in sys.modules\n")
    verified = run(venv / "bin" / "python", "-c", script)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.split()[1:] == ["GOV/HMRC", "['income_band']"]
