"""Identity across organisations over HTTP and the command line: a consumer without
identifiers named people by a pseudonym, another organisation's identifier refused, and the
guardian's queue of links the matcher proposed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.domain.identity import PAIRWISE
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

DVLA_GUARDIAN = "guardian:GOV/DVLA"


def query(api: Api, label: str, agreement: int, scheme: str, value: str, fields: list[str],
          purpose: str):
    return api.client.post("/v1/queries", headers=api.auth(label), json={
        "agreement_id": agreement, "subject": {"scheme": scheme, "value": value},
        "fields": fields, "purpose": purpose})


def acme(api: Api, scheme: str, value: str):
    return query(api, "officer:COM/ACME", 3, scheme, value, ["full_name"],
                 "disability-assessment")


@pytest.fixture(scope="module")
def queue(api: Api) -> list[dict]:
    """The DVLA guardian's queue after matching DVLA's records missing from the index."""
    api.exchange.identity.match("GOV/DVLA")
    response = api.client.get("/v1/identity/candidates", headers=api.auth(DVLA_GUARDIAN))
    assert response.status_code == 200, response.text
    return response.json()


def decide(api: Api, candidate_id: int, action: str, label: str = DVLA_GUARDIAN):
    return api.client.post(f"/v1/identity/candidates/{candidate_id}/{action}",
                           json={"reason": "checked against the paper licence"},
                           headers=api.auth(label))


def test_acme_is_named_the_person_by_a_pseudonym_and_asks_again_by_it(api):
    first = acme(api, "nino", api.world.citizen_ids["nino"])
    assert first.status_code == 200, first.text
    subject = first.json()["subject"]
    assert subject["scheme"] == PAIRWISE and subject["value"] != api.world.citizen_ids["nino"]
    again = acme(api, PAIRWISE, subject["value"])
    assert again.status_code == 200 and again.json()["subject"] == subject


def test_another_consumers_pseudonym_is_refused(api):
    pseudonym = acme(api, "nino", api.world.citizen_ids["nino"]).json()["subject"]["value"]
    assert_problem(query(api, "officer:POL/MET", 5, PAIRWISE, pseudonym, ["full_name"],
                         "crime-prevention"), 403, "scheme_not_yours")


def test_an_identifier_of_another_organisation_is_refused(api):
    assert_problem(acme(api, "northbank", api.world.citizen_ids["northbank"]), 403,
                   "scheme_not_yours")


def test_the_guardian_sees_the_proposed_links_without_attributes(api, queue):
    assert queue and all(c["status"] == "pending" and c["scheme"] == "driver"
                         and c["organisation"] == "GOV/DVLA" for c in queue)
    assert set(queue[0]["comparisons"]) == {"identifiers", "full_name", "date_of_birth",
                                            "postcode"}
    assert queue == sorted(queue, key=lambda c: -c["match_weight"])


def test_a_guardian_of_another_organisation_cannot_confirm(api, queue):
    assert_problem(decide(api, queue[0]["id"], "confirm", "guardian:GOV/DWP"), 403,
                   "not_your_identifier")
    assert_problem(decide(api, queue[0]["id"], "confirm", "officer:POL/MET"), 403,
                   "role_not_allowed")
    with api.exchange.engine.connect() as conn:
        assert conn.execute(select(t.link_candidates.c.status)
                            .where(t.link_candidates.c.id == queue[0]["id"])).scalar_one() \
            == "pending"


def test_only_guardians_read_the_queue(api, queue):
    assert_problem(api.client.get("/v1/identity/candidates",
                                  headers=api.auth("officer:POL/MET")), 403, "role_not_allowed")
    other = api.client.get("/v1/identity/candidates", headers=api.auth("guardian:GOV/DWP"))
    assert other.status_code == 200 and other.json() == []


@pytest.mark.parametrize(("candidate_id", "status", "code"), [
    (999_999, 404, "link_candidate_unknown"), (0, 422, "invalid_request"),
    ("x", 422, "invalid_request")])
def test_bad_candidate_ids(api, queue, candidate_id, status, code):
    assert_problem(decide(api, candidate_id, "confirm"), status, code)


def test_unauthenticated_and_bad_bodies_are_refused(api, queue):
    assert_problem(api.client.get("/v1/identity/candidates"), 401, "token_missing")
    response = api.client.post(f"/v1/identity/candidates/{queue[0]['id']}/reject", json={},
                               headers=api.auth(DVLA_GUARDIAN))
    assert_problem(response, 422, "invalid_request")
    assert_problem(api.client.get("/v1/identity/candidates?status=maybe",
                                  headers=api.auth(DVLA_GUARDIAN)), 422, "invalid_request")


def test_confirm_applies_the_link_once(api, queue):
    chosen = queue[-1]
    assert_problem(query(api, "officer:POL/MET", 5, "driver", chosen["value"], ["full_name"],
                         "crime-prevention"), 404, "subject_unknown")
    confirmed = decide(api, chosen["id"], "confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert_problem(decide(api, chosen["id"], "reject"), 409, "already_decided")
    released = query(api, "officer:POL/MET", 5, "driver", chosen["value"], ["full_name"],
                     "crime-prevention")
    assert released.status_code == 200 and released.json()["subject"]["scheme"] == PAIRWISE


def test_the_cli_matches_and_refuses_bad_input(api, tmp_path):
    command = [sys.executable, "-m", "onceonly.entrypoints.cli", "identity", "match"]
    env = {k: v for k, v in os.environ.items() if k != "ONCEONLY_DATABASE_URL"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env=env)

    url = api.exchange.engine.url.render_as_string(hide_password=False)
    done = run("--org", "GOV/DVLA", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "GOV/DVLA" in done.stdout and "proposed before" in done.stdout
    for bad in ("nonsense", "GOV/NOBODY"):
        refused = run("--org", bad, "--db", url)
        assert refused.returncode == 2 and "error" in refused.stderr
