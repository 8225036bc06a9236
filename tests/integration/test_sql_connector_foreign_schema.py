"""The SQL connector over a store the provider already has: a PostgreSQL schema onceonly
did not create, its own table and column names, a key of any name and type, a fixed filter,
reached as the provider's read-only role whose URL is read from the environment or a file;
a governed query through it with the exchange itself on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import select, text, update
from sqlalchemy.exc import ProgrammingError

from onceonly.adapters.connectors.sql import SqlConnectors
from onceonly.adapters.db import tables as t
from onceonly.services.ports.connectors import ConnectorUnusable
from onceonly.services.queries import QueryCommand

pytestmark = pytest.mark.postgres


@dataclass
class ForeignStore:
    schema: str
    reader_url: str  # the provider's read-only role


@pytest.fixture
def foreign(postgres_server: str) -> Iterator[ForeignStore]:
    """A provider's HR schema, laid out its own way, and a role that may only read one
    table of it."""
    suffix = uuid.uuid4().hex[:10]
    schema, role = f"hr_{suffix}", f"hr_reader_{suffix}"
    admin = sqlalchemy.create_engine(postgres_server)
    with admin.begin() as conn:
        for statement in (
            f'CREATE SCHEMA "{schema}"',
            f'CREATE TABLE "{schema}".staff_register (ni_number text NOT NULL, '
            "display_name text, gross_pay integer, dob date, record_status text)",
            f'CREATE TABLE "{schema}".payroll (staff_no integer PRIMARY KEY, '
            "display_name text, gross_pay integer)",
            f'CREATE TABLE "{schema}".grievances (ni_number text, note text)',
            f"INSERT INTO \"{schema}\".staff_register VALUES "
            "('QQ123456C', 'Ada Okafor', 30000, '1980-04-01', 'superseded'), "
            "('QQ123456C', 'Ada Okafor-Reed', 41000, '1980-04-01', 'current'), "
            "('QQ654321A', 'Ben Price', 28000, '1975-09-30', 'superseded')",
            f"INSERT INTO \"{schema}\".payroll VALUES (1042, 'Ada Okafor-Reed', 41000)",
            f'CREATE ROLE "{role}" LOGIN',
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT SELECT ON "{schema}".staff_register, "{schema}".payroll TO "{role}"',
        ):
            conn.execute(text(statement))
    reader = sqlalchemy.make_url(postgres_server).set(username=role, password=None)
    try:
        yield ForeignStore(schema, reader.render_as_string(hide_password=False))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


def hr_config(store: ForeignStore, **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "kind": "sql", "url_env": "HR_STORE_URL", "schema": store.schema,
        "table": "staff_register", "key": "ni_number",
        "columns": {"full_name": "string", "annual_income": "integer",
                    "date_of_birth": "date"},
        "map": {"full_name": "display_name", "annual_income": "gross_pay",
                "date_of_birth": "dob"},
        "filter": {"record_status": "current"},
    }
    config.update(changes)
    return config


@pytest.fixture
def connectors(foreign: ForeignStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlConnectors]:
    monkeypatch.setenv("HR_STORE_URL", foreign.reader_url)
    found = SqlConnectors()
    yield found
    found.dispose()


def test_mapped_columns_are_read_through_the_fixed_filter(foreign: ForeignStore,
                                                          connectors: SqlConnectors) -> None:
    store = connectors.for_dataset("HR/staff", hr_config(foreign))
    assert store.fetch("QQ123456C", ["full_name", "annual_income", "date_of_birth"]) == {
        "full_name": "Ada Okafor-Reed", "annual_income": 41000, "date_of_birth": "1980-04-01"}
    assert store.fetch("QQ123456C", ["annual_income"]) == {"annual_income": 41000}
    # Only superseded records: none current, so none to release.
    assert store.fetch("QQ654321A", ["full_name"]) is None
    assert store.fetch("QQ000000Z", ["full_name"]) is None
    with pytest.raises(KeyError):
        store.fetch("QQ123456C", ["tax_code"])


def test_an_integer_key_of_another_name(foreign: ForeignStore,
                                        connectors: SqlConnectors) -> None:
    store = connectors.for_dataset("HR/payroll", hr_config(
        foreign, table="payroll", key="staff_no", key_type="integer", filter=None,
        columns={"full_name": "string", "annual_income": "integer"}))
    assert store.fetch("1042", ["full_name"]) == {"full_name": "Ada Okafor-Reed"}
    assert store.fetch("1043", ["full_name"]) is None
    assert store.fetch("not-a-number", ["full_name"]) is None


def test_the_role_can_read_and_nothing_more(foreign: ForeignStore,
                                            connectors: SqlConnectors) -> None:
    store = connectors.for_dataset("HR/staff", hr_config(foreign))
    store.check(["full_name", "annual_income"])
    with pytest.raises(ProgrammingError, match="permission denied"):
        store.write("QQ123456C", "annual_income", 1)
    assert store.fetch("QQ123456C", ["annual_income"]) == {"annual_income": 41000}


@pytest.mark.parametrize(("changes", "words"), [
    ({"map": {"full_name": "preferred_name"}}, "preferred_name"),
    ({"table": "grievances", "key": "ni_number", "map": {"full_name": "note"},
      "columns": {"full_name": "string"}, "filter": None}, "permission denied"),
    ({"filter": {"retired": False}}, "retired"),
])
def test_publication_is_refused_a_store_it_cannot_read(foreign: ForeignStore,
                                                       connectors: SqlConnectors,
                                                       changes: dict[str, Any],
                                                       words: str) -> None:
    store = connectors.for_dataset("HR/staff", hr_config(foreign, **changes))
    with pytest.raises(ConnectorUnusable, match=words):
        store.check(["full_name"])


def test_a_field_the_connector_does_not_map_is_unusable(foreign: ForeignStore,
                                                        connectors: SqlConnectors) -> None:
    store = connectors.for_dataset("HR/staff", hr_config(foreign))
    with pytest.raises(ConnectorUnusable, match="tax_code"):
        store.check(["full_name", "tax_code"])


def test_the_url_can_come_from_a_file_and_a_missing_one_is_named(
        foreign: ForeignStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "hr-store-url"
    secret.write_text(foreign.reader_url + "\n")
    connectors = SqlConnectors()
    try:
        config = hr_config(foreign, url_file=str(secret))
        del config["url_env"]
        store = connectors.for_dataset("HR/staff", config)
        assert store.fetch("QQ123456C", ["full_name"]) == {"full_name": "Ada Okafor-Reed"}
        monkeypatch.delenv("HR_STORE_URL", raising=False)
        with pytest.raises(ConnectorUnusable, match="HR_STORE_URL"):
            connectors.for_dataset("HR/other", hr_config(foreign))
    finally:
        connectors.dispose()


@pytest.mark.parametrize("exchange_db", ["sqlite", "postgres"])
def test_a_governed_query_reads_the_foreign_store(exchange_db: str, foreign: ForeignStore,
                                                  postgres_server: str, tmp_path: Path,
                                                  request: pytest.FixtureRequest,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """HMRC's income dataset re-pointed at the HR schema, the citizen's record written there
    by the provider (not by onceonly): the query releases the band of the current pay,
    whichever database the exchange itself runs on."""
    from onceonly.adapters.clock import MovableClock
    from onceonly.adapters.db.migrate import upgrade
    from onceonly.bootstrap import bootstrap
    from onceonly.demo.seed import build_world

    monkeypatch.setenv("HR_STORE_URL", foreign.reader_url)
    url = (f"sqlite:///{tmp_path / 'exchange.sqlite'}" if exchange_db == "sqlite"
           else request.getfixturevalue("postgres_url"))
    exchange = bootstrap(url, clock=MovableClock())
    try:
        upgrade(exchange.engine)
        world = build_world(exchange, url, people=20)
        nino = world.citizen_ids["nino"]
        admin = sqlalchemy.create_engine(postgres_server)
        with admin.begin() as conn:
            conn.execute(text(f'INSERT INTO "{foreign.schema}".staff_register VALUES '
                              "(:nino, 'A Citizen', 60000, :dob, 'current')"),
                         {"nino": nino, "dob": date(1980, 1, 1)})
        admin.dispose()
        with exchange.engine.begin() as conn:
            conn.execute(update(t.datasets).where(t.datasets.c.id == "GOV/HMRC/income")
                         .values(connector=hr_config(foreign)))
            stored = conn.execute(select(t.datasets.c.connector)
                                  .where(t.datasets.c.id == "GOV/HMRC/income")).scalar_one()
        assert "hr_reader" not in json.dumps(stored)  # the credentials are not stored
        officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
        release = exchange.queries.query(officer, QueryCommand(
            1, "nino", nino, ("income_band",), "benefit-entitlement"))
        assert release.data == {"income_band": "50271-125140"}
    finally:
        exchange.close()
