"""The exchange's operator is stored when it is initialised, on SQLite and PostgreSQL: the
operator's administrators stay its administrators whatever ONCEONLY_OPERATOR_ORG says
later, and an admin token is for the stored operator alone."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import Exchange
from onceonly.entrypoints.cli import app

runner = CliRunner()


def test_the_operator_is_the_one_initialised(exchange: Exchange, db_url: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    done = runner.invoke(app, ["init", "--operator", "GOV/EXCHANGE", "--name", "Operator",
                               "--db", db_url])
    assert done.exit_code == 0, done.output
    with exchange.engine.connect() as conn:
        marked = conn.execute(select(t.organisations.c.id)
                              .where(t.organisations.c.operator)).scalars().all()
    assert marked == ["GOV/EXCHANGE"] and exchange.members.operator() == "GOV/EXCHANGE"

    monkeypatch.setenv("ONCEONLY_OPERATOR_ORG", "GOV/ELSEWHERE")  # a setting changed later
    added = runner.invoke(app, ["org", "add", "LA/EASTSHIRE", "--name", "Eastshire",
                                "--db", db_url])
    assert added.exit_code == 0, added.output
    admin = runner.invoke(app, ["token", "issue", "--org", "GOV/EXCHANGE", "--role", "admin",
                                "--db", db_url])
    assert admin.exit_code == 0, admin.output
    refused = runner.invoke(app, ["token", "issue", "--org", "LA/EASTSHIRE", "--role",
                                  "admin", "--db", db_url])
    assert refused.exit_code == 2
    assert "acts for its operator (GOV/EXCHANGE), not LA/EASTSHIRE" in \
        " ".join(refused.output.split())
