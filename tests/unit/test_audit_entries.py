"""Audit entries (their leaf bytes, who may read them, officer pseudonyms) and signed tree
heads: pure, no I/O."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onceonly.audit.entries import (
    AuditEntry,
    AuditRecord,
    EntryUnreadable,
    UnreadableEntry,
    check_canonical,
    may_read,
    officer_pseudonym,
    read_record,
    stored_leaf,
    timestamp,
)
from onceonly.audit.heads import (
    HeadRef,
    SignedTreeHead,
    TreeHead,
    b64,
    unb64,
    verify_tree_head,
)
from onceonly.crypto.canonical import orjson_exact
from onceonly.crypto.signing import SignatureInvalid, SigningKey, jwks
from onceonly.domain.organisations import Principal, Role

AT = datetime(2026, 11, 24, 12, 0, 0, 5, tzinfo=UTC)
RELEASE = AuditEntry("query.release", "permit", "dwp.officer", "GOV/DWP", agreement_id=1,
                     provider_id="GOV/HMRC", purpose="benefit-entitlement", person_key="P1",
                     fields=("income_band",), values_hash="ab" * 32)


def test_the_leaf_is_canonical_json_of_the_whole_entry_with_its_index():
    leaf = AuditRecord(7, AT, RELEASE).leaf()
    document = json.loads(leaf)
    assert document["index"] == 7
    assert document["at"] == "2026-11-24T12:00:00.000005Z"
    assert document["fields"] == ["income_band"]
    assert leaf == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    # The same entry at another index, or a moment later, is another leaf.
    assert AuditRecord(8, AT, RELEASE).leaf() != leaf
    assert AuditRecord(7, AT + timedelta(microseconds=1), RELEASE).leaf() != leaf


def test_the_time_is_spelt_one_way_whatever_the_zone():
    elsewhere = AT.astimezone(tz=None).replace(microsecond=5)
    assert AuditRecord(1, elsewhere, RELEASE).leaf() == AuditRecord(1, AT, RELEASE).leaf()


def who(role: Role, org: str = "GOV/HMRC", id_: str = "someone", person: str | None = None):
    return Principal(id_, "Name", org, role, person_key=person)


HIDDEN = AuditEntry("query.release", "permit", "met.officer", "POL/MET", provider_id="GOV/DVLA",
                    person_key="P1", hidden_until=AT + timedelta(days=90))


@pytest.mark.parametrize(("reader", "entry", "now", "allowed"), [
    (who(Role.CITIZEN, person="P1"), RELEASE, AT, True),
    (who(Role.CITIZEN, person="P2"), RELEASE, AT, False),
    (who(Role.CITIZEN, person=None), RELEASE, AT, False),
    (who(Role.CITIZEN, person="P1"), HIDDEN, AT, False),
    (who(Role.CITIZEN, person="P1"), HIDDEN, AT + timedelta(days=90), True),
    (who(Role.OFFICER, "GOV/DWP", "dwp.officer"), RELEASE, AT, True),
    (who(Role.OFFICER, "GOV/DWP", "dwp.other"), RELEASE, AT, False),
    (who(Role.GUARDIAN, "GOV/HMRC"), RELEASE, AT, True),  # about HMRC's data
    (who(Role.GUARDIAN, "GOV/DWP"), RELEASE, AT, True),  # by DWP's officer
    (who(Role.GUARDIAN, "GOV/DVLA"), RELEASE, AT, False),
    (who(Role.MANAGER, "GOV/EXCHANGE"), RELEASE, AT, False),
    (who(Role.ADMIN, "GOV/EXCHANGE"), HIDDEN, AT, True),
])
def test_who_may_read_an_entry(reader, entry, now, allowed):
    assert may_read(reader, AuditRecord(0, AT, entry), now) is allowed


def test_officer_pseudonyms_are_stable_keyed_and_reveal_no_name():
    key = b"k" * 32
    first = officer_pseudonym(key, "dwp.officer")
    assert first == officer_pseudonym(key, "dwp.officer")
    assert first != officer_pseudonym(key, "dwp.other")
    assert first != officer_pseudonym(b"x" * 32, "dwp.officer")
    assert first is not None and "dwp" not in first
    assert officer_pseudonym(key, None) is None


KEY = SigningKey.generate("GOV/EXCHANGE")
KEYS = jwks([KEY.public_jwk()])


def signed(head: TreeHead, key: SigningKey = KEY) -> dict:
    return SignedTreeHead(head, key.sign(head.payload())).as_json()


def test_a_signed_tree_head_verifies_and_says_what_it_signed():
    head = TreeHead(5, b"\x01" * 32, 1_700_000_000_000)
    assert verify_tree_head(signed(head), KEYS).head == head


@pytest.mark.parametrize("change", [
    {"tree_size": 6},
    {"root_hash": b64(b"\x02" * 32)},
    {"timestamp": 1},
    {"signature": "not.a.jws"},
    {"signature": None},
])
def test_a_tree_head_whose_fields_differ_from_its_signature_fails(change):
    document = signed(TreeHead(5, b"\x01" * 32, 1_700_000_000_000)) | change
    with pytest.raises(SignatureInvalid):
        verify_tree_head(document, KEYS)


def test_a_tree_head_signed_by_another_key_fails():
    other = SigningKey.generate("GOV/EXCHANGE")
    with pytest.raises(SignatureInvalid):
        verify_tree_head(signed(TreeHead(1, b"\x01" * 32, 1), other), KEYS)


def test_a_signed_payload_that_is_not_canonical_fails():
    payload = json.dumps({"tree_size": 1, "root_hash": b64(b"\x01" * 32), "timestamp": 1},
                         indent=1).encode()
    document = {"tree_size": 1, "root_hash": b64(b"\x01" * 32), "timestamp": 1,
                "signature": KEY.sign(payload)}
    with pytest.raises(SignatureInvalid, match="canonical"):
        verify_tree_head(document, KEYS)


@pytest.mark.parametrize("text", ["not base64!", "AQ", "AQ==\n"])
def test_hashes_from_outside_must_be_strict_base64(text):
    with pytest.raises(ValueError):
        unb64(text)


@pytest.mark.parametrize("detail", [
    {"n": 2**53},
    {"n": -(2**53)},
    {"x": float("nan")},
    {"x": float("inf")},
    {1: "not a text key"},
    {"s": "\ud800"},
    {"nested": [{"deep": {1, 2}}]},
    {"when": AT},
])
def test_an_entry_with_no_canonical_form_is_refused(detail):
    entry = AuditEntry("x", "done", None, None, detail=detail)
    with pytest.raises(ValueError):
        check_canonical(entry)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.text()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(detail=st.dictionaries(st.text(), JSON_VALUES, max_size=5), reason=st.text())
def test_whatever_the_check_accepts_has_a_leaf(detail, reason):
    """The check stands in for encoding at append: it must never pass an entry the
    integrator then cannot encode."""
    entry = AuditEntry("x", "done", None, None, reason=reason, detail=detail)
    try:
        check_canonical(entry)
    except ValueError:
        return  # refused at append: fine, nothing reaches the log
    assert AuditRecord(0, AT, entry).leaf()


# -- tree heads name the one before them -----------------------------------------------------


def test_a_chained_head_signs_its_predecessor_and_verifies():
    head = TreeHead(9, b"\x01" * 32, 1_700_000_000_000, HeadRef(5, b"\x02" * 32))
    document = signed(head)

    assert json.loads(head.payload())["previous"] == {"tree_size": 5,
                                                      "root_hash": b64(b"\x02" * 32)}
    assert document["previous"] == {"tree_size": 5, "root_hash": b64(b"\x02" * 32)}
    assert verify_tree_head(document, KEYS).head == head


@pytest.mark.parametrize("change", [
    {"previous": {"tree_size": 4, "root_hash": b64(b"\x02" * 32)}},
    {"previous": {"tree_size": 5, "root_hash": b64(b"\x03" * 32)}},
    {"previous": None},
])
def test_a_predecessor_shown_otherwise_than_signed_fails(change):
    document = signed(TreeHead(9, b"\x01" * 32, 1, HeadRef(5, b"\x02" * 32))) | change
    with pytest.raises(SignatureInvalid, match="differ"):
        verify_tree_head(document, KEYS)


def test_a_head_from_before_heads_were_chained_still_verifies():
    """Signed before `previous` was in the payload (a state file kept by `audit check`, a
    head stored before the migration): nothing to name, nothing to compare."""
    head = TreeHead(5, b"\x01" * 32, 1)
    document = signed(head)
    assert "previous" not in json.loads(head.payload()) and "previous" not in document

    assert verify_tree_head(document, KEYS).head.previous is None
    assert verify_tree_head(document | {"previous": None}, KEYS).head == head


# -- a stored row read back: named when it does not read ----------------------------------------


def stored(**changes) -> dict:
    values = {"at": AT, "action": "query.release", "outcome": "permit", "reason": None,
              "actor_id": "dwp.officer", "org_id": "GOV/DWP", "agreement_id": 1,
              "provider_id": "GOV/HMRC", "purpose": "benefit-entitlement", "person_key": "P1",
              "fields": ["income_band"], "values_hash": "ab" * 32, "detail": {},
              "hidden_until": None}
    return values | changes


def test_a_row_as_appended_reads_back_as_its_entry():
    assert read_record(7, stored()) == AuditRecord(7, AT, RELEASE)


@pytest.mark.parametrize(("changes", "why"), [
    ({"fields": 5}, "fields is a number, not a list of names"),
    ({"fields": ["a", 1]}, "fields is a list, not a list of names"),
    ({"detail": [1, 2]}, "detail is a list, not a JSON object"),
    ({"detail": None}, "detail is null, not a JSON object"),
    ({"detail": {"n": 2**60}}, "cannot carry exactly"),
    ({"detail": {"n": float("nan")}}, "cannot carry exactly"),
    ({"at": "2026-11-24"}, "at is not a time"),
    ({"at": datetime(2026, 11, 24)}, "at is not a time"),  # no zone: no single instant
    ({"hidden_until": 5}, "hidden_until is not a time"),
    ({"agreement_id": True}, "agreement_id is a boolean, not an integer"),
    ({"agreement_id": 1.0}, "agreement_id is a number, not an integer"),
    ({"action": None}, "action is null, not text"),
    ({"purpose": b"\x00"}, "purpose is binary data, not text"),
    ({"reason": "\ud800"}, "cannot carry exactly"),
])
def test_a_row_that_does_not_read_is_named_with_why_never_its_value(changes, why):
    found = read_record(7, stored(**changes))

    assert isinstance(found, UnreadableEntry)
    assert found.index == 7 and why in found.why
    assert str(found).startswith("entry 7: unreadable (")
    assert "2026" not in found.why and "\\x00" not in found.why


def test_a_row_hidden_until_a_time_reads_back_with_it():
    until = datetime(2027, 1, 1, tzinfo=UTC)
    assert read_record(7, stored(hidden_until=until)) == AuditRecord(
        7, AT, replace(RELEASE, hidden_until=until))


@pytest.mark.parametrize(("changes", "why"), [
    ({"action": 5}, "action is a number, not text"),
    ({"outcome": {}}, "outcome is an object, not text"),
    ({"org_id": Decimal("1")}, "org_id is a Decimal, not text"),
    ({"agreement_id": "1"}, "agreement_id is text, not an integer"),
    ({"at": None}, "at is not a time"),
    ({"hidden_until": "2027-01-01"}, "hidden_until is not a time"),
    ({"detail": {"n": 2**60}}, "it holds a value JSON cannot carry exactly (a number beyond "
                               "2**53 or not finite, or text not Unicode)"),
])
def test_why_a_row_does_not_read_is_said_exactly(changes, why):
    """What an operator's alert says of an altered row: the column and the kind of what is
    there, word for word."""
    assert read_record(7, stored(**changes)) == UnreadableEntry(7, why)


def test_one_unreadable_entry_asked_for_raises_naming_it():
    unreadable = UnreadableEntry(3, "at is not a time")
    error = EntryUnreadable(unreadable)
    assert str(error) == "entry 3: unreadable (at is not a time)"
    assert error.unreadable is unreadable


def test_an_officer_pseudonym_is_48_bits_of_keyed_hash():
    key = b"k" * 32
    expected = hmac.new(key, b"dwp.officer", hashlib.sha256).hexdigest()[:12]
    assert officer_pseudonym(key, "dwp.officer") == f"officer-{expected}"


def test_a_verified_tree_head_keeps_its_signature():
    document = signed(TreeHead(5, b"\x01" * 32, 1_700_000_000_000))
    verified = verify_tree_head(document, KEYS)
    assert verified.signature == document["signature"]
    assert verified.as_json() == document


def test_why_a_tree_head_fails_is_said():
    head = TreeHead(5, b"\x01" * 32, 1_700_000_000_000)
    with pytest.raises(SignatureInvalid, match="^not a tree head: 'tree_size'$"):
        verify_tree_head({"signature": KEY.sign(b'{"root_hash":""}')}, KEYS)
    with pytest.raises(SignatureInvalid,
                       match="^the tree head's fields differ from what its signature covers$"):
        verify_tree_head(signed(head) | {"tree_size": 6}, KEYS)
    payload = json.dumps({"tree_size": 1, "root_hash": b64(b"\x01" * 32), "timestamp": 1},
                         indent=1).encode()
    with pytest.raises(SignatureInvalid,
                       match="^the signed tree head is not in canonical form$"):
        verify_tree_head({"signature": KEY.sign(payload)}, KEYS)


def test_an_entry_as_json_member_by_member():
    """Every member of the leaf, by name: a renamed or dropped one would change what the
    tree commits to without any other test seeing it."""
    until = datetime(2027, 1, 1, tzinfo=UTC)
    entry = replace(RELEASE, reason="r", detail={"k": 1}, hidden_until=until)
    expected = {
        "index": 7, "at": "2026-11-24T12:00:00.000005Z", "action": "query.release",
        "outcome": "permit", "reason": "r", "actor_id": "dwp.officer", "org_id": "GOV/DWP",
        "agreement_id": 1, "provider_id": "GOV/HMRC", "purpose": "benefit-entitlement",
        "person_key": "P1", "fields": ["income_band"], "values_hash": "ab" * 32,
        "detail": {"k": 1}, "hidden_until": "2027-01-01T00:00:00.000000Z"}
    assert AuditRecord(7, AT, entry).as_json() == expected
    assert AuditRecord(7, AT, RELEASE).as_json() == expected | {
        "reason": None, "detail": {}, "hidden_until": None}


def test_times_are_spelt_in_utc_whatever_the_machines_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert timestamp(AT) == "2026-11-24T12:00:00.000005Z"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(("value", "why"), [
    (2**53, "9007199254740992 is beyond the integers JSON holds exactly"),
    (-(2**53), "-9007199254740992 is beyond the integers JSON holds exactly"),
    (float("inf"), "inf is not a JSON number"),
    ({1: "a"}, "JSON object keys are text, not 1"),
    ({"\ud800": "a"}, None),
    (b"x", "a bytes has no JSON form"),
])
def test_what_has_no_canonical_form_is_said(value, why):
    with pytest.raises(ValueError) as caught:
        check_canonical(replace(RELEASE, detail={"v": value}))
    if why is not None:
        assert str(caught.value) == why


def test_the_largest_integers_json_holds_exactly_are_accepted():
    check_canonical(replace(RELEASE, detail={"max": 2**53 - 1, "min": -(2**53 - 1)}))


# -- a leaf straight from stored values (`audit verify` and bundles) ------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | _TEXT | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8)
_TIMES = st.datetimes(timezones=st.just(UTC))


# The largest integers RFC 8785 writes exactly, and the first beyond them, on both sides.
_BOUNDS = st.sampled_from([2**53 - 1, -(2**53 - 1), 2**53, -(2**53)])


@given(action=_TEXT, reason=st.none() | _TEXT, agreement_id=st.none() | _BOUNDS | st.integers(
    -(2**60), 2**60), fields=st.lists(_TEXT, max_size=3),
    detail=st.dictionaries(_TEXT, _JSON, max_size=4), at=_TIMES,
    hidden_until=st.none() | _TIMES, purpose=st.none() | _TEXT,
    person_key=st.none() | _TEXT, values_hash=st.none() | _TEXT)
def test_a_leaf_from_stored_values_is_the_entrys_leaf_wherever_it_answers(
        action, reason, agreement_id, fields, detail, at, hidden_until, purpose, person_key,
        values_hash):
    entry = AuditEntry(action, "permit", "officer-1", "GOV/DWP", reason=reason,
                       agreement_id=agreement_id, provider_id="GOV/HMRC", fields=tuple(fields),
                       detail=detail, hidden_until=hidden_until, purpose=purpose,
                       person_key=person_key, values_hash=values_hash)
    record = AuditRecord(7, at, entry)
    quick = stored_leaf(7, timestamp(at), action, "permit", reason, "officer-1", "GOV/DWP",
                        agreement_id, "GOV/HMRC", purpose, person_key, list(fields), values_hash,
                        detail, timestamp(hidden_until) if hidden_until else None)
    # It answers exactly where orjson's output is the RFC 8785 form (no float, no integer
    # beyond 2**53, keys of the Basic Multilingual Plane), and then with the same bytes.
    assert (quick is not None) == orjson_exact(record.as_json())
    if quick is not None:
        assert quick == record.leaf()


@pytest.mark.parametrize("agreement_id", [2**53 - 1, -(2**53 - 1)])
def test_a_leaf_from_stored_values_answers_at_the_largest_exact_integers(agreement_id):
    entry = AuditEntry("query.release", "permit", "officer-1", "GOV/DWP",
                       agreement_id=agreement_id, provider_id="GOV/HMRC",
                       purpose="benefit-eligibility", person_key="pk-1", values_hash="ab12")
    at = datetime(2026, 11, 24, 12, tzinfo=UTC)
    leaf = stored_leaf(7, timestamp(at), "query.release", "permit", None, "officer-1",
                       "GOV/DWP", agreement_id, "GOV/HMRC", "benefit-eligibility", "pk-1", [],
                       "ab12", {}, None)
    assert leaf == AuditRecord(7, at, entry).leaf()


@pytest.mark.parametrize(("position", "value"), [
    (1, 5), (2, None), (3, b"permit"), (6, True), (6, 2**53), (10, ("a",)), (10, ["a", 1]),
    (12, ["not", "an object"]), (12, {"n": 1.5}), (12, {1: "key not text"}),
    (1, "lone \ud800 surrogate")])
def test_a_leaf_from_stored_values_is_refused_unless_they_are_as_appends_write_them(
        position, value):
    values: list[object] = [7, "query.release", "permit", None, "officer-1", "GOV/DWP", 1,
                            "GOV/HMRC", None, None, ["income_band"], None, {}]
    assert stored_leaf(values[0], "2026-11-24T12:00:00.000005Z", *values[1:], None) is not None
    values[position] = value
    assert stored_leaf(values[0], "2026-11-24T12:00:00.000005Z", *values[1:], None) is None
