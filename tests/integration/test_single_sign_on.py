"""Single sign-on's storage on SQLite and PostgreSQL: a sign-in under way is good once and
not after it expires, a provider's person is linked to one principal, a citizen waits in
the queue once, and a session started through a provider is forgotten as it ends."""

from __future__ import annotations

from datetime import timedelta

from onceonly.adapters.db import tables as t
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider
from onceonly.services.ports.single_sign_on import Attempt

ISSUER = "https://login.dwp.example"


def test_an_attempt_is_taken_once_and_not_once_expired(exchange, clock):
    now = clock.now()
    with exchange.uows(write=True) as uow:
        uow.sign_in_attempts.add("d1", Attempt("GOV/X", "s", "n", "v", now + timedelta(
            minutes=10)), now)
        uow.sign_in_attempts.add("d2", Attempt(None, "s2", "n2", "v2", now + timedelta(
            minutes=1)), now)
        uow.commit()
    with exchange.uows(write=True) as uow:
        assert uow.sign_in_attempts.take("d1", now) == Attempt(
            "GOV/X", "s", "n", "v", now + timedelta(minutes=10))
        assert uow.sign_in_attempts.take("d1", now) is None
        assert uow.sign_in_attempts.take("d2", now + timedelta(minutes=2)) is None
        assert uow.sign_in_attempts.take("d2", now) is None  # gone, even unused
        uow.commit()


def test_expired_attempts_are_forgotten_as_new_ones_come(exchange, clock):
    now = clock.now()
    with exchange.uows(write=True) as uow:
        uow.sign_in_attempts.add("old", Attempt(None, "s", "n", "v", now), now)
        uow.sign_in_attempts.add("new", Attempt(None, "s", "n", "v", now + timedelta(
            minutes=10)), now + timedelta(seconds=1))
        uow.commit()
    with exchange.engine.connect() as conn:
        assert [r.digest for r in conn.execute(t.sign_in_attempts.select())] == ["new"]


def test_a_provider_is_stored_as_registered_and_replaced(world, exchange, clock):
    provider = IdentityProvider("GOV/DWP", ISSUER, "c", ClientAuth.CLIENT_SECRET_POST,
                                "env:DWP", person_claim="email", roles={
                                    "g": Role.GUARDIAN, "o": Role.OFFICER},
                                org_claim="org", scopes=("openid", "groups"))
    with exchange.uows(write=True) as uow:
        uow.identity_providers.put(provider, "admin", clock.now())
        uow.identity_providers.put(provider, "admin", clock.now())
        uow.commit()
    with exchange.uows() as uow:
        assert uow.identity_providers.get("GOV/DWP") == provider
        assert uow.identity_providers.all() == [provider]
        assert uow.identity_providers.get("GOV/HMRC") is None


def test_people_sessions_and_the_queue(world, exchange, clock):
    officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
    now = clock.now()
    with exchange.uows(write=True) as uow:
        uow.provider_people.link(ISSUER, "person-1", officer.id, now)
        uow.provider_people.update_staff(officer.id, "Renamed", Role.GUARDIAN.value)
        assert uow.provider_people.queue(
            ISSUER, "sub-1", "pk", {"full_name": "similar"}, now) is None
        assert uow.provider_people.queue(ISSUER, "sub-1", "pk", {}, now) == "pending"
        assert uow.provider_people.decide(ISSUER, "sub-1", "rejected") == "pk"
        assert uow.provider_people.queue(ISSUER, "sub-1", "pk", {}, now) == "rejected"
        assert uow.provider_people.waiting() == []
        uow.provider_sessions.add("digest", "GOV/DWP", "id-token", now)
        uow.commit()
    with exchange.uows(write=True) as uow:
        assert uow.provider_people.principal_of(ISSUER, "person-1") == officer.id
        assert uow.provider_people.principal_of(ISSUER, "person-2") is None
        assert uow.provider_people.principal_of("https://other", "person-1") is None
        assert not uow.provider_people.disabled(officer.id)
        assert uow.principals.get(officer.id).role is Role.GUARDIAN
        assert uow.provider_sessions.take("digest") == ("GOV/DWP", "id-token")
        assert uow.provider_sessions.take("digest") is None
        uow.principals.add(Principal("citizen.t1", "C", "GOV/EXCHANGE", Role.CITIZEN, "pk-1"))
        assert uow.provider_people.citizen_of("pk-1") == "citizen.t1"
        assert uow.provider_people.citizen_of("nobody") is None
        uow.commit()
