"""The OpenAPI document says exactly what the server takes, read from a real server: what it
allows the server does not refuse for its shape, and what the server refuses it does not
allow (the property over generated requests is test_openapi_conformance.py)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from onceonly.domain.life_events import EVENT_TYPES, Reporter
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem


def document(api: Api) -> dict[str, Any]:
    return api.client.get("/openapi.json").json()


def validator(doc: dict[str, Any], component: str) -> Draft202012Validator:
    """A validator of one component, its references resolved within the document."""
    registry = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))
    return Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{component}"},
                                registry=registry)


def test_an_integer_sent_with_a_zero_fraction_is_that_integer(api: Api) -> None:
    body = {"agreement_id": 1, "subject": {"scheme": "nino", "value": api.world.citizen_ids[
        "nino"]}, "fields": ["income_band"], "purpose": "benefit-entitlement"}
    as_int = api.client.post("/v1/queries", json=body, headers=api.auth("officer:GOV/DWP"))
    as_float = api.client.post("/v1/queries", json={**body, "agreement_id": 1.0},
                               headers=api.auth("officer:GOV/DWP"))
    assert as_int.status_code == as_float.status_code == 200, as_float.text
    assert as_float.json()["agreement_id"] == 1
    for refused in (1.5, "1", True):
        assert_problem(api.client.post("/v1/queries", json={**body, "agreement_id": refused},
                                       headers=api.auth("officer:GOV/DWP")),
                       422, "invalid_request")
    limits = document(api)["components"]["schemas"]["AgreementIn"]["properties"]
    assert limits["max_queries_per_day"]["minimum"] == 1  # the constraints stay documented


def test_a_blank_reason_is_outside_the_document_as_the_server_refuses_it(api: Api) -> None:
    doc = document(api)
    reason = doc["components"]["schemas"]["ReasonIn"]["properties"]["reason"]
    blank = (" ", "\u3000\t\x1f", "\n")
    for text in blank:
        assert not re.search(reason["pattern"], text), repr(text)
        assert not text.strip()
    for text in ("x", " why ", "\ufeff"):
        assert re.search(reason["pattern"], text), repr(text)
    response = api.client.post("/v1/agreements/1/suspend", json={"reason": "\u3000\t"},
                               headers=api.auth("guardian:GOV/HMRC"))
    assert_problem(response, 422, "reason_required")


def test_the_recipient_key_is_described_as_the_server_reads_it(api: Api) -> None:
    doc = document(api)
    check = validator(doc, "BulkExtractIn")
    body = {"agreement_id": 3, "purpose": "x-y", "subjects": [{"scheme": "nino", "value": "A1"}]}
    x = "K1TRoV2aDfMAkGoxpUhvcUh7wyImId_dONbVBnCtTWk"
    for jwk in ({}, {"kty": "OKP", "crv": "X25519"}, {"kty": "OKP", "crv": "P-256", "x": x},
                {"kty": "OKP", "crv": "X25519", "x": x, "d": x}, {"kty": "oct", "k": "c2VjcmV0"},
                {"kty": "EC", "crv": "P-256", "x": x}):
        assert not check.is_valid({**body, "recipient_jwk": jwk}), jwk
    assert check.is_valid({**body, "recipient_jwk": {"kty": "OKP", "crv": "X25519", "x": x}})
    assert check.is_valid({**body, "recipient_jwk": {"kty": "EC", "crv": "P-256", "x": x,
                                                     "y": x, "kid": "k1"}})


def test_each_event_types_data_schema_is_in_the_document(api: Api) -> None:
    doc = document(api)
    components = doc["components"]["schemas"]
    for route, reporter in (("/v1/events", Reporter.REGISTRAR),
                            ("/v1/me/events", Reporter.CITIZEN)):
        body = doc["paths"][route]["post"]["requestBody"]["content"]["application/json"]
        offered = {v["properties"]["type"]["const"]: v["properties"]["data"]["$ref"]
                   for v in body["schema"]["oneOf"]}
        assert offered == {name: f"#/components/schemas/{name}"
                           for name, kind in EVENT_TYPES.items()
                           if kind.reported_by is reporter}
    for name, kind in EVENT_TYPES.items():
        assert components[name]["required"] == list(kind.required)
    check = validator(doc, "gov.onceonly.address.changed")
    assert not check.is_valid({"new_address": "1 A St"})  # the date is required
    assert check.is_valid({"new_address": "1 A St", "effective_date": "2026-01-01"})
