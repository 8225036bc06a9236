"""The callers and agreements a server keeps between queries (services/standing.py), on
SQLite and PostgreSQL: kept while the standing version has not moved, and read again on
the very next query once any process changes what they rest on, through the exchange or
straight through SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from onceonly.adapters.db import tables as t
from onceonly.crypto.tokens import token_digest
from onceonly.demo.seed import TOKEN_DAYS
from onceonly.domain.errors import DomainError
from onceonly.services.queries import QueryCommand, QueryRefused

# Every table a query reads of its caller or its agreement: each moves the version.
WATCHED = ("agreements", "api_tokens", "datasets", "kill_switches", "organisations",
           "principals", "training_records")
OFFICER = "officer:GOV/DWP"


def income_band(world) -> QueryCommand:
    return QueryCommand(1, "nino", world.citizen_ids["nino"], ("income_band",),
                        "benefit-entitlement")


@pytest.fixture
def statements(exchange) -> Iterator[list[str]]:
    """The SQL the exchange's engine runs through SQLAlchemy from now on."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)
    event.listen(exchange.engine, "before_cursor_execute", note)
    yield seen
    event.remove(exchange.engine, "before_cursor_execute", note)


def version(exchange) -> int:
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.standing_version.c.version)).scalar_one()


def reads_of_caller_or_agreement(seen: list[str]) -> list[str]:
    return [s for s in seen if any(f"FROM {table}" in s or f"JOIN {table}" in s
                                   for table in ("api_tokens", "agreements", "datasets"))]


def test_a_query_under_an_unmoved_version_reads_neither_caller_nor_agreement(
        exchange, world, statements):
    token = world.token(OFFICER)
    exchange.queries.query_with_token(token, income_band(world))
    assert reads_of_caller_or_agreement(statements)  # the first query reads them

    statements.clear()
    release = exchange.queries.query_with_token(token, income_band(world))

    assert set(release.data) == {"income_band"}
    assert reads_of_caller_or_agreement(statements) == []


def test_a_change_through_the_exchange_is_read_on_the_next_query(exchange, world,
                                                                statements):
    token = world.token(OFFICER)
    exchange.queries.query_with_token(token, income_band(world))
    guardian = next(a.principal for a in world.accounts if a.label == "guardian:GOV/HMRC")

    exchange.agreements.transition(guardian, 1, "revoke", "breach reported")

    with pytest.raises(QueryRefused) as refused:
        exchange.queries.query_with_token(token, income_band(world))
    assert refused.value.code == "agreement_not_active"


def _raw_sql(db_url: str, sql: str, **params: object) -> None:
    """`sql` run by another process, with its own connection: no code of the exchange's."""
    script = ("import sys, json, sqlalchemy\n"
              "engine = sqlalchemy.create_engine(sys.argv[1])\n"
              "with engine.begin() as conn:\n"
              "    conn.execute(sqlalchemy.text(sys.argv[2]), json.loads(sys.argv[3]))\n")
    subprocess.run([sys.executable, "-c", script, db_url, sql, json.dumps(params)],
                   check=True, timeout=60)


AN_HOUR_AGO = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(("sql", "code"), [
    ("UPDATE api_tokens SET revoked_at = :at WHERE digest = :digest", "token_revoked"),
    ("UPDATE principals SET disabled_at = :at WHERE id = (SELECT principal_id FROM "
     "api_tokens WHERE digest = :digest)", "principal_disabled"),
    ("UPDATE organisations SET status = 'suspended' WHERE id = 'GOV/DWP'", "member_suspended"),
    ("UPDATE agreements SET status = 'suspended' WHERE id = 1", "agreement_not_active"),
    ("UPDATE agreements SET requires_training = true WHERE id = 1", "training_lapsed"),
    ("UPDATE agreements SET purpose_code = 'fraud-detection' WHERE id = 1",
     "purpose_mismatch"),
], ids=["token revoked", "person disabled", "member suspended", "agreement suspended",
        "training now required", "agreement changed"])
def test_a_change_made_by_another_process_through_sql_is_seen_on_the_next_query(
        exchange, world, db_url, sql, code):
    token = world.token(OFFICER)
    exchange.queries.query_with_token(token, income_band(world))
    before = version(exchange)

    _raw_sql(db_url, sql, at=AN_HOUR_AGO, digest=token_digest(token))

    assert version(exchange) > before
    with pytest.raises(DomainError) as refused:  # a query's refusal, or the token's
        exchange.queries.query_with_token(token, income_band(world))
    assert refused.value.code == code


def test_training_recorded_by_another_process_lets_the_next_query_through(exchange, world,
                                                                          db_url):
    token = world.token(OFFICER)
    _raw_sql(db_url, "UPDATE agreements SET requires_training = true WHERE id = 1")
    with pytest.raises(QueryRefused):
        exchange.queries.query_with_token(token, income_band(world))

    _raw_sql(db_url, "INSERT INTO training_records (principal_id, completed_on, valid_until, "
             "recorded_by, recorded_at) SELECT principal_id, :on, :until, 'admin', :at "
             "FROM api_tokens WHERE digest = :digest", on="2020-01-01", until="2999-01-01",
             at=AN_HOUR_AGO, digest=token_digest(token))

    assert exchange.queries.query_with_token(token, income_band(world)).data


def test_a_tokens_end_is_checked_on_every_query_however_it_was_kept(exchange, world, clock):
    token = world.token(OFFICER)
    exchange.queries.query_with_token(token, income_band(world))

    clock.advance(timedelta(days=TOKEN_DAYS))  # its end; nothing in the database moved

    with pytest.raises(DomainError) as refused:
        exchange.queries.query_with_token(token, income_band(world))
    assert refused.value.code == "token_expired"


def test_every_table_read_of_a_caller_or_an_agreement_moves_the_version(exchange, world):
    with exchange.engine.connect() as conn:
        if exchange.engine.dialect.name == "sqlite":
            found = conn.execute(text("SELECT DISTINCT tbl_name FROM sqlite_master WHERE "
                                      "type = 'trigger' AND name LIKE 'standing_%'"))
        else:
            found = conn.execute(text(
                "SELECT DISTINCT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = "
                "g.tgrelid WHERE c.relnamespace = current_schema()::regnamespace "
                "AND g.tgname LIKE 'standing_%'"))
        assert sorted(found.scalars()) == sorted(WATCHED)
    for table in ("agreements", "api_tokens", "datasets", "organisations", "principals"):
        before = version(exchange)
        with exchange.engine.begin() as conn:  # an update that changes nothing still counts
            column = "id" if table != "api_tokens" else "digest"
            conn.execute(text(f"UPDATE {table} SET {column} = {column}"))
        assert version(exchange) > before, table
