"""The tamper-evident audit log over HTTP, end to end: a real server on a real socket, over the
demo world, on SQLite and on PostgreSQL. Signed tree heads and RFC 9162 proofs are checked
the way an outsider would, with nothing but the published keys; entries, the citizen's
access log and who may read what are checked through the API, and every refusal for its
status, its `{code, detail}` and its own audit entry.

Nothing here waits for a background integrator (the test server runs none): a test that
needs entries under a signed head calls `exchange.audit.integrate()` itself.
"""

from __future__ import annotations

import base64
import random
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from onceonly.adapters.db import tables as t
from onceonly.audit import merkle
from onceonly.audit.heads import SignedTreeHead, TreeHead, b64, verify_tree_head
from onceonly.client import OnceonlyClient
from onceonly.crypto.canonical import canonical_json, sha256_hex
from onceonly.crypto.signing import SignatureInvalid, SigningKey, jwks
from onceonly.crypto.tokens import new_token, token_digest
from tests.e2e.conftest import Api
from tests.support.problems import assert_problem

DWP_OFFICER = "officer:GOV/DWP"
COUNCIL_OFFICER = "officer:LA/NORTHSHIRE"
BANK_OFFICER = "officer:COM/NORTHBANK"
MET_OFFICER = "officer:POL/MET"
HMRC_GUARDIAN = "guardian:GOV/HMRC"
DVLA_GUARDIAN = "guardian:GOV/DVLA"
CITIZEN = "citizen"
ADMIN = "admin"
MAX_INDEX = 2**53 - 1
PSEUDONYM = re.compile(r"officer-[0-9a-f]{12}")


# --- helpers ----------------------------------------------------------------------------


def auth(api: Api, label: str | None) -> dict[str, str]:
    return api.auth(label) if label else {}


def get(api: Api, path: str, label: str | None = None, **params: Any) -> httpx.Response:
    return api.client.get(path, params=params, headers=auth(api, label))


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def log_size(api: Api) -> int:
    """Entries appended so far (integrated or not): the audit counter."""
    with api.exchange.engine.connect() as conn:
        return int(conn.execute(select(t.audit_counter.c.next_index)).scalar_one())


def appended_since(api: Api, size: int) -> list[Any]:
    with api.exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.seq >= size)
                            .order_by(t.audit_log.c.seq)).fetchall()


def assert_refusal_audited(api: Api, size: int, action: str, reason: str,
                           actor: str | None) -> Any:
    """Exactly one entry appended since `size`: the refusal, with its reason."""
    rows = appended_since(api, size)
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row.action, row.outcome, row.reason, row.actor_id) == (action, "deny", reason, actor)
    return row


def server_jwks(api: Api) -> dict[str, Any]:
    return ok(api.client.get("/.well-known/jwks.json"))


def signed_head(api: Api) -> SignedTreeHead:
    """The served tree head, accepted only if it verifies against the served keys."""
    return verify_tree_head(ok(api.client.get("/v1/audit/tree-head")), server_jwks(api))


def integrated(api: Api) -> SignedTreeHead:
    """Bring every entry under a signed head now; return the head as the API serves it."""
    api.exchange.audit.integrate()
    head = signed_head(api)
    assert head.head.tree_size == log_size(api)
    return head


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def inclusion(api: Api, index: int, tree_size: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"index": index}
    if tree_size is not None:
        params["tree_size"] = tree_size
    return ok(get(api, "/v1/audit/proof/inclusion", **params))


def proves_inclusion(proof: dict[str, Any], head: SignedTreeHead) -> bool:
    return merkle.verify_inclusion(unb64(proof["leaf_hash"]), proof["leaf_index"],
                                   proof["tree_size"],
                                   [unb64(h) for h in proof["audit_path"]], head.head.root_hash)


def served_leaves(api: Api, size: int) -> list[bytes]:
    """The leaf hashes of entries [0, size), from the leaf bytes the API serves."""
    return [merkle.leaf_hash(unb64(ok(get(api, f"/v1/audit/entries/{i}", ADMIN))["leaf"]))
            for i in range(size)]


def query(api: Api, label: str, agreement_id: int, scheme: str, value: str,
          fields: list[str], purpose: str) -> httpx.Response:
    return api.client.post("/v1/queries", headers=api.auth(label), json={
        "agreement_id": agreement_id, "subject": {"scheme": scheme, "value": value},
        "fields": fields, "purpose": purpose})


def dwp_income(api: Api, nino: str | None = None) -> dict[str, Any]:
    response = query(api, DWP_OFFICER, 1, "nino", nino or api.world.citizen_ids["nino"],
                     ["income_band"], "benefit-entitlement")
    return ok(response)


def council_benefits(api: Api) -> dict[str, Any]:
    return ok(query(api, COUNCIL_OFFICER, 2, "nino", api.world.citizen_ids["nino"],
                    ["receives_universal_credit"], "council-tax-reduction"))


def met_lookup(api: Api) -> dict[str, Any]:
    return ok(query(api, MET_OFFICER, 5, "driver", api.world.citizen_ids["driver"],
                    ["full_name", "address"], "crime-prevention"))


