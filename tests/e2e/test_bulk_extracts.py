"""Bulk extracts by exception, over HTTP: only under an agreement that allows them, each
approved by the provider's guardian, only the agreed fields, only ever stored and handed
over as a JWE to the consumer's public key, downloaded once before an expiry."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import inspect, select, text

from onceonly.adapters.db import tables as t
from onceonly.crypto.jwe import DecryptionFailed, decrypt_with
from onceonly.domain.identity import PAIRWISE
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

ACME = "officer:COM/ACME"
DWP_GUARDIAN = "guardian:GOV/DWP"


@pytest.fixture(scope="module")
def acme_key() -> OKPKey:
    return OKPKey.generate_key("X25519")


def cohort(api: Api, n: int) -> list[str]:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.person_links.c.value).where(t.person_links.c.scheme == "nino")
                            .order_by(t.person_links.c.value).limit(n)).scalars().all()


def ask(api: Api, key: OKPKey, ninos: list[str], **changes: Any):
    body = {"agreement_id": 3, "purpose": "disability-assessment",
            "subjects": [{"scheme": "nino", "value": n} for n in ninos],
            "recipient_jwk": key.as_dict(private=False)} | changes
    return api.client.post("/v1/bulk-extracts", json=body, headers=api.auth(ACME))


def decide(api: Api, extract_id: int, action: str, label: str = DWP_GUARDIAN):
    return api.client.post(f"/v1/bulk-extracts/{extract_id}/{action}",
                           json={"reason": "referrals checked"}, headers=api.auth(label))


def download(api: Api, extract_id: int, label: str = ACME):
    return api.client.get(f"/v1/bulk-extracts/{extract_id}/download", headers=api.auth(label))


def every_stored_text(api: Api) -> str:
    """Everything the exchange database holds, as text: what a bulk extract left behind."""
    dump = []
    with api.exchange.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump.append(json.dumps([str(v) for v in row]))
    return "\n".join(dump)


def test_an_approved_extract_is_downloaded_once_encrypted_with_only_the_agreed_fields(
        api: Api, acme_key: OKPKey) -> None:
    people = cohort(api, 5)
    requested = ask(api, acme_key, people)
    assert requested.status_code == 201, requested.text
    extract = requested.json()
    assert (extract["status"], extract["cohort_size"]) == ("requested", 5)
    assert_problem(download(api, extract["id"]), 409, "not_approved")

    approved = decide(api, extract["id"], "approve")

    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["records"]) == ("approved", 5)
    first = download(api, extract["id"])
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/jose")
    plaintext = decrypt_with(acme_key.as_dict(private=True), first.text)
    content = json.loads(plaintext)
    assert [r["asked_as"] for r in content["records"]] == [
        {"scheme": "nino", "value": n} for n in people]
    # ACME names nobody by an identifier of its own: it gets its pairwise pseudonyms.
    assert {r["subject"]["scheme"] for r in content["records"]} == {PAIRWISE}
    assert not set(people) & {r["subject"]["value"] for r in content["records"]}
    agreed = {"full_name", "address", "benefits_in_payment"}
    assert all(set(r["data"]) == agreed for r in content["records"])
    # Nothing readable stayed behind: no released value anywhere in the exchange database.
    stored = every_stored_text(api)
    names = [r["data"]["full_name"] for r in content["records"]]
    assert not any(name in stored for name in names)
    assert first.text not in stored  # the ciphertext itself is gone once handed over
    # The audit log has the count and the hash, never the values.
    with api.exchange.engine.connect() as conn:
        approval = conn.execute(select(t.audit_log).where(
            t.audit_log.c.action == "bulk.approve").order_by(t.audit_log.c.seq.desc())).first()
    assert approval.values_hash == hashlib.sha256(plaintext).hexdigest()
    assert approval.detail["records"] == 5

    second = download(api, extract["id"])

    assert_problem(second, 410, "already_downloaded")


def test_an_extract_names_people_by_the_pseudonyms_a_query_gives(
        api: Api, acme_key: OKPKey) -> None:
    person = cohort(api, 7)[6]
    extract = ask(api, acme_key, [person]).json()
    decide(api, extract["id"], "approve")
    record, = json.loads(decrypt_with(acme_key.as_dict(private=True),
                                      download(api, extract["id"]).text))["records"]
    by_pseudonym = api.client.post("/v1/queries", headers=api.auth(ACME), json={
        "agreement_id": 3, "subject": record["subject"], "fields": ["full_name"],
        "purpose": "disability-assessment"})
    assert by_pseudonym.status_code == 200, by_pseudonym.text
    assert by_pseudonym.json()["subject"] == record["subject"]
    assert by_pseudonym.json()["data"]["full_name"] == record["data"]["full_name"]


@pytest.mark.parametrize(("subject", "status", "code"), [
    ({"scheme": "ctr", "value": "CTR-000001"}, 403, "scheme_not_yours"),  # the council's
    ({"scheme": "northbank", "value": "NB00000001"}, 403, "scheme_not_yours"),
    ({"scheme": "shoe_size", "value": "9"}, 422, "unknown_scheme"),
])
def test_a_cohort_naming_people_by_identifiers_not_the_consumers_is_refused(
        api: Api, acme_key: OKPKey, subject: dict[str, str], status: int, code: str) -> None:
    with api.exchange.engine.connect() as conn:
        extracts = conn.execute(select(t.bulk_extracts.c.id)).all()
    refused = api.client.post("/v1/bulk-extracts", headers=api.auth(ACME), json={
        "agreement_id": 3, "purpose": "disability-assessment",
        "subjects": [{"scheme": "nino", "value": cohort(api, 1)[0]}, subject],
        "recipient_jwk": acme_key.as_dict(private=False)})
    assert_problem(refused, status, code)
    assert refused.json()["detail"].startswith("subjects[1]: ")
    with api.exchange.engine.connect() as conn:
        assert conn.execute(select(t.bulk_extracts.c.id)).all() == extracts
        denied = conn.execute(select(t.audit_log).where(t.audit_log.c.action == "bulk.request")
                              .order_by(t.audit_log.c.seq.desc())).first()
    assert (denied.outcome, denied.reason, denied.org_id) == ("deny", code, "COM/ACME")


def test_an_extract_for_another_key_does_not_decrypt(api: Api, acme_key: OKPKey) -> None:
    extract = ask(api, acme_key, cohort(api, 2)).json()
    decide(api, extract["id"], "approve")
    token = download(api, extract["id"]).text
    with pytest.raises(DecryptionFailed):
        decrypt_with(OKPKey.generate_key("X25519").as_dict(private=True), token)
    tampered = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
    with pytest.raises(DecryptionFailed):
        decrypt_with(acme_key.as_dict(private=True), tampered)


def test_an_extract_expires(api: Api, acme_key: OKPKey) -> None:
    extract = ask(api, acme_key, cohort(api, 1)).json()
    decide(api, extract["id"], "approve")
    api.clock.advance(timedelta(days=8))
    try:
        assert_problem(download(api, extract["id"]), 410, "extract_expired")
    finally:
        api.clock.advance(timedelta(days=-8))


@pytest.mark.parametrize(("changes", "status", "code"), [
    ({"agreement_id": 1}, 404, "agreement_unknown"),  # DWP's agreement with HMRC
    ({"agreement_id": 2}, 404, "agreement_unknown"),
    ({"purpose": "marketing"}, 403, "purpose_mismatch"),
    ({"recipient_jwk": {"kty": "oct", "k": "c2VjcmV0"}}, 422, "recipient_key_invalid"),
    ({"subjects": []}, 422, "invalid_request"),
])
def test_bad_requests_are_refused(api: Api, acme_key: OKPKey, changes: dict[str, Any],
                                  status: int, code: str) -> None:
    assert_problem(ask(api, acme_key, cohort(api, 2), **changes), status, code)


def test_a_private_key_is_refused_and_never_kept(api: Api, acme_key: OKPKey) -> None:
    response = ask(api, acme_key, cohort(api, 1), recipient_jwk=acme_key.as_dict(private=True))
    assert_problem(response, 422, "recipient_key_invalid")
    assert acme_key.as_dict(private=True)["d"] not in every_stored_text(api)


def test_an_agreement_without_bulk_refuses_and_only_the_provider_decides(
        api: Api, acme_key: OKPKey) -> None:
    council = api.client.post("/v1/bulk-extracts", headers=api.auth("officer:LA/NORTHSHIRE"),
                              json={"agreement_id": 2, "purpose": "council-tax-reduction",
                                    "subjects": [{"scheme": "nino", "value": cohort(api, 1)[0]}],
                                    "recipient_jwk": acme_key.as_dict(private=False)})
    assert_problem(council, 403, "bulk_not_allowed")
    extract = ask(api, acme_key, cohort(api, 1)).json()
    assert_problem(decide(api, extract["id"], "approve", "guardian:GOV/HMRC"), 404,
                   "bulk_extract_unknown")
    assert_problem(decide(api, extract["id"], "approve", ACME), 404, "bulk_extract_unknown")
    assert decide(api, extract["id"], "reject").json()["status"] == "rejected"
    assert_problem(decide(api, extract["id"], "approve"), 409, "already_decided")
    assert_problem(download(api, extract["id"]), 409, "not_approved")
    too_many = [f"ZZ{n:06d}Z" for n in range(101)]  # the agreement allows 100
    assert_problem(ask(api, acme_key, too_many), 422, "cohort_too_large")
    beyond_any = [f"ZZ{n:06d}Z" for n in range(401)]  # one ask holds 400 at most
    assert_problem(ask(api, acme_key, beyond_any), 422, "invalid_request")
