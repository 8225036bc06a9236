"""Consent through the service layer, on SQLite and PostgreSQL: an agreement resting on
consent answers only while a live consent covers it; a withdrawal made through one exchange
(another server process, its own engine) refuses the very next query made through another;
receipts are signed; refusals and previews are audited."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import select

from onceonly.adapters.db import tables as t
from onceonly.bootstrap import bootstrap
from onceonly.crypto.signing import verify_compact
from onceonly.domain.agreements import FieldGrant, LegalBasis, PrivacyAssessment, Risk
from onceonly.domain.consent import fields_covered
from onceonly.domain.errors import DomainError
from onceonly.services.agreements import DraftCommand
from onceonly.services.ports.identity import ConsentQuestion
from onceonly.services.queries import QueryCommand, QueryRefused


def account(world, label):
    return next(a.principal for a in world.accounts if a.label == label)


def citizen(world):
    return replace(account(world, "citizen"), person_key=world.citizen_ids["person_key"])


def bank_query(world):
    return QueryCommand(4, "nino", world.citizen_ids["nino"], ("income_band",),
                        "mortgage-affordability")


def last_audit(exchange, action):
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)
                            .order_by(t.audit_log.c.seq.desc()).limit(1)).first()


def grant(exchange, world, **changes):
    args = dict(purpose="mortgage-affordability", consumer_id="COM/NORTHBANK",
                fields=["income_band"], expires_at=exchange.clock.now() + timedelta(days=30))
    args.update(changes)
    return exchange.consents.grant(citizen(world), **args)


def refused_code(call) -> str:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.code


def test_consent_permits_and_a_withdrawal_on_another_process_refuses_the_next_query(
        exchange, world, db_url, clock):
    bank = account(world, "officer:COM/NORTHBANK")
    other = bootstrap(db_url, clock=clock)  # another server process: its own engine and pool
    try:
        assert refused_code(lambda: other.queries.query(bank, bank_query(world))) \
            == "consent_missing"
        consent, _ = grant(exchange, world)
        release = other.queries.query(bank, bank_query(world))  # granted here, seen there
        assert set(release.data) == {"income_band"}
        assert release.sources == {"income_band": "derived"}

        exchange.consents.withdraw(citizen(world), consent.id)
        with pytest.raises(QueryRefused) as refused:
            other.queries.query(bank, bank_query(world))
        assert refused.value.code == "consent_missing"
    finally:
        other.close()


def test_the_stored_check_agrees_with_the_domain_rule(exchange, world, clock):
    consent, _ = grant(exchange, world)
    person, now = consent.person_key, clock.now()
    cases = [("COM/NORTHBANK", "mortgage-affordability", ("income_band",), now),
             ("COM/ACME", "mortgage-affordability", ("income_band",), now),
             ("COM/NORTHBANK", "benefit-entitlement", ("income_band",), now),
             ("COM/NORTHBANK", "mortgage-affordability", ("income_band", "full_name"), now),
             ("COM/NORTHBANK", "mortgage-affordability", ("income_band",),
              consent.granted_at - timedelta(seconds=1)),
             ("COM/NORTHBANK", "mortgage-affordability", ("income_band",), consent.expires_at)]
    with exchange.uows() as uow:
        stored = [exchange.bulk.consents.has_consent(uow, person, *case) for case in cases]
        # The query reads them with the person, in the statement that names them.
        named = [fields_covered(uow.identities.name(
                     "COM/NORTHBANK", "nino", world.citizen_ids["nino"], "nino",
                     ConsentQuestion(consumer, purpose, at)).subject.consented, fields)
                 for consumer, purpose, fields, at in cases]
    assert stored == named == [consent.covers(*case) for case in cases] \
        == [True, False, False, False, False, False]


def test_the_person_named_with_consents_is_the_person_named_without(exchange, world, clock):
    grant(exchange, world)
    grant(exchange, world, consumer_id=None)  # to any consumer for the purpose
    question = ConsentQuestion("COM/NORTHBANK", "mortgage-affordability", clock.now())
    with exchange.uows() as uow:
        plain = uow.identities.name("COM/NORTHBANK", "nino", world.citizen_ids["nino"], "nino")
        asked = uow.identities.name("COM/NORTHBANK", "nino", world.citizen_ids["nino"], "nino",
                                    question)
        nobody = uow.identities.name("COM/NORTHBANK", "nino", "ZZ999999Z", "nino", question)
    assert plain.subject is not None and asked.subject is not None
    assert (asked.subject.person_key, asked.subject.provider_value, asked.allowed,
            asked.pairwise) == (plain.subject.person_key, plain.subject.provider_value,
                                plain.allowed, plain.pairwise)
    assert plain.subject.consented == () and nobody.subject is None
    assert asked.subject.consented == (("income_band",), ("income_band",))


def test_a_consent_covers_only_what_it_names(exchange, world, clock):
    bank = account(world, "officer:COM/NORTHBANK")
    grant(exchange, world, consumer_id=None, expires_at=clock.now() + timedelta(hours=1))
    exchange.queries.query(bank, bank_query(world))  # any consumer for the purpose
    clock.advance(timedelta(hours=1))
    try:
        assert refused_code(lambda: exchange.queries.query(bank, bank_query(world))) \
            == "consent_missing"  # expired
    finally:
        clock.advance(timedelta(hours=-1))


def test_receipts_of_grant_and_withdrawal_are_signed_by_the_operator(exchange, world):
    consent, granted = grant(exchange, world)
    _, withdrawn = exchange.consents.withdraw(citizen(world), consent.id)
    jwks = exchange.key_store.jwks()
    operator_kids = {k["kid"] for k in jwks["keys"] if k["org"] == "GOV/EXCHANGE"}
    for receipt in (granted, withdrawn):
        payload, kid = verify_compact(receipt.jws, jwks, "GOV/EXCHANGE")
        assert json.loads(payload) == receipt.document and kid in operator_kids
        assert json.loads(receipt.document["publicKey"])["kid"] == kid
        assert receipt.document["piiPrincipalId"] == world.citizen_ids["person_key"]
    assert granted.document["consentReceiptID"] != withdrawn.document["consentReceiptID"]
    stored = exchange.consents.list(citizen(world))
    assert [(v.grant_receipt, v.withdrawal_receipt) for v in stored] == [
        (granted.jws, withdrawn.jws)]
    assert last_audit(exchange, "consent.withdraw").reason is None


@pytest.mark.parametrize(("changes", "code"), [
    ({"purpose": "no-such-purpose"}, "purpose_unknown"),
    ({"fields": ["annual_income"]}, "field_not_in_purpose"),
    ({"consumer_id": "GOV/DWP"}, "consumer_not_in_purpose"),
])
def test_bad_grants_are_refused_audited_and_change_nothing(exchange, world, changes, code):
    assert refused_code(lambda: grant(exchange, world, **changes)) == code
    row = last_audit(exchange, "consent.grant")
    assert (row.outcome, row.reason, row.person_key) == ("deny", code,
                                                         world.citizen_ids["person_key"])
    assert exchange.consents.list(citizen(world)) == []


def test_withdrawing_someone_elses_consent_looks_like_none_and_is_audited(exchange, world):
    consent, _ = grant(exchange, world)
    stranger = replace(citizen(world), id="someone.else", person_key="another-person")
    assert refused_code(lambda: exchange.consents.withdraw(stranger, consent.id)) \
        == "consent_unknown"
    row = last_audit(exchange, "consent.withdraw")
    assert (row.outcome, row.reason, row.person_key) == ("deny", "consent_not_yours", None)
    assert refused_code(lambda: exchange.consents.withdraw(stranger, "f" * 36)) \
        == "consent_unknown"
    assert last_audit(exchange, "consent.withdraw").reason == "consent_unknown"
    # Nothing changed: the owner's consent still answers.
    exchange.queries.query(account(world, "officer:COM/NORTHBANK"), bank_query(world))


def test_only_a_citizen_manages_consents(exchange, world):
    bank = account(world, "officer:COM/NORTHBANK")
    assert refused_code(lambda: exchange.consents.grant(
        bank, "mortgage-affordability", None, ["income_band"],
        exchange.clock.now() + timedelta(days=1))) == "role_not_allowed"


def test_of_many_simultaneous_withdrawals_exactly_one_succeeds(exchange, world):
    consent, _ = grant(exchange, world)
    results: list[str] = []
    start = threading.Barrier(6)

    def withdraw() -> None:
        start.wait()
        try:
            exchange.consents.withdraw(citizen(world), consent.id)
            results.append("withdrawn")
        except DomainError as error:
            results.append(error.code)

    threads = [threading.Thread(target=withdraw) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["already_withdrawn"] * 5 + ["withdrawn"]
    with exchange.engine.connect() as conn:
        done = conn.execute(select(t.audit_log.c.outcome).where(
            t.audit_log.c.action == "consent.withdraw")).scalars().all()
    assert sorted(done) == ["deny"] * 5 + ["done"]


def test_preview_shows_exactly_what_the_query_would_release_and_is_not_a_release(
        exchange, world):
    preview = exchange.consents.preview(citizen(world), 4)
    assert preview.sources == {"income_band": "derived"}
    with exchange.engine.connect() as conn:
        releases = conn.execute(select(t.audit_log).where(
            t.audit_log.c.action == "query.release")).all()
    row = last_audit(exchange, "consent.preview")
    assert (row.outcome, row.agreement_id, row.fields) == ("done", 4, ["income_band"])
    assert preview.data["income_band"] not in json.dumps(row.detail)
    grant(exchange, world)
    release = exchange.queries.query(account(world, "officer:COM/NORTHBANK"),
                                     bank_query(world))
    assert release.data == preview.data
    with exchange.engine.connect() as conn:
        assert len(conn.execute(select(t.audit_log).where(
            t.audit_log.c.action == "query.release")).all()) == len(releases) + 1


def test_preview_of_an_agreement_not_resting_on_consent_is_refused(exchange, world):
    assert refused_code(lambda: exchange.consents.preview(citizen(world), 1)) \
        == "consent_not_needed"
    assert refused_code(lambda: exchange.consents.preview(citizen(world), 999)) \
        == "agreement_unknown"
    assert last_audit(exchange, "consent.preview").reason == "agreement_unknown"


def test_a_bulk_extract_under_consent_holds_only_those_who_consented(exchange, world):
    bank = account(world, "officer:COM/NORTHBANK")
    guardian = account(world, "guardian:GOV/HMRC")
    now = exchange.clock.now()
    draft = exchange.agreements.draft(bank, DraftCommand(
        dataset_id="GOV/HMRC/income",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code="mortgage-affordability", purpose_text="a batch of applicants",
        legal_basis=LegalBasis.CONSENT, valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30), max_queries_per_day=100, retention_days=30,
        bulk_max_records=10,
        assessment=PrivacyAssessment(Risk.MEDIUM, "assessed", bank.name, now.date())))
    exchange.agreements.transition(bank, draft.id, "submit", "ready")
    exchange.agreements.transition(guardian, draft.id, "approve", "fine")
    with exchange.engine.connect() as conn:
        other = conn.execute(select(t.person_links.c.value).where(
            t.person_links.c.scheme == "nino",
            t.person_links.c.value != world.citizen_ids["nino"]).limit(1)).scalar_one()
    grant(exchange, world)  # the citizen consents; the other applicant does not
    recipient = OKPKey.generate_key("X25519").as_dict(private=False)
    asked = exchange.bulk.request(bank, draft.id, "mortgage-affordability",
                                  [("nino", world.citizen_ids["nino"]), ("nino", other)],
                                  recipient)
    assert exchange.bulk.approve(guardian, asked.id, "two applicants").records == 1
