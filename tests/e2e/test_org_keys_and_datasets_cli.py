"""`onceonly key add|retire|list` and `onceonly dataset publish|list` as an operator runs
them, on SQLite and PostgreSQL: what they change and audit, and bad input refused with exit
2 and a message naming the file, the line and the path in it, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from typer.testing import CliRunner, Result

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import Exchange
from onceonly.crypto.signing import SigningKey
from onceonly.demo.seed import World
from onceonly.entrypoints.cli import app

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def count(exchange: Exchange, table) -> int:
    with exchange.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def audit_actions(exchange: Exchange) -> list[tuple[str, str, str | None]]:
    with exchange.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(t.audit_log.c.action, t.audit_log.c.outcome, t.audit_log.c.reason)
            .order_by(t.audit_log.c.seq))]


def test_key_add_list_and_retire(world: World, exchange: Exchange, db_url: str,
                                 tmp_path: Path) -> None:
    key = SigningKey.generate("GOV/DVLA")
    jwk = tmp_path / "dvla.jwk"
    jwk.write_text(json.dumps({k: v for k, v in key.public_jwk().items()
                               if k in ("kty", "crv", "x")}))
    added = run("key", "add", "--org", "GOV/DVLA", "--jwk", str(jwk), "--purpose", "sign",
                "--db", db_url)
    assert added.exit_code == 0, added.output
    assert f"registered {key.kid} for GOV/DVLA (sign)" in added.output
    assert audit_actions(exchange)[-1] == ("key.register", "done", None)
    listed = run("key", "list", "--org", "GOV/DVLA", "--db", db_url)
    assert listed.exit_code == 0, listed.output
    assert f"{key.kid}\tregistered\tsign\tin use" in listed.output.splitlines()
    assert any(line.endswith("\thosted\tsign\tactive") for line in listed.output.splitlines())
    retired = run("key", "retire", "--org", "GOV/DVLA", "--kid", key.kid,
                  "--overlap-hours", "2", "--db", db_url)
    assert retired.exit_code == 0, retired.output
    assert f"retired {key.kid} of GOV/DVLA; it verifies until" in retired.output
    assert audit_actions(exchange)[-1] == ("key.retire", "done", None)
    again = run("key", "retire", "--org", "GOV/DVLA", "--kid", key.kid, "--db", db_url)
    assert again.exit_code == 2 and "retired already" in again.output
    assert audit_actions(exchange)[-1] == ("key.retire", "deny", "key_retired")


def test_key_add_refuses_a_private_key_and_keeps_it_nowhere(
        world: World, exchange: Exchange, db_url: str, tmp_path: Path) -> None:
    private = SigningKey.generate("GOV/DVLA").private_jwk()
    jwk = tmp_path / "private.jwk"
    jwk.write_text(json.dumps(private))
    result = run("key", "add", "--org", "GOV/DVLA", "--jwk", str(jwk), "--purpose", "sign",
                 "--db", db_url)
    assert result.exit_code == 2 and "private key" in result.output
    assert private["d"] not in result.output
    assert count(exchange, t.organisation_keys) == 0
    assert audit_actions(exchange)[-1] == ("key.register", "deny", "private_key_refused")
    with exchange.engine.connect() as conn:
        assert private["d"] not in repr(conn.execute(select(t.audit_log)).fetchall())


def test_key_add_refuses_a_file_that_is_not_json(world: World, exchange: Exchange,
                                                 db_url: str, tmp_path: Path) -> None:
    jwk = tmp_path / "broken.jwk"
    jwk.write_text('{\n  "kty": "OKP",\n  crv\n}')
    result = run("key", "add", "--org", "GOV/DVLA", "--jwk", str(jwk), "--purpose", "sign",
                 "--db", db_url)
    assert result.exit_code == 2
    assert f"{jwk} is not JSON (line 3)" in result.output.replace("\n", "")
    assert count(exchange, t.organisation_keys) == 0


PUBLICATION = """\
system: GOV/DVLA/vehicles
title: Vehicles kept
subject_scheme: driver
fields:
  - name: vehicle_count
    type: {kind}
    sensitivity: personal
    source: verified
    label: Vehicles kept
