"""Members of an exchange (services/members.py) on SQLite and PostgreSQL: a new exchange
initialised once; organisations, systems and schemes registered, each bad input refused
with its code, audited, and nothing changed; a member suspended with every agreement in
force it is party to, its tokens refused at once, then resumed or deregistered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.kms_file import FileMasterKeys, create_key_file
from onceonly.bootstrap import bootstrap
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import MemberStatus, Principal, Role, Scheme
from onceonly.services.members import Initialised

OPERATOR = "GOV/EXCHANGE"
TABLES = (t.organisations, t.systems, t.identifier_schemes, t.organisation_schemes,
          t.principals, t.api_tokens, t.signing_keys, t.member_events, t.agreements)


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
def initialised(exchange) -> Initialised:
    return exchange.members.initialise(OPERATOR, "The exchange's operator")


# -- a new exchange --------------------------------------------------------------------------

def test_init_makes_the_operator_its_key_an_empty_tree_head_and_a_first_admin(exchange):
    done = exchange.members.initialise(OPERATOR, "  The operator  ")

    assert (done.operator.id, done.operator.name) == (OPERATOR, "The operator")
    admin = exchange.auth.authenticate(done.token)
    assert (admin.id, admin.org_id, admin.role) == (done.admin.id, OPERATOR, Role.ADMIN)
    catalogue = exchange.catalogue.read()
    assert [o.id for o in catalogue.organisations] == [OPERATOR]
    assert catalogue.datasets == ()
    assert [k["kid"] for k in exchange.key_store.jwks()["keys"]] == [done.kid]
    head = exchange.audit.tree_head()
    assert head.head.tree_size == 0
    with exchange.engine.connect() as conn:
        inits = conn.execute(select(t.audit_log.c.actor_id, t.audit_log.c.detail)
                             .where(t.audit_log.c.action == "exchange.init")).all()
    assert [(a, d["kid"]) for a, d in inits] == [(admin.id, done.kid)]


def test_init_a_second_time_is_refused_audited_and_changes_nothing(exchange, initialised):
    before = counts(exchange)

    error = refused(exchange.members.initialise, OPERATOR, "Again")

    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "already_initialised")
    assert error.detail == "this exchange is already initialised"
    assert counts(exchange) == before
    assert denials(exchange, "exchange.init") == [("already_initialised", None)]


def test_init_without_the_master_key_writes_nothing_and_a_rerun_with_it_succeeds(
        exchange, tmp_path):
    """All or nothing: an operator committed without its key would make every rerun say
    "already initialised" of an exchange that cannot sign."""
    key_file = tmp_path / "master-keys.json"
    keyless = bootstrap(engine=exchange.engine, master_keys=FileMasterKeys(key_file))

    error = refused(keyless.members.initialise, OPERATOR, "The operator")

    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "key_store_unavailable")
    assert str(key_file) in error.detail and "Nothing was initialised" in error.detail
    assert set(counts(exchange).values()) == {0}
    assert denials(exchange, "exchange.init") == [("key_store_unavailable", None)]

    create_key_file(key_file)
    done = keyless.members.initialise(OPERATOR, "The operator")

    assert [k["kid"] for k in keyless.key_store.jwks()["keys"]] == [done.kid]
    assert keyless.auth.authenticate(done.token).id == done.admin.id


@pytest.mark.parametrize(("operator", "code"), [
    ("GOV/OTHER", "operator_mismatch"), ("XX/EXCHANGE", "unknown_member_class"),
    ("gov/exchange", "invalid_org_id")])
def test_init_with_a_bad_operator_is_refused_and_makes_nothing(exchange, operator, code):
    error = refused(exchange.members.initialise, operator, "Operator")

    assert (error.kind, error.code) == (ErrorKind.INVALID, code)
    assert counts(exchange)["organisations"] == 0
    assert denials(exchange, "exchange.init") == [(code, None)]


# -- members, systems, schemes ---------------------------------------------------------------

def test_registering_a_member_its_system_and_scheme(exchange, initialised):
    admin = initialised.admin

    org = exchange.members.register(admin, "LA/EASTSHIRE", "Eastshire Council")
    system = exchange.members.add_system(admin, "LA/EASTSHIRE/housing", "Housing")
    scheme = exchange.members.add_scheme(
        admin, Scheme("uprn", "Property reference", "LA/EASTSHIRE", "^[0-9]{1,12}$"))

    assert (org.id, org.status) == ("LA/EASTSHIRE", MemberStatus.ACTIVE)
    assert system == "LA/EASTSHIRE/housing"
    assert scheme in exchange.members.schemes(admin)
    listed = {o.id: o for o in exchange.members.list(admin)}
    assert listed["LA/EASTSHIRE"].systems == ("LA/EASTSHIRE/housing",)
    assert exchange.key_store.jwks("LA/EASTSHIRE")["keys"]  # a key held on its behalf
    with exchange.engine.connect() as conn:
        assert conn.execute(select(t.organisation_schemes.c.scheme).where(
            t.organisation_schemes.c.org_id == "LA/EASTSHIRE")).scalars().all() == ["uprn"]
        done = conn.execute(select(t.audit_log.c.action).where(
            t.audit_log.c.outcome == "done", t.audit_log.c.actor_id == admin.id)
            .order_by(t.audit_log.c.seq)).scalars().all()
    assert done[-3:] == ["member.register", "member.system_add", "scheme.add"]
    assert [e.action for e in exchange.members.history(admin, "LA/EASTSHIRE")] == ["register"]


def _register(exchange, admin, value):
    return exchange.members.register(admin, value, "A name")


def _system(exchange, admin, value):
    return exchange.members.add_system(admin, value, "A system")


def _scheme(exchange, admin, value):
    return exchange.members.add_scheme(admin, Scheme(*value))


@pytest.mark.parametrize(("call", "value", "kind", "code", "action"), [
    (_register, "LA/EASTSHIRE", ErrorKind.CONFLICT, "already_exists", "member.register"),
    (_register, "XX/FOO", ErrorKind.INVALID, "unknown_member_class", "member.register"),
    (_register, "la/eastshire", ErrorKind.INVALID, "invalid_org_id", "member.register"),
    (_register, "LA/EASTSHIRE/x", ErrorKind.INVALID, "invalid_org_id", "member.register"),
    (_system, "LA/EASTSHIRE/housing", ErrorKind.CONFLICT, "already_exists",
     "member.system_add"),
    (_system, "LA/EASTSHIRE", ErrorKind.INVALID, "invalid_system_id", "member.system_add"),
    (_system, "LA/NOWHERE/housing", ErrorKind.NOT_FOUND, "unknown_organisation",
     "member.system_add"),
    (_scheme, ("uprn", "Again", "LA/EASTSHIRE", "^x$"), ErrorKind.CONFLICT, "already_exists",
     "scheme.add"),
    (_scheme, ("bad", "Bad", "LA/EASTSHIRE", "(["), ErrorKind.INVALID, "invalid_pattern",
     "scheme.add"),
    (_scheme, ("Bad Code", "Bad", "LA/EASTSHIRE", "^x$"), ErrorKind.INVALID,
     "invalid_scheme_code", "scheme.add"),
    (_scheme, ("lost", "Lost", "LA/NOWHERE", "^x$"), ErrorKind.NOT_FOUND,
     "unknown_organisation", "scheme.add"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_registrations_are_refused_audited_and_change_nothing(exchange, initialised, call,
                                                                  value, kind, code, action):
    admin = initialised.admin
    exchange.members.register(admin, "LA/EASTSHIRE", "Eastshire Council")
    exchange.members.add_system(admin, "LA/EASTSHIRE/housing", "Housing")
    exchange.members.add_scheme(admin, Scheme("uprn", "UPRN", "LA/EASTSHIRE", "^[0-9]+$"))
    before = counts(exchange)

    error = refused(call, exchange, admin, value)

    assert (error.kind, error.code) == (kind, code)
    assert counts(exchange) == before
    assert denials(exchange, action) == [(code, admin.id)]


@pytest.mark.parametrize("someone", [
    Principal("la.admin", "Not the operator", OPERATOR, Role.MANAGER),
    Principal("la.admin", "Another's admin", "LA/EASTSHIRE", Role.ADMIN),
    Principal("la.admin", "Another's admin", "LA/EASTSHIRE", Role.ORG_ADMIN)])
def test_only_the_exchanges_administrators_register_members(exchange, initialised, someone):
    before = counts(exchange)

    error = refused(exchange.members.register, someone, "LA/WESTSHIRE", "Westshire")

    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    assert counts(exchange) == before
    assert denials(exchange, "member.register") == [("role_not_allowed", "la.admin")]


# -- suspension ------------------------------------------------------------------------------

def admin_of(world) -> Principal:
    return next(a.principal for a in world.accounts if a.label == "admin")


def statuses(exchange) -> dict[int, tuple[str, str, AgreementStatus]]:
    with exchange.uows() as uow:
        return {a.id: (a.provider_id, a.consumer_id, a.status)
                for a in uow.agreements.list_for(None)}


def test_a_suspended_member_takes_its_agreements_and_tokens_with_it_until_resumed(exchange,
                                                                                 world):
    admin, dwp_token = admin_of(world), world.token("officer:GOV/DWP")
    before = statuses(exchange)
    parties = {i for i, (p, c, s) in before.items()
               if "GOV/DWP" in (p, c) and s is AgreementStatus.APPROVED}
    assert parties

    event = exchange.members.suspend(admin, "GOV/DWP", "fraud inquiry")

    assert set(event.agreement_ids) == parties
    after = statuses(exchange)
    assert {i for i, v in after.items() if v[2] is AgreementStatus.SUSPENDED} == parties
    assert {i: v for i, v in after.items() if i not in parties} == \
        {i: v for i, v in before.items() if i not in parties}
    error = refused(exchange.auth.authenticate, dwp_token)
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "member_suspended")
    assert ("member_suspended", None) in denials(exchange, "auth")
    exchange.auth.authenticate(world.token("officer:GOV/DVLA"))  # others carry on

    resumed = exchange.members.resume(admin, "GOV/DWP", "inquiry closed")

    assert set(resumed.agreement_ids) == parties
    assert statuses(exchange) == before
    assert exchange.auth.authenticate(dwp_token).org_id == "GOV/DWP"
    history = exchange.members.history(admin, "GOV/DWP")
    assert [(e.action, e.reason) for e in history] == [
        ("register", "registered"), ("suspend", "fraud inquiry"),
        ("resume", "inquiry closed")]


def test_a_deregistered_member_is_refused_and_its_history_kept(exchange, world):
    admin = admin_of(world)

    exchange.members.deregister(admin, "COM/ACME", "left the scheme")

    error = refused(exchange.auth.authenticate, world.token("officer:COM/ACME"))
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "member_deregistered")
    assert all(s is not AgreementStatus.APPROVED for p, c, s in statuses(exchange).values()
               if "COM/ACME" in (p, c))
    assert [e.action for e in exchange.members.history(admin, "COM/ACME")] == [
        "register", "deregister"]
    again = refused(exchange.members.resume, admin, "COM/ACME", "back")
    assert (again.kind, again.code) == (ErrorKind.CONFLICT, "member_state")


@pytest.mark.parametrize(("org", "reason", "code"), [
    ("GOV/EXCHANGE", "why", "operator_member"), ("GOV/NOWHERE", "why", "unknown_organisation"),
    ("GOV/DWP", "  ", "reason_required")])
def test_bad_suspensions_are_refused_audited_and_change_nothing(exchange, world, org, reason,
                                                                code):
    admin = admin_of(world)
    before, rows = statuses(exchange), counts(exchange)

    error = refused(exchange.members.suspend, admin, org, reason)

    assert error.code == code
    assert statuses(exchange) == before and counts(exchange) == rows
    assert denials(exchange, "member.suspend") == [(code, admin.id)]
