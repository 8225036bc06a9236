"""Archive bundles checked offline (audit/bundles.py), built here from a tree in memory, a
signing key, a witness key and a real RFC 3161 answer (`openssl ts -reply`): a bundle that
holds verifies; each way one can fail is named, with the part it is in."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from onceonly.audit import merkle
from onceonly.audit.bundles import (
    FORMAT,
    MAX_PROBLEMS,
    Period,
    entry_line,
    entry_problem,
    header_line,
    verify,
)
from onceonly.audit.checkpoints import body_of
from onceonly.audit.heads import HeadRef, SignedTreeHead, TreeHead
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.cosignatures import Witness, cosign
from onceonly.crypto.signing import SigningKey, jwks
from onceonly.crypto.timestamps import load_roots, request_for
from tests.support.tsa import TestAuthority

ORG = "GOV/EXCHANGE"
ORIGIN = "exchange.example/audit"
KEY = SigningKey.generate(ORG)
WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS = Witness("auditor.example/witness", WITNESS_KEY.public_key())
PERIOD = Period("2026-01-01T00:00:00.000000Z", "2026-02-01T00:00:00.000000Z")


def leaf(index: int, provider: str | None = "GOV/HMRC",
         at: str = "2026-01-15T10:00:00.000000Z") -> bytes:
    return canonical_json({"index": index, "at": at, "action": "query.release",
                           "provider_id": provider})


LEAVES = [leaf(i, "GOV/HMRC" if i % 2 == 0 else "GOV/DVLA") for i in range(11)]
TREE = merkle.MemoryTree([merkle.leaf_hash(x) for x in LEAVES])


def signed_head(size: int = 11) -> SignedTreeHead:
    head = TreeHead(size, TREE.root(size), 1_767_000_000_000, HeadRef(3, TREE.root(3)))
    return SignedTreeHead(head, KEY.sign(head.payload()))


@pytest.fixture(scope="module")
def authority(tmp_path_factory) -> Iterator[TestAuthority]:
    tsa = TestAuthority(tmp_path_factory.mktemp("tsa"))
    tsa.down()
    yield tsa
    tsa.close()


def header(authority: TestAuthority | None, head: SignedTreeHead | None = None, *,
           entries: int = 6, provider: str | None = "GOV/HMRC", **changes) -> bytes:
    head = head or signed_head()
    stamp = None
    if authority is not None:
        from onceonly.crypto.timestamps import check_timestamp
        answer = authority.reply(request_for(head.signature.encode()).der)
        at = check_timestamp(answer, head.signature.encode(),
                             load_roots(authority.ca_file.read_bytes()))
        stamp = {"authority": "tsa", "stamped_at": at.isoformat(),
                 "token": base64.b64encode(answer).decode()}
    body = body_of(ORIGIN, head.head.tree_size, head.head.root_hash)
    options = dict(
        provider=provider, period=PERIOD, origin=ORIGIN, log_org=ORG, head=head,
        cosignatures=[{"witness": WITNESS.name, "timestamp": 5,
                       "signature": base64.b64encode(cosign(WITNESS_KEY, body, 5)).decode()}],
        rfc3161=stamp, jwks=jwks([KEY.public_jwk()]), witnesses=[WITNESS.vkey],
        tsa_roots=[authority.ca_file.read_text()] if authority else [], entries=entries)
    options.update(changes)
    return header_line(**options)


def entries(indexes=(0, 2, 4, 6, 8, 10), size: int = 11) -> list[bytes]:
    return [entry_line(LEAVES[i], TREE.inclusion_proof(i, size)) for i in indexes]


def bundle(authority: TestAuthority | None = None, **options) -> list[bytes]:
    return [header(authority, **options), *entries()]


def test_the_lines_are_canonical_json_each_ending_in_a_newline(authority):
    first, line = header(authority), entries()[0]
    assert first.endswith(b"\n") and line.endswith(b"\n")
    assert first.count(b"\n") == 1 and line.count(b"\n") == 1
    parsed = json.loads(first)
    assert canonical_json(parsed) + b"\n" == first
    assert parsed["format"] == FORMAT == "onceonly-audit-bundle/v1"
    assert parsed["checkpoint"] == body_of(ORIGIN, 11, TREE.root()).decode()
    assert (parsed["from"], parsed["to"]) == (PERIOD.start, PERIOD.end)
    assert json.loads(line) == {"leaf": LEAVES[0].decode(),
                                "proof": [base64.b64encode(h).decode()
                                          for h in TREE.inclusion_proof(0, 11)]}


def test_a_whole_bundle_verifies_and_says_what_it_holds(authority):
    report = verify(bundle(authority))
    assert report.ok, report.problems
    assert report.problems == []
    assert report.entries == 6 and report.provider == "GOV/HMRC" and report.period == PERIOD
    assert report.head == signed_head()
    assert report.cosigned_by == [WITNESS.name]
    assert report.timestamped_at is not None
    assert report.keys[0] == f"log key {KEY.kid} ({ORG})"
    assert f"witness {WITNESS.vkey}" in report.keys
    assert any(k.startswith("timestamping root CN=Test TSA CA (SHA-256 ") for k in report.keys)


def test_without_timestamp_or_cosignatures_it_still_verifies_and_says_so():
    report = verify([header(None, cosignatures=[]), *entries()])
    assert report.ok and report.timestamped_at is None and report.cosigned_by == []


def test_every_entry_of_the_log_when_no_provider_is_named():
    lines = [header(None, provider=None, entries=11), *entries(range(11))]
    report = verify(lines)
    assert report.ok and report.entries == 11 and report.provider is None


@pytest.mark.parametrize(("line", "why"), [
    (b"", "header: the first line is not JSON"),
    (b"[]\n", f"header: not an {FORMAT} bundle"),
    (b'{"format": "other"}\n', f"header: not an {FORMAT} bundle"),
    (canonical_json({"format": FORMAT}) + b"\n", "header: a field is missing or of the "
                                                 "wrong kind"),
])
def test_a_header_that_is_not_one_is_refused_with_nothing_more_checked(line, why):
    report = verify([line, *entries()])
    assert report.problems == [why] and report.head is None and not report.ok


@pytest.mark.parametrize("broken", [
    {"entries": "6"}, {"cosignatures": {}}, {"keys": []}, {"keys": {"jwks": {}}},
    {"provider": None, "drop": "provider"}, {"drop": "rfc3161"}, {"drop": "to"},
])
def test_each_header_field_must_be_there_and_of_its_kind(broken):
    parsed = json.loads(header(None))
    broken = dict(broken)  # the parameter is shared between runs: leave it as it is
    drop = broken.pop("drop", None)
    parsed.update(broken)
    if drop:
        parsed.pop(drop)
    report = verify([canonical_json(parsed) + b"\n", *entries()])
    assert report.problems == ["header: a field is missing or of the wrong kind"]


def test_a_head_signed_by_another_key_or_organisation_is_refused():
    other = SigningKey.generate(ORG)
    head = signed_head()
    forged = SignedTreeHead(head.head, other.sign(head.head.payload()))
    report = verify([header(None, head=forged), *entries()])
    assert report.problems[0].startswith("head: the signed tree head does not verify "
                                         f"against {ORG}'s keys")
    provider_key = SigningKey.generate("GOV/HMRC")
    by_provider = SignedTreeHead(head.head, provider_key.sign(head.head.payload()))
    report = verify([header(None, head=by_provider,
                            jwks=jwks([KEY.public_jwk(), provider_key.public_jwk()])),
                     *entries()])
    assert report.problems[0].startswith("head:")
    assert verify(bundle(), jwks=jwks([other.public_jwk()])).problems[0].startswith("head:")


def test_a_checkpoint_or_origin_that_is_not_the_heads_is_refused():
    parsed = json.loads(header(None))
    parsed["checkpoint"] = body_of(ORIGIN, 10, TREE.root()).decode()
    report = verify([canonical_json(parsed) + b"\n", *entries()])
    assert report.problems == ["checkpoint: it does not name the head's size and root"]
    parsed = json.loads(header(None))
    parsed["origin"] = "two\nlines"
    report = verify([canonical_json(parsed) + b"\n", *entries()])
    assert report.problems == ["header: the origin is not one line"]


def test_cosignatures_are_checked_by_the_witness_keys():
    body = body_of(ORIGIN, 11, TREE.root())
    good = {"witness": WITNESS.name, "timestamp": 5,
            "signature": base64.b64encode(cosign(WITNESS_KEY, body, 5)).decode()}
    other_body = body_of(ORIGIN, 10, TREE.root(10))
    cases = {
        "other checkpoint": {**good, "signature": base64.b64encode(
            cosign(WITNESS_KEY, other_body, 5)).decode()},
        "wrong time shown": {**good, "timestamp": 6},
        "not base64": {**good, "signature": "%%%"},
        "not text": {**good, "signature": 7},
    }
    for name, cosignature in cases.items():
        report = verify([header(None, cosignatures=[cosignature]), *entries()])
        assert report.cosigned_by == [], name
        assert len(report.problems) == 1 and report.problems[0].startswith("cosignatures: "), \
            name
    assert verify([header(None, cosignatures=[cases["wrong time shown"]]), *entries()]
                  ).problems == [f"cosignatures: {WITNESS.name}'s time is not the one it signed"]
    unknown = {**good, "witness": "stranger.example/w"}
    report = verify([header(None, cosignatures=[unknown, "junk"]), *entries()])
    assert report.ok and report.cosigned_by == []  # not trusted: ignored
    bad_key = verify([header(None, witnesses=["not a vkey"]), *entries()])
    assert bad_key.problems[0].startswith("keys: a witness key does not read")
    pinned = Witness(WITNESS.name, Ed25519PrivateKey.generate().public_key())
    assert verify(bundle(), witnesses=[pinned.vkey]).cosigned_by == []
    assert verify(bundle(), witnesses=[WITNESS.vkey]).cosigned_by == [WITNESS.name]


def test_the_timestamp_is_checked_against_the_roots_and_the_head(authority):
    lines = bundle(authority)
    parsed = json.loads(lines[0])
    stranger = TestAuthority(name="Stranger")
    try:
        roots = load_roots(stranger.ca_file.read_bytes())
        theirs = stranger.reply(request_for(b"x").der)
    finally:
        stranger.close()
    assert verify(lines, tsa_roots=roots).problems[0].startswith(
        "rfc3161: the timestamp of the head does not verify: ")
    assert verify(lines, tsa_roots=load_roots(authority.ca_file.read_bytes())).ok
    for change, why in [({"stamped_at": "2000-01-01T00:00:00+00:00"},
                         "rfc3161: the time shown is not the token's"),
                        ({"token": base64.b64encode(theirs).decode()}, "rfc3161: the timestamp"),
                        ({"token": "%%"}, "rfc3161: the timestamp"),
                        ({"token": None}, "rfc3161: the timestamp")]:
        altered = {**parsed, "rfc3161": {**parsed["rfc3161"], **change}}
        report = verify([canonical_json(altered) + b"\n", *lines[1:]])
        assert len(report.problems) == 1 and report.problems[0].startswith(why), change
    altered = {**parsed, "keys": {**parsed["keys"], "tsa_roots": ["not pem"]}}
    report = verify([canonical_json(altered) + b"\n", *lines[1:]])
    assert report.problems[0].startswith("keys: an authority certificate does not read")


HEAD = signed_head()


@pytest.mark.parametrize(("line", "why"), [
    (b"not json", "is not an entry line (a leaf and its proof)"),
    (b"{}", "is not an entry line (a leaf and its proof)"),
    (canonical_json({"leaf": 5, "proof": []}), "is not an entry line (a leaf and its proof)"),
    (canonical_json({"leaf": "[]", "proof": []}), "is not an entry line (a leaf and its proof)"),
    (canonical_json({"leaf": '{"index": "2", "at": "x"}', "proof": []}),
     "is not an entry line (a leaf and its proof)"),
    (canonical_json({"leaf": '{"index": 2, "at": 5}', "proof": []}),
     "is not an entry line (a leaf and its proof)"),
    (canonical_json({"leaf": LEAVES[2].decode(), "proof": ["%%"]}),
     "is not an entry line (a leaf and its proof)"),
])
def test_an_entry_line_that_is_not_one_is_named(line, why):
    assert entry_problem(line, HEAD, "GOV/HMRC", PERIOD, -1) == (None, why)


def test_an_entry_is_checked_for_form_order_provider_period_and_proof():
    def problem(line: bytes, provider: str | None = "GOV/HMRC", after: int = -1):
        return entry_problem(line, HEAD, provider, PERIOD, after)

    good = entries([2])[0]
    assert problem(good) == (2, None)
    assert problem(good, after=1) == (2, None)
    assert problem(good, after=2) == (2, "is out of order or repeated")
    assert problem(good, after=3) == (2, "is out of order or repeated")
    assert problem(entries([3])[0]) == (3, "is not about GOV/HMRC's data")
    assert problem(entries([3])[0], provider=None) == (3, None)
    # The proof commits to the leaf's exact bytes: the same entry spelt otherwise fails it.
    spaced = canonical_json({"leaf": json.dumps(json.loads(LEAVES[2])),
                             "proof": json.loads(good)["proof"]})
    assert problem(spaced) == (2, "its inclusion proof does not lead to the head of 11 "
                                  "entries")
    for at in ("2025-12-31T23:59:59.999999Z", PERIOD.end):
        outside = leaf(2, at=at)
        assert problem(entry_line(outside, TREE.inclusion_proof(2, 11))) == (
            2, f"is outside the period ({at})")
    assert problem(entry_line(leaf(2, at=PERIOD.start), TREE.inclusion_proof(2, 11)))[1] == \
        "its inclusion proof does not lead to the head of 11 entries"  # in the period
    wrong_proof = entry_line(LEAVES[2], TREE.inclusion_proof(4, 11))
    assert problem(wrong_proof) == (2, "its inclusion proof does not lead to the head of 11 "
                                       "entries")
    beyond = entry_line(leaf(12), TREE.inclusion_proof(2, 11))
    assert problem(beyond)[1].startswith("its inclusion proof does not lead")


def test_entry_problems_are_named_by_index_and_line_and_counted():
    lines = [header(None), *entries()]
    report = verify([lines[0], lines[1], lines[3], lines[2], *lines[4:]])
    assert report.problems == ["entry 2 (line 4) is out of order or repeated"]
    assert report.entries == 5
    report = verify([lines[0], lines[1], b"junk\n", *lines[2:]])
    assert report.problems == [
        "entry (line 3) is not an entry line (a leaf and its proof)",
        "entries: the bundle holds 7 entry lines, its header says 6"]
    many = [header(None, entries=MAX_PROBLEMS + 3)] + [b"junk\n"] * (MAX_PROBLEMS + 3)
    report = verify(many)
    assert len(report.problems) == MAX_PROBLEMS + 1
    assert report.problems[-1] == "and 3 more entries with problems"
    exactly = [header(None, entries=MAX_PROBLEMS)] + [b"junk\n"] * MAX_PROBLEMS
    assert len(verify(exactly).problems) == MAX_PROBLEMS


def test_a_report_without_a_head_or_with_problems_is_not_ok():
    report = verify(bundle())
    assert report.ok
    assert not replace(report, problems=["x"]).ok
    assert not replace(report, head=None).ok


@pytest.mark.parametrize("text", [
    "plain", "quote \" and \\ backslash", "controls \x00\x01\x1f\b\f\n\r\t",
    "del \x7f, é, \u2028, \U0001f600", ""])
def test_an_entry_line_is_the_rfc8785_form_of_its_leaf_and_proof(text):
    leaf_bytes = canonical_json({"index": 1, "note": text})
    line = entry_line(leaf_bytes, [bytes(32), bytes(range(32))])
    assert line == canonical_json({"leaf": leaf_bytes.decode(), "proof": [
        base64.b64encode(bytes(32)).decode(), base64.b64encode(bytes(range(32))).decode()]}) + b"\n"
    raw = entry_line(text.encode(), [])
    assert raw == canonical_json({"leaf": text, "proof": []}) + b"\n"


@pytest.mark.parametrize("node", ["%%", "AAAA!", 5, None, "AA==AA==", "é"])
def test_a_proof_hash_that_is_not_strict_base64_makes_the_line_unreadable(node):
    line = canonical_json({"leaf": LEAVES[2].decode(), "proof": [node]})
    assert entry_problem(line, HEAD, "GOV/HMRC", PERIOD, -1) == (
        None, "is not an entry line (a leaf and its proof)")


def test_an_empty_bundle_is_refused_at_its_header():
    assert verify([]).problems == ["header: the first line is not JSON"]


def test_the_head_is_checked_against_the_log_organisation_the_header_names():
    other = SigningKey.generate("GOV/OTHER")
    head = signed_head()
    theirs = SignedTreeHead(head.head, other.sign(head.head.payload()))
    lines = [header(None, head=theirs, log_org="GOV/OTHER",
                    jwks=jwks([other.public_jwk()])), *entries()]
    assert verify(lines).ok


SECOND_KEY = Ed25519PrivateKey.generate()
SECOND = Witness("second.example/witness", SECOND_KEY.public_key())


def cosigned_by(key: Ed25519PrivateKey, witness: Witness, **changes) -> dict:
    body = body_of(ORIGIN, 11, TREE.root())
    made = {"witness": witness.name, "timestamp": 5,
            "signature": base64.b64encode(cosign(key, body, 5)).decode()}
    return {**made, **changes}


@pytest.mark.parametrize("first", [
    cosigned_by(WITNESS_KEY, SECOND),  # does not verify with the second's key
    cosigned_by(SECOND_KEY, SECOND, signature="AAAA!"),  # not base64
    cosigned_by(SECOND_KEY, SECOND, timestamp=6),  # not the time signed
    cosigned_by(SECOND_KEY, Witness("stranger.example/w", SECOND_KEY.public_key())),
])
def test_one_bad_cosignature_does_not_hide_the_good_ones_after_it(first):
    good = cosigned_by(WITNESS_KEY, WITNESS)
    report = verify([header(None, cosignatures=[first, good],
                            witnesses=["not a vkey", SECOND.vkey, WITNESS.vkey]), *entries()])
    assert report.cosigned_by == [WITNESS.name]


def test_a_signature_that_is_not_base64_is_named():
    report = verify([header(None, cosignatures=[cosigned_by(WITNESS_KEY, WITNESS,
                                                            signature=7)]), *entries()])
    assert report.problems == [f"cosignatures: {WITNESS.name}'s signature is not base64 text"]
    good = cosigned_by(WITNESS_KEY, WITNESS)["signature"]
    loose = good[:10] + "!" + good[10:]  # decodes to the signature if stray text is dropped
    report = verify([header(None, cosignatures=[cosigned_by(WITNESS_KEY, WITNESS,
                                                            signature=loose)]), *entries()])
    assert report.cosigned_by == [] and report.problems[0].startswith(
        f"cosignatures: {WITNESS.name}'s signature is not base64: ")


def test_entries_are_checked_for_the_headers_provider_and_a_negative_index_is_refused():
    lines = [header(None, entries=2), entries([0])[0], entries([1])[0]]
    assert verify(lines).problems == ["entry 1 (line 3) is not about GOV/HMRC's data"]
    negative = entry_line(leaf(-1), [])
    assert verify([header(None, entries=1), negative]).problems == [
        "entry -1 (line 2) is out of order or repeated"]
