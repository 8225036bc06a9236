"""The keys an organisation holds itself: what a registrable key is, its purposes, who
manages it, and its retirement with an overlap."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain.errors import DomainError
from onceonly.domain.org_keys import (
    DEFAULT_OVERLAP,
    MAX_OVERLAP,
    PRIVATE_MEMBERS,
    KeyPurpose,
    OrgKey,
    overlap_of,
    public_jwk,
    purposes_of,
    require_key_manager,
)
from onceonly.domain.organisations import Role
from tests.unit.factories import NOW, principal

X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"  # RFC 8037 A.2's public key


def refused(call, *args) -> DomainError:
    with pytest.raises(DomainError) as error:
        call(*args)
    return error.value


def test_a_public_ed25519_jwk_is_kept_to_its_three_members():
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "mine", "use": "sig"}
    assert public_jwk(jwk) == {"kty": "OKP", "crv": "Ed25519", "x": X}


@pytest.mark.parametrize("member", PRIVATE_MEMBERS)
def test_a_jwk_with_any_private_member_is_refused_without_naming_its_value(member):
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": X, member: "c2VjcmV0LXZhbHVl"}
    error = refused(public_jwk, jwk)
    assert (error.kind, error.code) == ("invalid", "private_key_refused")
    assert "c2VjcmV0LXZhbHVl" not in error.detail and repr(member) in error.detail
    assert "Nothing was stored" in error.detail


def test_the_private_key_is_refused_before_its_kind_is_looked_at():
    assert refused(public_jwk, {"kty": "RSA", "d": "x"}).code == "private_key_refused"


def test_private_members_are_those_of_rfc_7518_and_8037():
    assert set(PRIVATE_MEMBERS) == {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.mark.parametrize("jwk", [
    {"kty": "EC", "crv": "Ed25519", "x": X}, {"kty": "OKP", "crv": "X25519", "x": X},
    {"kty": "OKP", "x": X}, {"crv": "Ed25519", "x": X}])
def test_only_ed25519_keys_are_taken(jwk):
    error = refused(public_jwk, jwk)
    assert (error.kind, error.code) == ("invalid", "unsupported_key")


@pytest.mark.parametrize("x", [None, 42, "", X[:-1], X + "A", X[:-1] + "B", X[:-1] + "=",
                               "+" + X[1:], " " + X[1:], X + "\n"])
def test_x_must_be_32_bytes_of_unpadded_base64url(x):
    jwk = {"kty": "OKP", "crv": "Ed25519"} | ({} if x is None else {"x": x})
    error = refused(public_jwk, jwk)
    assert (error.kind, error.code) == ("invalid", "invalid_jwk")


@pytest.mark.parametrize("last", "AEIMQUYcgkosw048")
def test_each_possible_last_character_of_a_32_byte_key_is_taken(last):
    assert public_jwk({"kty": "OKP", "crv": "Ed25519", "x": X[:-1] + last})["x"][-1] == last


@pytest.mark.parametrize("jwk", [None, "key", ["d"], 3])
def test_a_key_that_is_no_object_is_refused(jwk):
    error = refused(public_jwk, jwk)
    assert (error.kind, error.code) == ("invalid", "invalid_jwk")


def test_purposes():
    assert purposes_of(["sign"]) == {KeyPurpose.SIGN}
    assert purposes_of(["verify", "sign", "verify"]) == {KeyPurpose.SIGN, KeyPurpose.VERIFY}
    for bad in ([], ["encrypt"], ["sign", "Sign"]):
        error = refused(purposes_of, bad)
        assert (error.kind, error.code) == ("invalid", "invalid_purpose")
    assert "'encrypt'" in refused(purposes_of, ["encrypt"]).detail


def test_overlap_bounds():
    assert overlap_of(timedelta(0)) == timedelta(0)
    assert overlap_of(MAX_OVERLAP) == MAX_OVERLAP
    assert timedelta(days=90) == MAX_OVERLAP and timedelta(days=7) == DEFAULT_OVERLAP
    for bad in (timedelta(seconds=-1), MAX_OVERLAP + timedelta(seconds=1)):
        error = refused(overlap_of, bad)
        assert (error.kind, error.code) == ("invalid", "invalid_overlap")
        assert "between 0 and 90 days" in error.detail


def test_who_manages_an_organisations_keys():
    require_key_manager(principal("GOV/DWP", Role.GUARDIAN), "GOV/DWP")
    require_key_manager(principal("GOV/DWP", Role.ORG_ADMIN), "GOV/DWP")
    require_key_manager(principal("GOV/EXCHANGE", Role.ADMIN), "GOV/DWP")
    for role in (Role.GUARDIAN, Role.ORG_ADMIN):
        error = refused(require_key_manager, principal("GOV/HMRC", role), "GOV/DWP")
        assert (error.kind, error.code) == ("forbidden", "not_your_organisation")
        assert "GOV/DWP" in error.detail
    for role in (Role.OFFICER, Role.MANAGER, Role.CITIZEN):
        error = refused(require_key_manager, principal("GOV/DWP", role), "GOV/DWP")
        assert (error.kind, error.code) == ("forbidden", "role_not_allowed")
        assert "GOV/DWP" in error.detail


def key() -> OrgKey:
    return OrgKey("kid1", "GOV/DWP", {"kty": "OKP", "crv": "Ed25519", "x": X},
                  frozenset({KeyPurpose.SIGN}), NOW, "GOV/DWP:guardian")


def test_a_key_verifies_until_the_end_of_its_overlap_once_retired():
    fresh = key()
    assert fresh.usable_at(NOW + timedelta(days=10_000))
    retired = fresh.retire(NOW, timedelta(hours=1))
    assert (retired.retired_at, retired.not_after) == (NOW, NOW + timedelta(hours=1))
    assert retired.usable_at(NOW + timedelta(minutes=59))
    assert not retired.usable_at(NOW + timedelta(hours=1))
    assert fresh.retired_at is None  # unchanged


def test_a_key_is_retired_once_and_within_the_overlap_bounds():
    error = refused(key().retire(NOW, timedelta(0)).retire, NOW, timedelta(0))
    assert (error.kind, error.code) == ("conflict", "key_retired") and "kid1" in error.detail
    assert refused(key().retire, NOW, MAX_OVERLAP * 2).code == "invalid_overlap"


def test_a_registered_key_is_published_as_not_hosted():
    both = OrgKey("kid1", "GOV/DWP", {"kty": "OKP", "crv": "Ed25519", "x": X},
                  frozenset({KeyPurpose.VERIFY, KeyPurpose.SIGN}), NOW, "someone")
    assert both.published() == {"kty": "OKP", "crv": "Ed25519", "x": X, "kid": "kid1",
                                "alg": "Ed25519", "use": "sig", "org": "GOV/DWP",
                                "hosted": False, "purposes": ["sign", "verify"]}