def own_entries(api: Api, label: str, limit: int = 20) -> list[dict[str, Any]]:
    return ok(get(api, "/v1/audit/entries", label, limit=limit))["entries"]


def release_index(api: Api, label: str, release: dict[str, Any]) -> int:
    """The index of a release's entry, found as its officer finds it: in their own entries."""
    found = [e["index"] for e in own_entries(api, label)
             if e["entry"]["action"] == "query.release"
             and e["entry"]["detail"].get("release_id") == release["release_id"]]
    assert len(found) == 1, found
    return found[0]


def refusal_index(api: Api, label: str, reason: str) -> int:
    """The index of the officer's latest refused query with this reason."""
    return next(e["index"] for e in own_entries(api, label)
                if e["entry"]["action"] == "query.decision" and e["entry"]["reason"] == reason)


def access_log(api: Api, label: str = CITIZEN, **params: Any) -> dict[str, Any]:
    return ok(get(api, "/v1/me/access-log", label, **params))


def accesses(api: Api) -> list[dict[str, Any]]:
    return access_log(api, limit=200)["accesses"]


def someone_else_nino(api: Api) -> str:
    with api.exchange.engine.connect() as conn:
        return str(conn.execute(
            select(t.person_links.c.value)
            .where(t.person_links.c.scheme == "nino",
                   t.person_links.c.person_key != api.world.citizen_ids["person_key"])
            .order_by(t.person_links.c.value).limit(1)).scalar_one())


# --- 1. tree heads and consistency ------------------------------------------------------


def test_tree_head_is_public_and_its_signature_verifies_against_the_jwks(api: Api) -> None:
    dwp_income(api)  # something new, so that the head is signed now
    api.exchange.audit.integrate()
    document = ok(api.client.get("/v1/audit/tree-head"))  # no token

    head = verify_tree_head(document, server_jwks(api))

    # The signed head, and beside it the evidence about it (none configured here).
    assert set(document) == {"tree_size", "root_hash", "timestamp", "previous", "signature",
                             "checkpoint", "cosignatures", "rfc3161"}
    assert document["cosignatures"] == [] and document["rfc3161"] is None
    assert document["checkpoint"] == (f"onceonly/gov/exchange\n{document['tree_size']}\n"
                                      f"{document['root_hash']}\n")
    assert head.head.tree_size == document["tree_size"] == log_size(api) > 0
    with api.exchange.uows() as uow:
        heads = uow.tree.heads()
    before = heads[-2].head if len(heads) > 1 else TreeHead(0, merkle.EMPTY_ROOT, 0)
    assert document["previous"] == {"tree_size": before.tree_size,
                                    "root_hash": b64(before.root_hash)}  # signed, too
    assert len(head.head.root_hash) == 32
    assert head.as_json() == {key: document[key] for key in head.as_json()}
    now_ms = api.clock.now().timestamp() * 1000
    assert now_ms - 60_000 < head.head.timestamp <= now_ms  # RFC 9162: milliseconds
    # The root is the root of the entries as the API serves them, recomputed here.
    assert merkle.root(served_leaves(api, head.head.tree_size)) == head.head.root_hash


