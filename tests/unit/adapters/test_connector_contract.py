"""The HTTP connector against a provider's OpenAPI document: each way they can disagree is
refused with `connector_contract_mismatch`, naming where."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from onceonly.adapters.connectors.contract import check_contract
from onceonly.services.ports.connectors import ContractMismatch

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "servers": [{"url": "https://api.hmrc.example/v2"}],
    "paths": {"/people/{nino}": {"get": {
        "parameters": [{"$ref": "#/components/parameters/fields"},
                       {"name": "nino", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"200": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Person"}}}},
            "404": {"description": "no such person"}}}}},
    "components": {
        "parameters": {"fields": {"name": "fields", "in": "query",
                                  "schema": {"type": "string"}}},
        "schemas": {
            "Person": {"type": "object", "properties": {
                "name": {"type": "object", "properties": {"full": {"type": "string"}}},
                "income": {"$ref": "#/components/schemas/Income"},
                "born": {"type": "string", "format": "date"},
                "benefits": {"type": "array", "items": {"type": "string"}},
                "childBenefit": {"type": ["boolean", "null"]}}},
            "Income": {"type": "object", "properties": {"annual": {"type": "integer"}}}}},
}

CONFIG: dict[str, Any] = {
    "kind": "http", "url": "https://api.hmrc.example/v2/people/{id}", "method": "GET",
    "fields_param": "fields",
    "fields": {
        "full_name": {"type": "string", "jmespath": "name.full"},
        "annual_income": {"type": "integer", "pointer": "/income/annual"},
        "date_of_birth": {"type": "date", "pointer": "/born"},
        "benefits": {"type": "list", "pointer": "/benefits"},
        "child_benefit_claimant": {"type": "boolean", "pointer": "/childBenefit"},
    },
}

TYPES = {"full_name": "string", "annual_income": "integer", "date_of_birth": "date",
         "benefits": "list", "child_benefit_claimant": "boolean"}


def mismatch(config: dict[str, Any], document: dict[str, Any] = DOCUMENT,
             types: dict[str, str] = TYPES) -> ContractMismatch:
    with pytest.raises(ContractMismatch) as refused:
        check_contract(config, document, types)
    assert refused.value.code == "connector_contract_mismatch"
    return refused.value


def changed(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    config.update(changes)
    return config


def with_field(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    config["fields"][name] = spec
    return config


def test_a_connector_that_matches_its_document_passes() -> None:
    check_contract(CONFIG, DOCUMENT, TYPES)
    # An array element by its index, and no servers (paths from the root).
    bare = {k: v for k, v in copy.deepcopy(DOCUMENT).items() if k != "servers"}
    bare["paths"] = {"/v2/people/{id}": DOCUMENT["paths"]["/people/{nino}"]}
    check_contract(with_field("benefits", {"type": "string", "pointer": "/benefits/0"}), bare,
                   {**TYPES, "benefits": "string"})


@pytest.mark.parametrize(("config", "where", "words"), [
    (changed(url="https://api.hmrc.example/v2/persons/{id}"), "url", "no operation"),
    (changed(url="https://api.hmrc.example/people/{id}"), "url", "no operation"),
    (changed(method="POST"), "url", "takes no POST"),
    (changed(fields_param="only"), "fields_param", "'only'"),
    (with_field("full_name", {"type": "string", "pointer": "/name/given"}), "full_name",
     "no such property"),
    (with_field("annual_income", {"type": "string", "pointer": "/income/annual"}),
     "annual_income", "reads it as string"),
    (with_field("full_name", {"type": "string", "jmespath": "name | full"}), "full_name",
     "dotted"),
    (with_field("benefits", {"type": "list", "pointer": "/benefits/0"}), "benefits",
     "'string'"),
])
def test_each_disagreement_is_named(config: dict[str, Any], where: str, words: str) -> None:
    refused = mismatch(config)
    assert refused.field == where
    assert words in refused.detail
    assert refused.detail.startswith(f"{where}: ")


def test_the_document_must_give_each_type() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["components"]["schemas"]["Income"]["properties"]["annual"] = {"type": "number"}
    assert mismatch(CONFIG, document).field == "annual_income"
    document = copy.deepcopy(DOCUMENT)
    del document["components"]["schemas"]["Person"]["properties"]["born"]["format"]
    assert mismatch(CONFIG, document).field == "date_of_birth"  # a date says so


def test_the_dataset_types_and_fields_rule() -> None:
    assert mismatch(CONFIG, types={**TYPES, "annual_income": "string"}).field == \
        "annual_income"
    assert mismatch(CONFIG, types={**TYPES, "tax_code": "string"}).field == "tax_code"


def test_an_answer_without_a_json_schema_or_with_an_outside_reference() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["paths"]["/people/{nino}"]["get"]["responses"]["200"] = {"description": "ok"}
    assert mismatch(CONFIG, document).field == "url"
    document = copy.deepcopy(DOCUMENT)
    document["paths"]["/people/{nino}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"] = {"$ref": "https://elsewhere.example/person.json"}
    assert "outside" in mismatch(CONFIG, document).detail
