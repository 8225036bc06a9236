"""An organisation's own administrators (services/people.py) on SQLite and PostgreSQL:
they make and disable their own officers, guardians, managers and service accounts, and
never another organisation's; a disabled person's tokens and web sessions stop at once;
an officer's training lapsed is refused by an agreement that requires it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.crypto.tokens import new_token, token_digest
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Principal, Role
from onceonly.services.people import NewPerson
from onceonly.services.queries import QueryCommand, QueryRefused
from tests.integration.test_use_limits import limited_agreement, ninos

TABLES = (t.principals, t.api_tokens, t.training_records, t.web_sessions)


def counts(exchange) -> dict[str, int]:
    with exchange.engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in TABLES}


def denials(exchange, action: str) -> list[tuple[str | None, str | None]]:
    log = t.audit_log
    with exchange.engine.connect() as conn:
        return [(r.reason, r.actor_id) for r in conn.execute(
            select(log.c.reason, log.c.actor_id)
            .where(log.c.action == action, log.c.outcome == "deny").order_by(log.c.seq))]


def refused(call, *args) -> DomainError:
    with pytest.raises(DomainError) as error:
        call(*args)
    return error.value


@pytest.fixture
def dwp_admin(exchange, world) -> Principal:
    """GOV/DWP's own administrator, made by the exchange's."""
    admin = next(a.principal for a in world.accounts if a.label == "admin")
    issued = exchange.people.add(admin, NewPerson("GOV/DWP", "DWP administrator",
                                                  Role.ORG_ADMIN))
    return exchange.auth.authenticate(issued.token)


def test_an_org_admin_makes_its_own_people_and_service_accounts(exchange, dwp_admin):
    officer = exchange.people.add(dwp_admin, NewPerson("GOV/DWP", "Olive Officer",
                                                       Role.OFFICER, days=7))
    service = exchange.people.add(dwp_admin, NewPerson(
        "GOV/DWP", "Benefits batch", Role.OFFICER, system_id="GOV/DWP/benefits"))

    assert exchange.auth.authenticate(officer.token).id == officer.principal.id
    assert officer.expires_on == (exchange.clock.now() + timedelta(days=7)).date()
    as_system = exchange.auth.authenticate(service.token)
    assert (as_system.org_id, as_system.system_id) == ("GOV/DWP", "GOV/DWP/benefits")
    listed = {m.principal.id: m for m in exchange.people.list(dwp_admin)}
    assert {officer.principal.id, service.principal.id, dwp_admin.id} <= listed.keys()
    assert all(m.principal.org_id == "GOV/DWP" for m in listed.values())
    assert listed[service.principal.id].live_tokens == 1

    again = exchange.people.issue_token(dwp_admin, service.principal.id, 2)
    assert exchange.people.revoke_tokens(dwp_admin, service.principal.id) == 2
    for token in (service.token, again.token):
        assert refused(exchange.auth.authenticate, token).code == "token_revoked"


@pytest.mark.parametrize(("new", "code"), [
    (NewPerson("GOV/HMRC", "Not mine", Role.OFFICER), "not_your_organisation"),
    (NewPerson("GOV/DWP", "Mine", Role.OFFICER, system_id="GOV/HMRC/income"),
     "not_your_organisation"),
    (NewPerson("GOV/DWP", "Another admin", Role.ORG_ADMIN), "role_not_allowed"),
    (NewPerson("GOV/DWP", "An operator", Role.ADMIN), "role_not_allowed"),
])
def test_an_org_admin_never_makes_people_for_another_organisation(exchange, dwp_admin, new,
                                                                  code):
    before = counts(exchange)

    error = refused(exchange.people.add, dwp_admin, new)

    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, code)
    assert counts(exchange) == before
    assert denials(exchange, "people.add") == [(code, dwp_admin.id)]


def test_an_org_admin_never_touches_another_organisations_people(exchange, world, dwp_admin):
    hmrc = next(a.principal for a in world.accounts if a.label == "guardian:GOV/HMRC")
    before = counts(exchange)

    for call, action in ((exchange.people.disable, "people.disable"),
                         (exchange.people.revoke_tokens, "people.token_revoke"),
                         (exchange.people.issue_token, "people.token_issue")):
        error = refused(call, dwp_admin, hmrc.id)
        assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "not_your_organisation")
        assert denials(exchange, action) == [("not_your_organisation", dwp_admin.id)]
    error = refused(exchange.people.list, dwp_admin, "GOV/HMRC")
    assert error.code == "not_your_organisation"
    assert counts(exchange) == before
    exchange.auth.authenticate(world.token("guardian:GOV/HMRC"))  # untouched


def test_an_officer_may_not_keep_people(exchange, world):
    officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")

    error = refused(exchange.people.add, officer, NewPerson("GOV/DWP", "x", Role.OFFICER))

    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")


def test_a_disabled_person_is_refused_on_the_next_request_token_and_session(exchange,
                                                                           dwp_admin):
    issued = exchange.people.add(dwp_admin, NewPerson("GOV/DWP", "Leaver", Role.GUARDIAN))
    session = exchange.accounts.sign_in_with_token(issued.token)
    assert exchange.accounts.session(session.session_id).id == issued.principal.id

    assert exchange.people.disable(dwp_admin, issued.principal.id) == 1

    error = refused(exchange.auth.authenticate, issued.token)
    assert (error.kind, error.code) == (ErrorKind.UNAUTHENTICATED, "principal_disabled")
    error = refused(exchange.accounts.session, session.session_id)
    assert (error.kind, error.code) == (ErrorKind.UNAUTHENTICATED, "principal_disabled")
    listed = {m.principal.id: m for m in exchange.people.list(dwp_admin)}
    assert listed[issued.principal.id].disabled_at is not None
    assert listed[issued.principal.id].live_tokens == 0


def test_a_disabled_persons_token_issued_afterwards_is_still_refused(exchange, dwp_admin):
    issued = exchange.people.add(dwp_admin, NewPerson("GOV/DWP", "Leaver", Role.OFFICER))
    exchange.people.disable(dwp_admin, issued.principal.id)
    escaped = new_token()
    with exchange.uows(write=True) as uow:  # a token that escaped revocation
        uow.principals.add_token(token_digest(escaped), issued.principal.id,
                                 exchange.clock.now(), exchange.clock.now() + timedelta(days=1))
        uow.commit()

    error = refused(exchange.auth.authenticate, escaped)
    assert (error.kind, error.code) == (ErrorKind.UNAUTHENTICATED, "principal_disabled")


# -- training --------------------------------------------------------------------------------

def ask(exchange, officer: Principal, agreement_id: int, nino: str):
    return exchange.queries.query(officer, QueryCommand(
        agreement_id, "nino", nino, ("income_band",), "benefit-entitlement"))


def test_an_agreement_that_requires_training_refuses_an_officer_whose_training_lapsed(
        exchange, world, dwp_admin):
    required = limited_agreement(exchange, world, requires_training=True)
    plain = limited_agreement(exchange, world)
    officer = exchange.auth.authenticate(world.token("officer:GOV/DWP"))
    nino = ninos(exchange, 1)[0]
    today = exchange.clock.now().date()

    with pytest.raises(QueryRefused) as untrained:
        ask(exchange, officer, required, nino)
    assert untrained.value.code == "training_lapsed"
    ask(exchange, officer, plain, nino)  # an agreement that does not require it

    exchange.people.record_training(dwp_admin, officer.id, today - timedelta(days=400),
                                    today - timedelta(days=1))
    with pytest.raises(QueryRefused) as lapsed:
        ask(exchange, officer, required, nino)
    assert (lapsed.value.kind, lapsed.value.code) == (ErrorKind.FORBIDDEN, "training_lapsed")
    log = t.audit_log
    with exchange.engine.connect() as conn:
        audited = conn.execute(select(func.count()).select_from(log).where(
            log.c.action == "query.decision", log.c.reason == "training_lapsed",
            log.c.actor_id == officer.id, log.c.agreement_id == required)).scalar_one()
    assert audited == 2
    assert officer.id in {m.principal.id for m in exchange.people.lapsing(dwp_admin)}

    exchange.people.record_training(dwp_admin, officer.id, today, today)  # valid today
    assert ask(exchange, officer, required, nino).agreement_id == required
    assert officer.id in {m.principal.id for m in exchange.people.lapsing(dwp_admin, days=1)}
    assert officer.id not in {m.principal.id for m in exchange.people.lapsing(dwp_admin,
                                                                              days=0)}


@pytest.mark.parametrize(("completed", "until", "code"), [
    (date(2026, 12, 2), date(2026, 12, 1), "invalid_training")])
def test_bad_training_records_are_refused(exchange, world, dwp_admin, completed, until, code):
    officer = next(a.principal for a in world.accounts if a.label == "officer:GOV/DWP")
    before = counts(exchange)

    error = refused(exchange.people.record_training, dwp_admin, officer.id, completed, until)

    assert error.code == code
    assert counts(exchange) == before
    assert denials(exchange, "people.training") == [(code, dwp_admin.id)]
    guardian = next(a.principal for a in world.accounts if a.label == "guardian:GOV/HMRC")
    other = refused(exchange.people.record_training, dwp_admin, guardian.id, completed,
                    completed)
    assert other.code == "not_your_organisation"


def test_the_exchanges_administrator_makes_no_administrator_of_another_organisation(
        exchange, world) -> None:
    """The rule of `onceonly token issue --role admin`, as the API's people calls keep it:
    an exchange administrator is the operator's, never a member's."""
    admin = next(a.principal for a in world.accounts if a.label == "admin")
    before = counts(exchange)
    error = refused(exchange.people.add, admin, NewPerson("GOV/DWP", "Not an operator",
                                                          Role.ADMIN))
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    assert counts(exchange) == before
    assert denials(exchange, "people.add")[-1] == ("role_not_allowed", admin.id)
