"""`onceonly apply -f FILE` on SQLite and PostgreSQL, from an initialised, empty exchange:
what a first apply brings about, that a second changes nothing, that a dry run changes
nothing, that nothing unnamed goes without --prune, and bad files refused with exit 2
naming the file, the line and the path, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner, Result

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import Exchange
from onceonly.declarative.document import schema
from onceonly.entrypoints.cli import app

runner = CliRunner()

EXCHANGE = """\
version: 1
organisations:
  - id: LA/EASTSHIRE
    name: Eastshire Council
    systems:
      - {code: housing, title: Housing register}
    people:
      - {name: Hana Guardian, role: guardian}
  - id: GOV/DWP
    name: Department for Work and Pensions
    keys:
      - {jwk_file: dwp.jwk, purposes: [sign]}
    people:
      - {name: Omar Officer, role: officer}
      - {name: Petra Officer, role: officer}
schemes:
  - {code: uprn, name: Unique property reference number, pattern: '^[0-9]{12}$',
     issuer: LA/EASTSHIRE}
datasets:
  - system: LA/EASTSHIRE/housing
    title: Council tenancies
    subject_scheme: uprn
    fields:
      - {name: tenure, type: string, sensitivity: personal, source: verified, label: Tenure}
    connector:
      kind: sql
      url: sqlite:///${HOUSING_STORE}
      table: tenancies
      key: uprn
      columns: {tenure: string}
agreements:
  - dataset: LA/EASTSHIRE/housing
    consumer: GOV/DWP
    drafted_by: Omar Officer
    purpose: housing-benefit
    purpose_text: Checking tenure for housing benefit claims
    legal_basis: public-task
    grants: [{source: tenure}]
    max_queries_per_day: 100
    retention_days: 30
    valid_days: 365
    assessment: {risk: low, summary: Tenure only}
    submit: true
"""

COUNTED = (t.organisations, t.systems, t.identifier_schemes, t.organisation_keys,
           t.principals, t.api_tokens, t.datasets, t.agreements, t.audit_log)


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def counts(exchange: Exchange) -> dict[str, int]:
    with exchange.engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in COUNTED}


@pytest.fixture
def declared(exchange: Exchange, db_url: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    """An initialised exchange, a provider's store, a key file, and the file declaring them."""
    initialised = run("init", "--operator", "GOV/EXCHANGE", "--name", "The exchange",
                      "--db", db_url)
    assert initialised.exit_code == 0, initialised.output
    store = tmp_path / "housing.sqlite"
    engine = create_engine(f"sqlite:///{store}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE tenancies (uprn VARCHAR(12) PRIMARY KEY, tenure TEXT)"))
    engine.dispose()
    monkeypatch.setenv("HOUSING_STORE", str(store))
    (tmp_path / "dwp.jwk").write_text(json.dumps(
        OKPKey.generate_key("Ed25519").as_dict(private=False)))
    file = tmp_path / "exchange.yaml"
    file.write_text(EXCHANGE)
    return file


def test_apply_brings_the_exchange_about_and_a_second_apply_changes_nothing(
        exchange: Exchange, db_url: str, declared: Path) -> None:
    first = run("apply", "-f", str(declared), "--db", db_url)
    assert first.exit_code == 0, first.output
    assert "+ organisation LA/EASTSHIRE (Eastshire Council)" in first.output
    assert "+ dataset LA/EASTSHIRE/housing version 1" in first.output
    assert "10 to add, 0 to change, 0 to remove" in first.output
    assert first.output.count("token, shown once") == 3
    with exchange.engine.connect() as conn:
        agreement = conn.execute(select(t.agreements)).one()
        stored = conn.execute(select(t.datasets.c.connector)).scalar_one()
        actions = [r.action for r in conn.execute(select(t.audit_log.c.action))]
    assert (agreement.consumer_id, agreement.status) == ("GOV/DWP", "submitted")
    assert "${" not in json.dumps(stored)  # the store's path came from the environment
    assert {"member.register", "key.register", "people.add", "dataset.publish",
            "agreement.create", "agreement.submit"} <= set(actions)
    before = counts(exchange)
    second = run("apply", "-f", str(declared), "--db", db_url)
    assert second.exit_code == 0, second.output
    assert "exchange.yaml: nothing to change" in second.output
    assert counts(exchange) == before


def test_a_dry_run_prints_the_plan_and_changes_nothing(
        exchange: Exchange, db_url: str, declared: Path) -> None:
    before = counts(exchange)
    result = run("apply", "-f", str(declared), "--dry-run", "--db", db_url)
    assert result.exit_code == 0, result.output
    assert "+ officer Omar Officer of GOV/DWP" in result.output
    assert "(dry run: nothing done)" in result.output
    assert counts(exchange) == before


