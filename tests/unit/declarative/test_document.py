"""The declaration's file format: its schema agrees with the domain's own lists and
patterns, and problems are placed at the line and path they are at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onceonly.declarative.document import DeclarationError, load, schema
from onceonly.domain.agreements import LegalBasis, Risk
from onceonly.domain.catalogue import FIELD_NAME, FieldType, Sensitivity, SourceLabel
from onceonly.domain.org_keys import KeyPurpose
from onceonly.domain.organisations import ORG_ID_PATTERN, STAFF_ROLES, Role
from onceonly.domain.special_category import ProcessingCondition

DEFS = schema()["$defs"]


def test_the_schema_lists_what_the_domain_knows() -> None:
    field = DEFS["field"]["properties"]
    assert field["type"]["enum"] == [t.value for t in FieldType]
    assert field["sensitivity"]["enum"] == [s.value for s in Sensitivity]
    assert field["source"]["enum"] == [s.value for s in SourceLabel]
    assert field["name"]["pattern"] == FIELD_NAME.pattern
    agreement = DEFS["agreement"]["properties"]
    assert agreement["legal_basis"]["enum"] == [b.value for b in LegalBasis]
    assert agreement["assessment"]["properties"]["risk"]["enum"] == [r.value for r in Risk]
    assert agreement["special_category_condition"]["enum"] == [
        c.value for c in ProcessingCondition]
    assert DEFS["key"]["properties"]["purposes"]["items"]["enum"] == [p.value for p in KeyPurpose]
    roles = set(DEFS["person"]["properties"]["role"]["enum"])
    assert roles == {r.value for r in STAFF_ROLES | {Role.ORG_ADMIN}}
    assert DEFS["org_id"]["pattern"] == ORG_ID_PATTERN


def problems_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    file = tmp_path / "x.yaml"
    file.write_text(text)
    with pytest.raises(DeclarationError) as refused:
        load(file, environ or {})
    return [re.sub(r"^.*x\.yaml ", "", p) for p in refused.value.problems]


def test_each_problem_names_its_line_and_path(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "version: 1\norganisations:\n  - id: GOV/X\n"
                       "    name: X\n    colour: red\n") == [
        "line 5: organisations[0].colour: Additional properties are not allowed "
        "('colour' was unexpected)"]
    assert problems_of(tmp_path, "version: 2\n") == ["line 1: version: 1 was expected"]
    assert problems_of(tmp_path, "- a list\n") == [
        "line 1: expected a mapping with version: 1 and the exchange's organisations, "
        "schemes, datasets and agreements"]
    assert problems_of(tmp_path, "version: [1\n")[0].startswith("line 2: not YAML or JSON")


def test_a_connector_takes_its_secrets_from_the_environment(tmp_path: Path) -> None:
    text = ("version: 1\ndatasets:\n  - system: GOV/X/y\n    title: T\n    subject_scheme: ab\n"
            "    fields: [{name: a, type: string, sensitivity: public, source: verified, "
            "label: A}]\n    connector: {kind: sql, url: '${STORE_URL}', cost: '$$5'}\n")
    file = tmp_path / "x.yaml"
    file.write_text(text)
    loaded = load(file, {"STORE_URL": "sqlite:///s"})
    assert loaded.data["datasets"][0]["connector"] == {"kind": "sql", "url": "sqlite:///s",
                                                       "cost": "$5"}
    assert problems_of(tmp_path, text) == [
        "line 7: datasets[0].connector.url: names ${STORE_URL}, which is not set in the "
        "environment"]


def test_a_date_stays_the_text_it_is_written_as(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "version: 1\nschemes:\n  - {code: ab, name: 2026-01-01, "
                           "pattern: x, issuer: GOV/X, when: 1}\n")
    assert problems == ["line 3: schemes[0].when: Additional properties are not allowed "
                        "('when' was unexpected)"]


def test_a_key_written_twice_is_refused_at_its_line(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "version: 1\nschemes: []\nschemes: []\n") == [
        "line 3: not YAML or JSON: 'schemes' is written twice in one mapping"]
