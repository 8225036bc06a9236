"""An organisation's own keys on fakes: registered, rotated and retired by its guardian,
each step audited; refusals audited and changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain.errors import DomainError
from onceonly.domain.org_keys import DEFAULT_OVERLAP, KeyPurpose
from onceonly.domain.organisations import Role
from onceonly.services.org_keys import OrgKeyService
from tests.fakes.clock import FixedClock
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW, principal
from tests.unit.services.conftest import CONSUMER, PROVIDER

GUARDIAN = principal(CONSUMER, Role.GUARDIAN)
X1 = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
X2 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
KID1 = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"  # RFC 8037 A.3's thumbprint of X1


def jwk(x: str = X1, **more: str) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": x, **more}


@pytest.fixture
def keys(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> OrgKeyService:
    uows.data.hosted_keys["hosted-1"] = CONSUMER
    return OrgKeyService(uows, clock)


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_register_stores_the_public_key_under_its_thumbprint_and_audits(
        keys: OrgKeyService, uows: FakeUnitOfWorkFactory) -> None:
    key = keys.register(GUARDIAN, CONSUMER, jwk(kid="ignored", use="sig"), ["verify"])
    assert key.kid == KID1 and dict(key.jwk) == jwk()
    assert key.purposes == {KeyPurpose.VERIFY} and key.registered_at == NOW
    assert uows.data.org_keys[KID1] == key
    [entry] = uows.data.audit
    assert (entry.entry.action, entry.entry.outcome, entry.entry.actor_id) == (
        "key.register", "done", GUARDIAN.id)
    assert entry.entry.detail == {"org": CONSUMER, "kid": KID1, "purposes": ["verify"]}
    listed = keys.list(CONSUMER)
    assert listed.registered == (key,) and listed.hosted == (("hosted-1", True),)


@pytest.mark.parametrize(("actor", "org", "document", "purposes", "code"), [
    (GUARDIAN, CONSUMER, jwk(d="c2VjcmV0"), ["sign"], "private_key_refused"),
    (GUARDIAN, CONSUMER, jwk(crv="X25519"), ["sign"], "unsupported_key"),
    (GUARDIAN, CONSUMER, jwk(x="short"), ["sign"], "invalid_jwk"),
    (GUARDIAN, CONSUMER, jwk(), ["encrypt"], "invalid_purpose"),
    (principal(PROVIDER, Role.GUARDIAN), CONSUMER, jwk(), ["sign"], "not_your_organisation"),
    (principal(CONSUMER, Role.OFFICER), CONSUMER, jwk(), ["sign"], "role_not_allowed"),
    (principal("GOV/EXCHANGE", Role.ADMIN), "GOV/NOSUCH", jwk(), ["sign"],
     "organisation_unknown"),
])
def test_refusals_are_audited_and_store_nothing(keys: OrgKeyService,
                                                uows: FakeUnitOfWorkFactory,
                                                actor, org, document, purposes, code) -> None:
    assert refused(keys.register, actor, org, document, purposes).code == code
    assert uows.data.org_keys == {}
    [entry] = uows.data.audit
    assert (entry.entry.action, entry.entry.outcome, entry.entry.reason) == (
        "key.register", "deny", code)
    assert "c2VjcmV0" not in repr(entry)


def test_a_key_is_registered_once_hosted_or_not(keys: OrgKeyService,
                                                uows: FakeUnitOfWorkFactory) -> None:
    keys.register(GUARDIAN, CONSUMER, jwk(), ["sign"])
    assert refused(keys.register, GUARDIAN, CONSUMER, jwk(), ["sign"]).code == "already_exists"
    other = keys.register(GUARDIAN, CONSUMER, jwk(X2), ["sign"]).kid
    del uows.data.org_keys[other]  # now a key the exchange holds
    uows.data.hosted_keys[other] = CONSUMER
    assert refused(keys.register, GUARDIAN, CONSUMER, jwk(X2), ["sign"]).code == \
        "already_exists"


def test_a_rotation_retires_the_old_key_with_its_overlap_in_the_same_step(
        keys: OrgKeyService, uows: FakeUnitOfWorkFactory) -> None:
    old = keys.register(GUARDIAN, CONSUMER, jwk(), ["sign"])
    new = keys.register(GUARDIAN, CONSUMER, jwk(X2), ["sign"], replaces=old.kid,
                        overlap=timedelta(hours=5))
    stored = uows.data.org_keys[old.kid]
    assert (stored.retired_at, stored.not_after) == (NOW, NOW + timedelta(hours=5))
    assert uows.data.org_keys[new.kid].retired_at is None
    entry = uows.data.audit[-1].entry
    assert (entry.action, entry.detail["replaces"], entry.detail["kid"]) == (
        "key.rotate", old.kid, new.kid)
    # Replacing a key retired already, or unknown, or too long an overlap: nothing changes.
    for replaces, overlap, code in ((old.kid, DEFAULT_OVERLAP, "key_retired"),
                                    ("nosuch", DEFAULT_OVERLAP, "key_unknown"),
                                    (new.kid, timedelta(days=91), "invalid_overlap")):
        before = dict(uows.data.org_keys)
        error = refused(keys.register, GUARDIAN, CONSUMER, jwk(x=X1[:-1] + "A"), ["sign"],
                        replaces=replaces, overlap=overlap)
        assert error.code == code and uows.data.org_keys == before
        assert uows.data.audit[-1].entry.action == "key.rotate"


def test_retire(keys: OrgKeyService, uows: FakeUnitOfWorkFactory) -> None:
    key = keys.register(GUARDIAN, CONSUMER, jwk(), ["sign"])
    retired = keys.retire(GUARDIAN, CONSUMER, key.kid, timedelta(0))
    assert retired.not_after == NOW and uows.data.org_keys[key.kid] == retired
    assert uows.data.audit[-1].entry.detail["not_after"] == NOW.isoformat()
    assert refused(keys.retire, GUARDIAN, CONSUMER, key.kid).code == "key_retired"
    assert refused(keys.retire, GUARDIAN, PROVIDER, key.kid).code == "not_your_organisation"
    admin = principal("GOV/EXCHANGE", Role.ADMIN)
    assert refused(keys.retire, admin, PROVIDER, key.kid).code == "key_unknown"
    assert [e.entry.reason for e in uows.data.audit[-3:]] == [
        "key_retired", "not_your_organisation", "key_unknown"]
