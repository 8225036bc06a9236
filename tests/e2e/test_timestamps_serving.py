"""A serving exchange timestamps its signed tree heads in the background with a real
authority (`openssl ts -reply` behind HTTP on 127.0.0.1), on SQLite and PostgreSQL: queries
go on while the authority is down, the heads waiting are counted on /metrics's figures, and
they are stamped once it is back; `onceonly audit verify` checks every token and says which
heads have none."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from onceonly.bootstrap import timestamps_for
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.audit_metrics import AuditCollector
from onceonly.entrypoints.cli import app as cli
from tests.e2e.test_background_work import a_release, signed_size
from tests.support.loops import run_in_own_loop
from tests.support.tsa import TestAuthority


@pytest.fixture
def tsa(monkeypatch) -> Iterator[TestAuthority]:
    authority = TestAuthority()
    monkeypatch.setenv("ONCEONLY_TSA_ROOTS", str(authority.ca_file))
    yield authority
    authority.close()


def awaiting(exchange) -> float | None:
    figures = {family.name: family.samples[0].value
               for family in AuditCollector(exchange.audit, exchange.timestamps).collect()}
    return figures.get("onceonly_audit_heads_awaiting_timestamp")


async def until(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def test_heads_are_stamped_in_the_background_and_wait_while_the_authority_is_down(
        exchange, world, tsa, db_url, monkeypatch):
    exchange.timestamps = timestamps_for(exchange.uows, exchange.clock, urls=[tsa.url])
    app = create_app(exchange, integrate_every=0.05)

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            seq = a_release(exchange, world)
            await until(lambda: signed_size(exchange) > seq and awaiting(exchange) == 0,
                        "the head was never timestamped")
            tsa.down()
            answered = tsa.answered
            seq = a_release(exchange, world)  # the exchange goes on without its authority
            await until(lambda: signed_size(exchange) > seq, "the entry was never integrated")
            await until(lambda: (awaiting(exchange) or 0) >= 1, "no head counted as waiting")
            assert tsa.answered == answered
            tsa.up()
            await until(lambda: awaiting(exchange) == 0, "the waiting heads were not stamped")

    run_in_own_loop(serve())
    result = CliRunner().invoke(cli, ["audit", "verify", "--db", db_url])
    assert result.exit_code == 0, result.output
    heads = exchange.timestamps.verify().heads
    assert f"of {heads} signed tree heads carry a verified RFC 3161 timestamp" in result.output


def test_audit_verify_names_the_heads_waiting_and_fails_on_a_bad_token(
        exchange, world, tsa, db_url):
    exchange.timestamps = timestamps_for(exchange.uows, exchange.clock, urls=[tsa.url])
    a_release(exchange, world)
    exchange.audit.integrate()
    runner = CliRunner()
    waiting = runner.invoke(cli, ["audit", "verify", "--db", db_url])
    assert waiting.exit_code == 0, waiting.output
    assert "heads have no timestamp yet (waiting for an authority)" in " ".join(
        waiting.output.split())
    tsa.down()
    down = runner.invoke(cli, ["audit", "timestamp", "--db", db_url],
                         env={"ONCEONLY_TSA_URLS": tsa.url})
    assert down.exit_code == 1 and "did not answer" in down.output
    tsa.up()
    stamped = runner.invoke(cli, ["audit", "timestamp", "--db", db_url],
                            env={"ONCEONLY_TSA_URLS": tsa.url})
    assert stamped.exit_code == 0, stamped.output
    assert "0 signed tree heads waiting for a timestamp" in stamped.output
    other = TestAuthority(name="Stranger")
    try:
        wrong = runner.invoke(cli, ["audit", "verify", "--db", db_url],
                              env={"ONCEONLY_TSA_ROOTS": str(other.ca_file)})
    finally:
        other.close()
    assert wrong.exit_code == 1
    assert "does not verify" in " ".join(wrong.output.split())