def test_proofs_at_earlier_sizes_verify_against_roots_recomputed_from_the_entries(
        api: Api) -> None:
    head = integrated(api)
    n = head.head.tree_size
    leaves = served_leaves(api, n)

    for size in sorted({1, 2, 3, 5, 7, 8, 13, n // 2, n - 1, n}):
        root = merkle.root(leaves[:size])
        for index in sorted({0, size // 2, size - 1}):
            proof = inclusion(api, index, tree_size=size)
            assert (proof["leaf_index"], proof["tree_size"]) == (index, size)
            assert unb64(proof["leaf_hash"]) == leaves[index]
            assert merkle.verify_inclusion(leaves[index], index, size,
                                           [unb64(h) for h in proof["audit_path"]], root), \
                (index, size)
        consistency = ok(get(api, "/v1/audit/proof/consistency", first=size))
        assert consistency["second"] == n
        assert merkle.verify_consistency(size, n, root, head.head.root_hash,
                                         [unb64(h) for h in consistency["consistency_path"]]), \
            size


@pytest.mark.parametrize(("field", "change"), [
    ("tree_size", lambda v: v + 1),
    ("tree_size", lambda v: v - 1),
    ("root_hash", lambda v: base64.b64encode(bytes(32)).decode()),
    ("timestamp", lambda v: v + 1),
    ("signature", lambda v: v[:-4] + ("AAAA" if not v.endswith("AAAA") else "BBBB")),
], ids=["bigger", "smaller", "other-root", "other-time", "bad-signature"])
def test_a_tree_head_with_an_altered_field_fails_verification(api: Api, field: str,
                                                              change: Any) -> None:
    api.exchange.audit.integrate()
    document = ok(api.client.get("/v1/audit/tree-head"))
    keys = server_jwks(api)
    verify_tree_head(document, keys)  # as served, it holds

    with pytest.raises(SignatureInvalid):
        verify_tree_head({**document, field: change(document[field])}, keys)


def test_a_tree_head_signed_with_another_organisations_key_does_not_verify(api: Api) -> None:
    """The exchange's JWKS publishes every organisation's key (providers sign releases with
    theirs). A tree head is the exchange operator's statement: one signed with a provider's
    or a bank's key, saying whatever it likes, must not pass for it."""
    head = integrated(api)
    keys = server_jwks(api)
    assert {"GOV/EXCHANGE", "COM/NORTHBANK"} <= {k.get("org") for k in keys["keys"]}
    forged = TreeHead(head.head.tree_size, bytes(32), head.head.timestamp)
    signature = api.exchange.key_store.sign_compact_for("COM/NORTHBANK", forged.payload())

    with pytest.raises(SignatureInvalid):
        verify_tree_head(SignedTreeHead(forged, signature).as_json(), keys)


def test_a_tree_head_does_not_verify_against_other_keys(api: Api) -> None:
    api.exchange.audit.integrate()
    document = ok(api.client.get("/v1/audit/tree-head"))
    stranger = jwks([SigningKey.generate("GOV/EXCHANGE").public_jwk()])

    with pytest.raises(SignatureInvalid):
        verify_tree_head(document, stranger)


def test_the_tree_grows_and_each_head_is_consistent_with_the_last(api: Api) -> None:
    old = integrated(api)
    dwp_income(api)
    dwp_income(api)
    assert signed_head(api) == old  # appended, not yet integrated: the head stands

    new = integrated(api)

    assert new.head.tree_size == old.head.tree_size + 2
    assert new.head.root_hash != old.head.root_hash
    assert new.head.timestamp >= old.head.timestamp
    first, second = old.head.tree_size, new.head.tree_size
    proof = ok(get(api, "/v1/audit/proof/consistency", first=first, second=second))
    assert (proof["first"], proof["second"]) == (first, second)
    path = [unb64(h) for h in proof["consistency_path"]]
    assert path
    assert merkle.verify_consistency(first, second, old.head.root_hash, new.head.root_hash,
                                     path)
    # Without `second`, the proof is to the latest head: the same one.
    assert ok(get(api, "/v1/audit/proof/consistency", first=first)) == proof
    # Checked against a root the old tree never had, the proof fails.
    wrong = bytes([old.head.root_hash[0] ^ 1]) + old.head.root_hash[1:]
    assert not merkle.verify_consistency(first, second, wrong, new.head.root_hash, path)
    assert not merkle.verify_consistency(first, second, old.head.root_hash, wrong, path)
    # An entry of the old tree is still proven in it, at its old size.
    last_old = first - 1
    assert proves_inclusion(inclusion(api, last_old, tree_size=first), old)
    assert proves_inclusion(inclusion(api, last_old), new)


def test_consistency_between_equal_sizes_and_from_the_empty_tree(api: Api) -> None:
    head = integrated(api)
    size = head.head.tree_size

    same = ok(get(api, "/v1/audit/proof/consistency", first=size, second=size))
    empty = ok(get(api, "/v1/audit/proof/consistency", first=0))

    assert same == {"first": size, "second": size, "consistency_path": []}
    assert empty == {"first": 0, "second": size, "consistency_path": []}
    assert merkle.verify_consistency(size, size, head.head.root_hash, head.head.root_hash, [])
    assert merkle.verify_consistency(0, size, merkle.EMPTY_ROOT, head.head.root_hash, [])


# --- 2. inclusion, and what an entry holds ----------------------------------------------


def test_a_release_is_in_the_signed_tree_and_its_leaf_is_the_entry(api: Api) -> None:
    release = dwp_income(api)
    index = release_index(api, DWP_OFFICER, release)
    head = integrated(api)

    proof = inclusion(api, index)
    served = ok(get(api, f"/v1/audit/entries/{index}", CITIZEN))

    assert (proof["leaf_index"], proof["tree_size"]) == (index, head.head.tree_size)
    assert proves_inclusion(proof, head)
    # A proof for the neighbouring index, or against another root, does not verify.
    assert not merkle.verify_inclusion(unb64(proof["leaf_hash"]), index ^ 1,
                                       head.head.tree_size,
                                       [unb64(h) for h in proof["audit_path"]],
                                       head.head.root_hash)
    leaf = unb64(served["leaf"])
    assert served["index"] == served["entry"]["index"] == index
    assert merkle.leaf_hash(leaf) == unb64(proof["leaf_hash"])
    assert canonical_json(served["entry"]) == leaf
    entry = served["entry"]
    assert (entry["action"], entry["outcome"], entry["org_id"], entry["provider_id"],
            entry["agreement_id"], entry["purpose"], entry["fields"]) == \
        ("query.release", "permit", "GOV/DWP", "GOV/HMRC", 1, "benefit-entitlement",
         ["income_band"])
    assert entry["person_key"] == api.world.citizen_ids["person_key"]
    assert entry["detail"] == {"release_id": release["release_id"]}
    # The consumer can prove what it received: the hash is of its release, values and all.
    assert entry["values_hash"] == sha256_hex({"release_id": release["release_id"],
                                               "data": release["data"]})
    # Field names and a hash: never the values released, nor the identifier asked about.
    text = leaf.decode()
    for value in release["data"].values():
        assert str(value) not in text
    assert api.world.citizen_ids["nino"] not in text


def test_a_police_lookup_leaf_holds_no_name_or_address(api: Api) -> None:
    release = met_lookup(api)
    index = release_index(api, MET_OFFICER, release)
    head = integrated(api)

    served = ok(get(api, f"/v1/audit/entries/{index}", ADMIN))

    assert proves_inclusion(inclusion(api, index), head)
    leaf = unb64(served["leaf"]).decode()
    assert set(release["data"]) == {"full_name", "address"}
    for value in release["data"].values():
        assert value and str(value) not in leaf
    assert api.world.citizen_ids["name"] not in leaf
    assert api.world.citizen_ids["driver"] not in leaf
    assert served["entry"]["fields"] == ["full_name", "address"]


# --- 3. bad input on the proof endpoints --------------------------------------------------


@pytest.mark.parametrize(("path", "params", "code"), [
    ("inclusion", lambda n: {"index": n, "tree_size": n}, "index_out_of_range"),
    ("inclusion", lambda n: {"index": n}, "index_out_of_range"),
    ("inclusion", lambda n: {"index": 0, "tree_size": 0}, "index_out_of_range"),
    ("inclusion", lambda n: {"index": MAX_INDEX}, "index_out_of_range"),
    ("inclusion", lambda n: {"index": 0, "tree_size": n + 1}, "beyond_tree_head"),
    ("inclusion", lambda n: {"index": 0, "tree_size": MAX_INDEX}, "beyond_tree_head"),
    ("consistency", lambda n: {"first": n, "second": n - 1}, "index_out_of_range"),
    ("consistency", lambda n: {"first": n + 1}, "index_out_of_range"),
    ("consistency", lambda n: {"first": 1, "second": n + 1}, "beyond_tree_head"),
    ("inclusion", lambda n: {"index": -1}, "invalid_request"),
    ("inclusion", lambda n: {"index": 0, "tree_size": -1}, "invalid_request"),
    ("inclusion", lambda n: {"index": "first"}, "invalid_request"),
    ("inclusion", lambda n: {"index": "1.5"}, "invalid_request"),
    ("inclusion", lambda n: {"index": MAX_INDEX + 1}, "invalid_request"),
    ("inclusion", lambda n: {"index": 10**30}, "invalid_request"),
    ("inclusion", lambda n: {"index": 0, "tree_size": MAX_INDEX + 1}, "invalid_request"),
    ("inclusion", lambda n: {}, "invalid_request"),
    ("consistency", lambda n: {"first": -1}, "invalid_request"),
    ("consistency", lambda n: {"first": 1, "second": "last"}, "invalid_request"),
    ("consistency", lambda n: {"first": MAX_INDEX + 1}, "invalid_request"),
    ("consistency", lambda n: {}, "invalid_request"),
], ids=["index-is-size", "index-is-head-size", "empty-tree", "largest-index",
        "size-beyond-head", "largest-size", "first-after-second", "first-beyond-head",
        "second-beyond-head", "negative-index", "negative-size", "index-not-a-number",
        "index-fractional", "index-past-2-53", "index-huge", "size-past-2-53",
        "no-index", "negative-first", "second-not-a-number", "first-past-2-53", "no-first"])
def test_bad_proof_requests_are_refused_and_change_nothing(api: Api, path: str, params: Any,
                                                           code: str) -> None:
    head = integrated(api)
    size = log_size(api)
    served = ok(api.client.get("/v1/audit/tree-head"))

    response = get(api, f"/v1/audit/proof/{path}", **params(head.head.tree_size))

    problem = assert_problem(response, 422, code)
    if code == "beyond_tree_head":
        assert str(head.head.tree_size) in problem["detail"]
    assert ok(api.client.get("/v1/audit/tree-head")) == served
    assert log_size(api) == size


@pytest.mark.parametrize(("path", "label", "params"), [
    ("/v1/audit/entries/-1", ADMIN, {}),
    ("/v1/audit/entries/first", ADMIN, {}),
    (f"/v1/audit/entries/{MAX_INDEX + 1}", ADMIN, {}),
    ("/v1/audit/entries", ADMIN, {"limit": 0}),
    ("/v1/audit/entries", ADMIN, {"limit": 201}),
    ("/v1/audit/entries", HMRC_GUARDIAN, {"before": 0}),
    ("/v1/audit/entries", HMRC_GUARDIAN, {"before": "latest"}),
    ("/v1/me/access-log", CITIZEN, {"limit": 0}),
    ("/v1/me/access-log", CITIZEN, {"before": -5}),
], ids=["negative-index", "index-not-a-number", "index-past-2-53", "limit-zero",
        "limit-too-big", "before-zero", "before-not-a-number", "log-limit-zero",
        "log-before-negative"])
def test_bad_paging_and_indexes_are_refused_and_change_nothing(api: Api, path: str, label: str,
                                                               params: dict[str, Any]) -> None:
    size = log_size(api)
    served = ok(api.client.get("/v1/audit/tree-head"))

    assert_problem(get(api, path, label, **params), 422, "invalid_request")

    assert log_size(api) == size
    assert ok(api.client.get("/v1/audit/tree-head")) == served


@pytest.mark.parametrize("label", [ADMIN, HMRC_GUARDIAN, DWP_OFFICER])
def test_a_provider_filter_with_a_nul_byte_is_never_a_server_error(api: Api,
                                                                  label: str) -> None:
    """PostgreSQL cannot hold a NUL byte in text, so the filter must not reach it as is (nor
    the refusal's own audit entry): the answer is a 4xx problem, or the entries that match."""
    provider = "GOV/\x00HMRC"
    size = log_size(api)
    # A client of its own: a server error closes the connection it came on.
    with httpx.Client(base_url=api.base_url, timeout=30) as client:
        response = client.get("/v1/audit/entries", params={"provider": provider},
                              headers=api.auth(label))

    assert response.status_code < 500, response.text
    if response.status_code == 200:  # only entries about that (odd) provider, if any
        assert all(e["entry"]["provider_id"] == provider for e in response.json()["entries"])
        assert log_size(api) == size
    else:
        body = response.json()
        assert isinstance(body.get("code"), str) and body.get("detail"), body
        assert log_size(api) - size <= 1  # at most the refusal itself


def test_the_largest_index_is_unknown_and_its_refusal_is_integrated(api: Api) -> None:
    size = log_size(api)

    response = get(api, f"/v1/audit/entries/{MAX_INDEX}", ADMIN)

    assert_problem(response, 404, "audit_entry_unknown")
    row = assert_refusal_audited(api, size, "audit.read", "entry_not_visible",
                                 api.principal(ADMIN).id)
    assert row.detail == {"index": MAX_INDEX}
    head = integrated(api)  # the refusal's entry has a canonical form and joins the tree
    assert proves_inclusion(inclusion(api, row.seq), head)


# --- 4. the citizen's access log --------------------------------------------------------


def test_the_access_log_lists_each_access_with_a_stable_officer_pseudonym(api: Api) -> None:
    first = release_index(api, DWP_OFFICER, dwp_income(api))
    council = release_index(api, COUNCIL_OFFICER, council_benefits(api))
    second = release_index(api, DWP_OFFICER, dwp_income(api))
    elsewhere = release_index(api, DWP_OFFICER, dwp_income(api, someone_else_nino(api)))

    listed = accesses(api)
    by_index = {a["index"]: a for a in listed}

    assert {first, second, council} <= by_index.keys()
    assert elsewhere not in by_index  # another person's access is not in this log
    dwp = by_index[second]
    assert {k: v for k, v in dwp.items() if k not in ("index", "at", "officer")} == {
        "organisation": "GOV/DWP", "provider": "GOV/HMRC", "purpose": "benefit-entitlement",
        "fields": ["income_band"], "outcome": "released", "reason": None}
    assert by_index[council]["organisation"] == "LA/NORTHSHIRE"
    assert by_index[council]["fields"] == ["receives_universal_credit"]
    # The same officer twice gets the same pseudonym; another officer another one.
    assert by_index[first]["officer"] == dwp["officer"]
    assert by_index[council]["officer"] != dwp["officer"]
    for access in (dwp, by_index[council]):
        assert PSEUDONYM.fullmatch(access["officer"]), access
    for label in (DWP_OFFICER, COUNCIL_OFFICER):
        principal = api.principal(label)
        for access in listed:
            assert principal.id not in access["officer"]
            assert principal.name not in access["officer"]
    # Newest first.
    indexes = [a["index"] for a in listed]
    assert indexes == sorted(indexes, reverse=True) and len(set(indexes)) == len(indexes)
    times = [datetime.fromisoformat(a["at"]) for a in listed]
    assert times == sorted(times, reverse=True)
    assert indexes.index(second) < indexes.index(council) < indexes.index(first)
    # Every listed index is the entry the citizen may read, and is in the signed tree.
    head = integrated(api)
    for access in (dwp, by_index[council]):
        entry = ok(get(api, f"/v1/audit/entries/{access['index']}", CITIZEN))["entry"]
        assert entry["org_id"] == access["organisation"]
        assert proves_inclusion(inclusion(api, access["index"]), head)


def test_the_access_log_pages_return_each_entry_once(api: Api) -> None:
    for _ in range(3):
        dwp_income(api)
    everything = [a["index"] for a in accesses(api)]
    assert len(everything) >= 3

    paged: list[int] = []
    before = None
    for _ in range(len(everything) + 1):
        page = access_log(api, limit=2, **({"before": before} if before else {}))
        assert len(page["accesses"]) <= 2
        paged += [a["index"] for a in page["accesses"]]
        before = page["next_before"]
        if before is None:
            break
        assert before == paged[-1]
    else:
        pytest.fail("paging never ended")

    assert paged == everything


def another_officer(api: Api, org_id: str, suffix: str) -> dict[str, str]:
    """A second officer of the same organisation, with a token of their own."""
    principal_id = f"{org_id.lower().replace('/', '_')}.officer-{suffix}"
    token = new_token()
    now = api.clock.now()
    with api.exchange.engine.begin() as conn:
        conn.execute(insert(t.principals).values(
            id=principal_id, name=f"Second officer {suffix}", org_id=org_id, role="officer",
            person_key=None))
        conn.execute(insert(t.api_tokens).values(
            digest=token_digest(token), principal_id=principal_id, issued_at=now,
            expires_at=now + timedelta(days=1)))
    return {"Authorization": f"Bearer {token}", "id": principal_id}


def test_two_officers_of_one_organisation_have_different_pseudonyms(api: Api) -> None:
    colleague = another_officer(api, "GOV/DWP", "pseudonym")
    mine = release_index(api, DWP_OFFICER, dwp_income(api))
    response = api.client.post("/v1/queries", headers={
        "Authorization": colleague["Authorization"]}, json={
        "agreement_id": 1, "subject": {"scheme": "nino", "value": api.world.citizen_ids["nino"]},
        "fields": ["income_band"], "purpose": "benefit-entitlement"})
    theirs = ok(response)

    log_response = get(api, "/v1/me/access-log", CITIZEN, limit=200)
    by_index = {a["index"]: a for a in ok(log_response)["accesses"]}
    with api.exchange.engine.connect() as conn:
        their_index = conn.execute(select(t.audit_log.c.seq).where(
            t.audit_log.c.actor_id == colleague["id"],
            t.audit_log.c.action == "query.release")).scalar_one()

    assert theirs["data"]
    assert by_index[their_index]["organisation"] == by_index[mine]["organisation"] == "GOV/DWP"
    assert by_index[their_index]["officer"] != by_index[mine]["officer"]
    # Nowhere in the whole answer is an officer named or identified.
    text = log_response.text
    for secret in (colleague["id"], "Second officer", api.principal(DWP_OFFICER).id,
                   api.principal(DWP_OFFICER).name):
        assert secret not in text


def test_a_refused_query_appears_in_the_access_log_as_refused(api: Api) -> None:
    response = query(api, BANK_OFFICER, 4, "nino", api.world.citizen_ids["nino"],
                     ["income_band"], "mortgage-affordability")
    assert_problem(response, 403, "consent_missing")
    index = refusal_index(api, BANK_OFFICER, "consent_missing")

    listed = accesses(api)

    assert listed[0]["index"] == index  # the newest
    refused = listed[0]
    assert {k: v for k, v in refused.items() if k not in ("index", "at", "officer")} == {
        "organisation": "COM/NORTHBANK", "provider": "GOV/HMRC",
        "purpose": "mortgage-affordability", "fields": ["income_band"], "outcome": "refused",
        "reason": "consent_missing"}
    assert PSEUDONYM.fullmatch(refused["officer"])
    head = integrated(api)
    assert proves_inclusion(inclusion(api, index), head)


# --- 5. hidden-until: the police lookup -----------------------------------------------------


def test_a_police_lookup_is_in_the_tree_now_but_hidden_from_the_citizen_for_90_days(
        api: Api) -> None:
    release = met_lookup(api)
    index = release_index(api, MET_OFFICER, release)
    refused = query(api, MET_OFFICER, 5, "driver", api.world.citizen_ids["driver"],
                    ["full_name"], "debt-collection")
    assert_problem(refused, 403, "purpose_mismatch")
    refused_index = refusal_index(api, MET_OFFICER, "purpose_mismatch")
    head = integrated(api)

    # In the signed tree from the start ...
    for i in (index, refused_index):
        assert i < head.head.tree_size
        assert proves_inclusion(inclusion(api, i), head)
    # ... but not in the citizen's view: neither listed nor readable by index, while an
    # access that is not hidden is listed.
    seen = release_index(api, DWP_OFFICER, dwp_income(api))
    since_lookup = [(a["index"], a["organisation"]) for a in accesses(api) if a["index"] >= index]
    assert since_lookup == [(seen, "GOV/DWP")]  # earlier tests' accesses are left aside
    assert_problem(get(api, f"/v1/audit/entries/{index}", CITIZEN), 404, "audit_entry_unknown")

    api.clock.advance(timedelta(days=89))
    try:
        still = {a["index"] for a in accesses(api)}
        assert_problem(get(api, f"/v1/audit/entries/{index}", CITIZEN), 404,
                       "audit_entry_unknown")
    finally:
        api.clock.advance(-timedelta(days=89))
    assert not {index, refused_index} & still

    api.clock.advance(timedelta(days=91))
    try:
        revealed = {a["index"]: a for a in accesses(api)}
        readable = get(api, f"/v1/audit/entries/{index}", CITIZEN)
    finally:
        api.clock.advance(-timedelta(days=91))

    assert {index, refused_index} <= revealed.keys()
    lookup = revealed[index]
    assert {k: v for k, v in lookup.items() if k not in ("index", "at", "officer")} == {
        "organisation": "POL/MET", "provider": "GOV/DVLA", "purpose": "crime-prevention",
        "fields": ["full_name", "address"], "outcome": "released", "reason": None}
    assert (revealed[refused_index]["outcome"], revealed[refused_index]["reason"]) == \
        ("refused", "purpose_mismatch")
    served = ok(readable)
    assert served["entry"]["hidden_until"] is not None
    assert merkle.leaf_hash(unb64(served["leaf"])) == unb64(inclusion(api, index)["leaf_hash"])
    # With the clock back, hidden again.
    assert index not in {a["index"] for a in accesses(api)}


# --- 6. who may read what ---------------------------------------------------------------------


def test_a_citizen_cannot_read_an_entry_about_someone_else(api: Api) -> None:
    other = release_index(api, DWP_OFFICER, dwp_income(api, someone_else_nino(api)))
    missing = log_size(api) + 1_000
    size = log_size(api)

    refused = get(api, f"/v1/audit/entries/{other}", CITIZEN)

    problem = assert_problem(refused, 404, "audit_entry_unknown")
    row = assert_refusal_audited(api, size, "audit.read", "entry_not_visible",
                                 api.principal(CITIZEN).id)
    assert row.detail == {"index": other}
    # Exactly as if there were no such entry: an index gives nothing away.
    absent = assert_problem(get(api, f"/v1/audit/entries/{missing}", CITIZEN), 404,
                            "audit_entry_unknown")
    assert absent["detail"] == problem["detail"].replace(str(other), str(missing))
    # The administrator sees the refusal in the log, and reads the entry itself.
    seen = ok(get(api, f"/v1/audit/entries/{row.seq}", ADMIN))["entry"]
    assert (seen["action"], seen["outcome"], seen["reason"]) == \
        ("audit.read", "deny", "entry_not_visible")
    assert ok(get(api, f"/v1/audit/entries/{other}", ADMIN))["entry"]["person_key"] != \
        api.world.citizen_ids["person_key"]


def test_a_citizen_may_not_list_entries(api: Api) -> None:
    size = log_size(api)

    response = get(api, "/v1/audit/entries", CITIZEN)

    assert_problem(response, 403, "role_not_allowed")
    assert_refusal_audited(api, size, "audit.list", "role_not_allowed",
                           api.principal(CITIZEN).id)


def test_an_officer_lists_only_their_own_actions(api: Api) -> None:
    dwp_income(api)
    council_benefits(api)
    met_lookup(api)  # another organisation's entry about GOV/DVLA's data
    # and one of the officer's own about it: a refused query under the police's agreement
    assert query(api, DWP_OFFICER, 5, "driver", api.world.citizen_ids["driver"],
                 ["full_name"], "crime-prevention").status_code == 403
    me = api.principal(DWP_OFFICER).id

    listed = own_entries(api, DWP_OFFICER, limit=200)
    filtered = ok(get(api, "/v1/audit/entries", DWP_OFFICER, provider="GOV/DVLA",
                      limit=200))["entries"]

    assert listed
    assert all(e["entry"]["actor_id"] == me for e in listed)
    assert {e["entry"]["action"] for e in listed} >= {"query.release"}
    assert [(e["entry"]["actor_id"], e["entry"]["provider_id"], e["entry"]["outcome"])
            for e in filtered] == [(me, "GOV/DVLA", "deny")]
    council = api.principal(COUNCIL_OFFICER).id
    assert any(e["entry"]["actor_id"] == council
               for e in ok(get(api, "/v1/audit/entries", ADMIN, limit=200))["entries"])


def test_a_guardian_lists_entries_about_their_data_and_pages_them(api: Api) -> None:
    dwp_income(api)
    dwp_income(api)

    page = ok(get(api, "/v1/audit/entries", HMRC_GUARDIAN, provider="GOV/HMRC", limit=3))
    unfiltered = ok(get(api, "/v1/audit/entries", HMRC_GUARDIAN, limit=3))

    assert len(page["entries"]) == 3
    assert page == unfiltered  # a guardian's list is their organisation's data either way
    assert all(e["entry"]["provider_id"] == "GOV/HMRC" for e in page["entries"])
    indexes = [e["index"] for e in page["entries"]]
    assert indexes == sorted(indexes, reverse=True)
    assert page["next_before"] == indexes[-1]
    older = ok(get(api, "/v1/audit/entries", HMRC_GUARDIAN, before=page["next_before"],
                   limit=3))
    assert older["entries"] and max(e["index"] for e in older["entries"]) < indexes[-1]
    assert all(e["entry"]["provider_id"] == "GOV/HMRC" for e in older["entries"])
    for served in page["entries"]:
        assert canonical_json(served["entry"]) == unb64(served["leaf"])


def test_a_guardian_cannot_list_another_providers_entries(api: Api) -> None:
    size = log_size(api)

    response = get(api, "/v1/audit/entries", HMRC_GUARDIAN, provider="GOV/DWP")

    assert_problem(response, 403, "not_your_organisation")
    row = assert_refusal_audited(api, size, "audit.list", "not_your_organisation",
                                 api.principal(HMRC_GUARDIAN).id)
    assert row.provider_id == "GOV/DWP"


def test_a_guardian_cannot_read_an_entry_about_another_providers_data(api: Api) -> None:
    index = release_index(api, MET_OFFICER, met_lookup(api))  # DVLA's data, not HMRC's
    size = log_size(api)

    response = get(api, f"/v1/audit/entries/{index}", HMRC_GUARDIAN)

    assert_problem(response, 404, "audit_entry_unknown")
    assert_refusal_audited(api, size, "audit.read", "entry_not_visible",
                           api.principal(HMRC_GUARDIAN).id)
    # DVLA's guardian reads it: it is about DVLA's data (hidden from the citizen only).
    assert ok(get(api, f"/v1/audit/entries/{index}", DVLA_GUARDIAN))["entry"]["provider_id"] \
        == "GOV/DVLA"


@pytest.mark.parametrize("path", ["/v1/audit/entries", "/v1/audit/entries/0",
                                  "/v1/me/access-log"])
def test_without_a_token_entries_and_the_access_log_are_refused(api: Api, path: str) -> None:
    size = log_size(api)

    response = get(api, path)

    assert_problem(response, 401, "token_missing")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_refusal_audited(api, size, "auth", "token_missing", None)


@pytest.mark.parametrize("label", [DWP_OFFICER, HMRC_GUARDIAN, ADMIN])
def test_only_a_citizen_has_an_access_log(api: Api, label: str) -> None:
    size = log_size(api)

    response = get(api, "/v1/me/access-log", label)

    assert_problem(response, 403, "role_not_allowed")
    assert_refusal_audited(api, size, "audit.access_log", "role_not_allowed",
                           api.principal(label).id)


def test_an_administrator_reads_any_entry(api: Api) -> None:
    hidden = release_index(api, MET_OFFICER, met_lookup(api))
    other = release_index(api, DWP_OFFICER, dwp_income(api, someone_else_nino(api)))
    size = log_size(api)

    for index in (0, hidden, other):
        served = ok(get(api, f"/v1/audit/entries/{index}", ADMIN))
        assert served["index"] == index
        assert canonical_json(served["entry"]) == unb64(served["leaf"])
    listed = ok(get(api, "/v1/audit/entries", ADMIN, provider="GOV/DVLA", limit=5))["entries"]
    assert hidden in {e["index"] for e in listed}
    assert all(e["entry"]["provider_id"] == "GOV/DVLA" for e in listed)
    assert log_size(api) == size  # reading is not refused, so nothing was appended


# --- 7. the client's outside check ----------------------------------------------------------


def outside(api: Api, label: str | None = None) -> OnceonlyClient:
    return OnceonlyClient(api.base_url, api.world.token(label) if label else None)


def test_check_log_passes_without_a_token_and_appends_nothing(api: Api) -> None:
    head = integrated(api)
    size = log_size(api)
    client = outside(api)
    try:
        result = client.check_log(samples=6, rng=random.Random(7))
    finally:
        client.close()

    assert result.ok, result.problems
    assert result.head == head
    assert {0, head.head.tree_size - 1} <= set(result.sampled)
    assert result.entries_read == 0
    assert result.consistent_from is None
    assert log_size(api) == size


def test_check_log_with_an_administrator_token_reads_every_sampled_entry(api: Api) -> None:
    head = integrated(api)
    client = outside(api, ADMIN)
    try:
        result = client.check_log(samples=5, rng=random.Random(3))
    finally:
        client.close()

    assert result.ok, result.problems
    assert result.head == head
    assert len(result.sampled) >= 2
    assert result.entries_read == len(result.sampled)


def test_check_log_proves_the_head_extends_an_earlier_one(api: Api) -> None:
    client = outside(api)
    try:
        earlier = integrated(api)
        dwp_income(api)
        later = integrated(api)
        extended = client.check_log(previous=earlier, samples=3)
        same = client.check_log(previous=later, samples=3)
    finally:
        client.close()

    assert extended.ok, extended.problems
    assert extended.consistent_from == earlier.head.tree_size < later.head.tree_size
    assert same.ok and same.consistent_from == later.head.tree_size


@pytest.mark.parametrize(("size_change", "problem"), [
    (0, "fork"),
    (-1, "does not extend"),
    (1, "shrank"),
], ids=["same-size-other-root", "smaller-other-root", "larger"])
def test_check_log_catches_a_forged_earlier_head(api: Api, size_change: int,
                                                 problem: str) -> None:
    head = integrated(api)
    forged = SignedTreeHead(TreeHead(head.head.tree_size + size_change,
                                     bytes(b ^ 0xFF for b in head.head.root_hash),
                                     head.head.timestamp), head.signature)
    client = outside(api)
    try:
        result = client.check_log(previous=forged, samples=2)
    finally:
        client.close()

    assert not result.ok
    assert result.consistent_from is None
    assert any(problem in p for p in result.problems), result.problems


def test_check_log_fails_against_keys_that_are_not_the_servers(api: Api) -> None:
    integrated(api)
    stranger = jwks([SigningKey.generate("GOV/EXCHANGE").public_jwk()])
    client = outside(api)
    try:
        pinned_stranger = client.check_log(jwks=stranger, samples=2)
        pinned_real = client.check_log(jwks=server_jwks(api), samples=2)
    finally:
        client.close()

    assert not pinned_stranger.ok
    assert pinned_stranger.head is None
    assert any("does not verify" in p for p in pinned_stranger.problems)
    assert pinned_real.ok, pinned_real.problems
