"""Web sign-in across real server processes sharing one PostgreSQL database: a delay
earned on one process holds on the other, a session started on one is honoured by the
other (and a form's CSRF token with it), and signing out on one ends it on both."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import bootstrap
from onceonly.demo.citizens import CitizenLogin, open_citizen_accounts
from onceonly.demo.seed import build_world
from onceonly.domain.sign_in import ADDRESS_AND_LOGIN
from onceonly.entrypoints.web.security import SESSION_COOKIE, VISITOR_COOKIE
from tests.support.postgres import fresh_schema
from tests.support.servers import Server, start_server, stop, wait_healthy

# An account of its own for the lock-out, so the other test's sign-ins are not refused.
GUESSED = CitizenLogin("guessed", "guessed-citizen", "the guessed citizen's password", "")


@pytest.fixture(scope="module")
def two_servers(postgres_server: str,
                tmp_path_factory) -> Iterator[tuple[list[Server], CitizenLogin]]:
    folder: Path = tmp_path_factory.mktemp("web-servers")
    with fresh_schema(postgres_server) as url:
        exchange = bootstrap(url)
        try:
            world = build_world(exchange, url, people=40)
            [citizen] = open_citizen_accounts(exchange, world)
            with exchange.engine.connect() as conn:
                other = conn.execute(select(t.person_links.c.person_key).where(
                    t.person_links.c.person_key != world.citizen_ids["person_key"])
                    .limit(1)).scalar_one()
            exchange.accounts.open_account(GUESSED.login, GUESSED.password,
                                                   person_key=other)
        finally:
            exchange.close()
        servers = [start_server(url, folder / f"server-{i}.log") for i in range(2)]
        try:
            for server in servers:
                wait_healthy(server)
            yield servers, citizen
        finally:
            for server in servers:
                stop(server)


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]


def test_sessions_and_forms_hold_across_processes(two_servers):
    (first, second), citizen = two_servers
    with closing(httpx.Client(base_url=first.base_url, timeout=30)) as on_first:
        form = csrf_of(on_first.get("/sign-in"))
        assert on_first.post("/sign-in/citizen", data={
            "csrf_token": form, "login": citizen.login, "password": citizen.password},
        ).status_code == 303
        cookies = {SESSION_COOKIE: on_first.cookies[SESSION_COOKIE],
                   VISITOR_COOKIE: on_first.cookies[VISITOR_COOKIE]}
        page = on_first.get("/citizen")
    with closing(httpx.Client(base_url=second.base_url, timeout=30,
                              cookies=cookies)) as on_second:
        assert on_second.get("/citizen").status_code == 200
        # The first process's form, posted to the second: its token verifies there too.
        out = on_second.post("/sign-out", data={"csrf_token": csrf_of(page)})
        assert out.status_code == 303
    with closing(httpx.Client(base_url=first.base_url, timeout=30,
                              cookies=cookies)) as replay:
        ended = replay.get("/citizen")
        assert ended.status_code == 401 and "You signed out of this session" in ended.text


def test_a_delay_earned_on_one_process_holds_on_the_other(two_servers):
    (first, second), _ = two_servers
    citizen = GUESSED
    with closing(httpx.Client(base_url=first.base_url, timeout=30)) as on_first:
        form = csrf_of(on_first.get("/sign-in"))
        codes = [on_first.post("/sign-in/citizen", data={
            "csrf_token": form, "login": citizen.login, "password": f"wrong {i}"}).status_code
            for i in range(ADDRESS_AND_LOGIN.free)]
    assert codes[-1] == 429  # this address is slowed down at this login for 5 seconds
    with closing(httpx.Client(base_url=second.base_url, timeout=30)) as on_second:
        form = csrf_of(on_second.get("/sign-in"))
        right = on_second.post("/sign-in/citizen", data={
            "csrf_token": form, "login": citizen.login, "password": citizen.password})
    assert right.status_code == 429 and "too many failed sign-ins" in right.text
