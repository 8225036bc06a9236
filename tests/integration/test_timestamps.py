"""RFC 3161 timestamps of signed tree heads against a real authority (`openssl ts -reply`
with a test CA, over HTTP on 127.0.0.1), on SQLite and PostgreSQL: every head stamped, the
authority down (the log goes on, heads wait and are counted) and back (they are stamped),
a second authority answering for the first, every token checked by `verify`, and the
heads waiting shown on /readyz without making the server unready."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from onceonly.adapters.db import tables as t
from onceonly.adapters.timestamp_authority import HttpTimestampAuthority
from onceonly.bootstrap import Exchange
from onceonly.crypto.timestamps import load_roots
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.services.timestamps import NoAuthorityAnswered, TimestampService
from tests.integration.test_audit import _operator, append
from tests.support.tsa import TestAuthority


@pytest.fixture(scope="module")
def tsa() -> Iterator[TestAuthority]:
    authority = TestAuthority()
    yield authority
    authority.close()


@pytest.fixture
def log(exchange: Exchange) -> Exchange:
    _operator(exchange)
    return exchange


def service(log: Exchange, *urls: str, roots: list | None = None,
            latest_only: bool = False, ca: TestAuthority) -> TimestampService:
    trusted = load_roots(ca.ca_file.read_bytes()) if roots is None else roots
    return TimestampService(log.uows, log.clock, [HttpTimestampAuthority(u, timeout=2)
                                                  for u in urls],
                            lambda: trusted, latest_only=latest_only)


def sign_heads(log: Exchange, count: int) -> list[int]:
    sizes = []
    for _ in range(count):
        append(log, 2, start=len(sizes) * 2)
        sizes.append(log.audit.integrate().head.tree_size)
    return sizes


def test_every_head_is_stamped_and_each_token_verifies(log, tsa):
    stamps = service(log, tsa.url, ca=tsa)
    sizes = sign_heads(log, 3)
    assert stamps.waiting() == 3
    assert stamps.stamp_waiting(limit=2) is True  # the oldest two; one more waits
    assert stamps.waiting() == 1
    assert stamps.of(sizes[0]) is not None and stamps.of(sizes[2]) is None
    assert stamps.stamp_waiting(limit=1) is False
    assert stamps.waiting() == 0
    report = stamps.verify()
    assert report.ok and report.stamped == 3 and report.heads == 3
    assert not report.waiting and not report.covered
    assert stamps.of(sizes[-1]).authority == tsa.url


def test_the_authority_down_leaves_heads_waiting_then_back_stamps_them(log, tsa):
    stamps = service(log, tsa.url, ca=tsa)
    sign_heads(log, 1)
    stamps.stamp_waiting()
    tsa.down()
    try:
        append(log, 3, start=10)
        head = log.audit.integrate().head  # the log goes on while the authority is away
        with pytest.raises(NoAuthorityAnswered, match="did not answer"):
            stamps.stamp_waiting()
        assert stamps.waiting() == 1
        report = stamps.verify()
        assert report.waiting == [head.tree_size] and report.ok
    finally:
        tsa.up()
    stamps.stamp_waiting()
    assert stamps.waiting() == 0
    assert stamps.verify().stamped == 2


def test_a_second_authority_answers_when_the_first_is_down(log, tsa, tmp_path):
    dead = "http://127.0.0.1:9/tsa"  # nothing listens on the discard port
    stamps = service(log, dead, tsa.url, ca=tsa)
    size = sign_heads(log, 1)[0]
    stamps.stamp_waiting()
    assert stamps.of(size).authority == tsa.url


def test_under_load_only_the_latest_head_is_stamped_covering_those_before(log, tsa):
    stamps = service(log, tsa.url, ca=tsa, latest_only=True)
    sizes = sign_heads(log, 3)
    assert stamps.stamp_waiting() is False
    report = stamps.verify()
    assert report.stamped == 1 and report.covered == sizes[:2] and not report.waiting


def test_an_answer_from_an_untrusted_authority_is_refused_and_nothing_is_stored(log, tsa):
    other = TestAuthority(name="Stranger")
    try:
        stamps = service(log, other.url, ca=tsa)  # trusts tsa's CA, not the stranger's
        sign_heads(log, 1)
        with pytest.raises(NoAuthorityAnswered, match="verify"):
            stamps.stamp_waiting()
        assert stamps.waiting() == 1
    finally:
        other.close()


def test_verify_names_a_token_that_does_not_cover_its_head(log, tsa):
    stamps = service(log, tsa.url, ca=tsa)
    first, second = sign_heads(log, 2)
    stamps.stamp_waiting()
    with log.engine.begin() as conn:  # the first head's token moved onto the second
        token = conn.execute(t.audit_head_timestamps.select().where(
            t.audit_head_timestamps.c.tree_size == first)).one().token
        conn.execute(update(t.audit_head_timestamps)
                     .where(t.audit_head_timestamps.c.tree_size == second)
                     .values(token=token))
    report = stamps.verify()
    assert not report.ok
    assert report.bad == [(second, f"the timestamp of the head of {second} entries does not "
                                   "verify: Mismatch between messages")]
    assert report.stamped == 1


def test_verify_refuses_tokens_against_another_authoritys_certificate(log, tsa):
    sign_heads(log, 1)
    service(log, tsa.url, ca=tsa).stamp_waiting()
    other = TestAuthority(name="Stranger")
    try:
        report = service(log, tsa.url, ca=other).verify()
    finally:
        other.close()
    assert not report.ok and "certificate" in report.bad[0][1]


def test_readiness_shows_the_heads_waiting_for_a_timestamp_and_stays_ready(log, tsa, clock):
    log.timestamps = service(log, tsa.url, ca=tsa)
    with running(create_app(log, integrate_every=0)) as base:
        assert httpx.get(f"{base}/readyz").json()["timestamps"] == {
            "heads_waiting": 0, "oldest_waiting_seconds": None}
        tsa.down()
        try:
            sign_heads(log, 2)
            with pytest.raises(NoAuthorityAnswered):
                log.timestamps.stamp_waiting()
            clock.advance(timedelta(seconds=90))
            ready = httpx.get(f"{base}/readyz")
            assert ready.status_code == 200, ready.text  # the exchange serves on
            assert ready.json()["status"] == "ok"
            waiting = ready.json()["timestamps"]
            assert waiting["heads_waiting"] == 2
            assert 90 <= waiting["oldest_waiting_seconds"] < 100
        finally:
            tsa.up()
        log.timestamps.stamp_waiting()
        assert httpx.get(f"{base}/readyz").json()["timestamps"] == {
            "heads_waiting": 0, "oldest_waiting_seconds": None}


def test_closing_the_exchange_closes_its_authorities_clients(log, tsa):
    log.timestamps = service(log, tsa.url, "http://127.0.0.1:9/tsa", ca=tsa)
    clients = [authority._client for authority in log.timestamps.authorities]
    assert not any(client.is_closed for client in clients)
    log.close()
    assert all(client.is_closed for client in clients)