offers: [is_present]
connector:
  kind: sql
  url: {url}
  table: vehicles
  key: driver
  columns: {{vehicle_count: integer}}
"""


def vehicles_store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'vehicles.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE vehicles (driver VARCHAR(64) PRIMARY KEY, "
                          "vehicle_count INTEGER)"))
    engine.dispose()
    return url


def test_dataset_publish_and_list(world: World, exchange: Exchange, db_url: str,
                                  tmp_path: Path) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.systems).values(id="GOV/DVLA/vehicles", org_id="GOV/DVLA",
                                              title="Vehicles"))
    file = tmp_path / "vehicles.yaml"
    file.write_text(PUBLICATION.format(kind="integer", url=vehicles_store(tmp_path)))
    published = run("dataset", "publish", str(file), "--db", db_url)
    assert published.exit_code == 0, published.output
    assert "published GOV/DVLA/vehicles version 1 (1 fields)" in published.output
    assert audit_actions(exchange)[-1] == ("dataset.publish", "done", None)
    again = run("dataset", "publish", str(file), "--db", db_url)
    assert "version 2" in again.output
    listed = run("dataset", "list", "--db", db_url)
    assert listed.exit_code == 0, listed.output
    lines = {line.split("\t")[0]: line for line in listed.output.splitlines()}
    assert lines["GOV/DVLA/vehicles"].startswith("GOV/DVLA/vehicles\tGOV/DVLA\tversion 2\t"
                                                 "vehicle_count\tversions 1@")
    assert "GOV/HMRC/income" in lines


def test_dataset_publish_names_the_line_and_path_of_what_is_wrong(
        world: World, exchange: Exchange, db_url: str, tmp_path: Path) -> None:
    datasets, audited = count(exchange, t.datasets), count(exchange, t.audit_log)
    file = tmp_path / "vehicles.yaml"
    file.write_text(PUBLICATION.format(kind="blob", url=vehicles_store(tmp_path)))
    result = run("dataset", "publish", str(file), "--db", db_url)
    assert result.exit_code == 2
    assert f"{file} line 6: fields.0.type: Input should be" in result.output.replace("\n", "")
    file.write_text(PUBLICATION.format(kind="integer", url="x") + "colour: blue\n")
    result = run("dataset", "publish", str(file), "--db", db_url)
    assert result.exit_code == 2
    assert f"{file} line 17: colour: Extra inputs are not permitted" in \
        result.output.replace("\n", "")
    file.write_text("system: [unclosed\n")
    result = run("dataset", "publish", str(file), "--db", db_url)
    assert result.exit_code == 2 and f"{file} line 2: not YAML or JSON" in \
        result.output.replace("\n", "")
    assert (count(exchange, t.datasets), count(exchange, t.audit_log)) == (datasets, audited)


def test_dataset_publish_refuses_a_connector_that_cannot_serve_it(
        world: World, exchange: Exchange, db_url: str, tmp_path: Path) -> None:
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.systems).values(id="GOV/DVLA/vehicles", org_id="GOV/DVLA",
                                              title="Vehicles"))
    file = tmp_path / "vehicles.yaml"
    file.write_text(PUBLICATION.format(kind="integer",
                                       url=f"sqlite:///{tmp_path / 'nowhere.sqlite'}"))
    result = run("dataset", "publish", str(file), "--db", db_url)
    assert result.exit_code == 2
    assert "connector_unusable" in result.output and "there is no database" in result.output
    with exchange.engine.connect() as conn:
        assert conn.execute(select(t.datasets).where(
            t.datasets.c.id == "GOV/DVLA/vehicles")).first() is None
    assert audit_actions(exchange)[-1] == ("dataset.publish", "deny", "connector_unusable")
    assert not (tmp_path / "nowhere.sqlite").exists()  # a store is never made