def test_what_the_file_no_longer_names_goes_only_with_prune(
        exchange: Exchange, db_url: str, declared: Path) -> None:
    assert run("apply", "-f", str(declared), "--db", db_url).exit_code == 0
    declared.write_text(EXCHANGE.replace("      - {name: Petra Officer, role: officer}\n", ""))
    kept = run("apply", "-f", str(declared), "--db", db_url)
    assert "nothing to change" in kept.output
    pruned = run("apply", "-f", str(declared), "--prune", "--db", db_url)
    assert pruned.exit_code == 0, pruned.output
    assert "- officer Petra Officer of GOV/DWP" in pruned.output
    with exchange.engine.connect() as conn:
        petra = conn.execute(select(t.principals.c.disabled_at)
                             .where(t.principals.c.name == "Petra Officer")).one()
        omar = conn.execute(select(t.principals.c.disabled_at)
                            .where(t.principals.c.name == "Omar Officer")).one()
    assert petra.disabled_at is not None and omar.disabled_at is None


@pytest.mark.parametrize(("change", "said"), [
    (("    title: Council tenancies\n", "    title: Council tenancies\n    colour: blue\n"),
     "line 22: datasets[0].colour: Additional properties are not allowed ('colour' was "
     "unexpected)"),
    (("max_queries_per_day: 100", "max_queries_per_day: lots"),
     "line 39: agreements[0].max_queries_per_day: 'lots' is not of type 'integer'"),
    (("drafted_by: Omar Officer", "drafted_by: Nobody"),
     "line 34: agreements[0].drafted_by: no officer or guardian named Nobody of GOV/DWP"),
    (("subject_scheme: uprn", "subject_scheme: nino"),
     "line 22: datasets[0].subject_scheme: no identifier scheme nino here or in the file"),
    (("${HOUSING_STORE}", "${NO_SUCH_STORE}"),
     "line 27: datasets[0].connector.url: names ${NO_SUCH_STORE}, which is not set"),
    (("id: GOV/DWP", "id: XYZ/DWP"),
     "line 9: organisations[1].id: 'XYZ' is not a member class"),
    (("pattern: '^[0-9]{12}$'", "pattern: '^[0-9'"),
     "line 17: schemes[0].pattern: the format '^[0-9' is not a regular expression"),
])
def test_a_bad_file_is_refused_naming_the_line_and_nothing_changes(
        exchange: Exchange, db_url: str, declared: Path, change: tuple[str, str],
        said: str) -> None:
    declared.write_text(EXCHANGE.replace(*change))
    before = counts(exchange)
    result = run("apply", "-f", str(declared), "--db", db_url)
    assert result.exit_code == 2, result.output
    assert f"{declared} {said}" in " ".join(result.output.split()), result.output
    assert "nothing was changed" in result.output
    assert counts(exchange) == before


def test_the_schema_is_printed_as_shipped() -> None:
    result = run("apply", "--schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == schema()


def test_a_step_a_use_case_refuses_stops_the_apply_and_a_corrected_file_finishes_it(
        exchange: Exchange, db_url: str, declared: Path) -> None:
    declared.write_text(EXCHANGE.replace("table: tenancies", "table: nowhere"))
    stopped = run("apply", "-f", str(declared), "--db", db_url)
    assert stopped.exit_code == 2
    said = " ".join(stopped.output.split())
    assert "refused at '+ dataset LA/EASTSHIRE/housing version 1': connector_unusable" in said
    assert "the 8 steps before it were done" in said
    with exchange.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.datasets)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(t.organisations)).scalar_one() == 3
    declared.write_text(EXCHANGE)
    finished = run("apply", "-f", str(declared), "--db", db_url)
    assert finished.exit_code == 0, finished.output
    assert "2 to add, 0 to change, 0 to remove" in finished.output  # the dataset, the draft


def test_a_member_names_people_by_another_members_scheme(
        exchange: Exchange, db_url: str, declared: Path) -> None:
    uses = EXCHANGE.replace("    name: Department for Work and Pensions\n",
                            "    name: Department for Work and Pensions\n"
                            "    names_people_by: [uprn]\n")
    declared.write_text(uses)
    first = run("apply", "-f", str(declared), "--db", db_url)
    assert first.exit_code == 0, first.output
    assert "+ GOV/DWP names people by uprn" in first.output
    with exchange.engine.connect() as conn:
        rows = set(conn.execute(select(t.organisation_schemes.c.org_id,
                                       t.organisation_schemes.c.scheme)))
    assert rows == {("LA/EASTSHIRE", "uprn"), ("GOV/DWP", "uprn")}
    assert "nothing to change" in run("apply", "-f", str(declared), "--db", db_url).output
    again = run("scheme", "use", "uprn", "--org", "GOV/DWP", "--db", db_url)
    assert again.exit_code == 2 and "names people by uprn already" in again.output
    declared.write_text(uses.replace("names_people_by: [uprn]", "names_people_by: [nino]"))
    dangling = run("apply", "-f", str(declared), "--db", db_url)
    assert dangling.exit_code == 2
    assert f"{declared} line 11: organisations[1].names_people_by[0]: no identifier scheme " \
        "nino here or in the file" in " ".join(dangling.output.split())
