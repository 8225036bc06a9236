"""Identity across organisations on SQLite and PostgreSQL: pairwise pseudonyms, the refusal
of another organisation's identifier, matching into a guardian's queue, and the audit."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from onceonly.adapters.db import tables as t
from onceonly.adapters.matching_splink import SplinkMatcher
from onceonly.demo.population import Pools, make_person, planted_links
from onceonly.demo.seed import REFERENCE_DAY, SEED
from onceonly.domain.errors import DomainError
from onceonly.domain.identity import PAIRWISE, LinkStatus, MatchRecord, precision_recall
from onceonly.services.identity import IdentityService
from onceonly.services.queries import QueryCommand, QueryRefused
from tests.conftest import WORLD_PEOPLE


def principal(world, label):
    return next(a.principal for a in world.accounts if a.label == label)


def acme_asks(exchange, world, scheme, value):
    return exchange.queries.query(principal(world, "officer:COM/ACME"), QueryCommand(
        3, scheme, value, ("full_name",), "disability-assessment"))


def met_asks(exchange, world, scheme, value):
    return exchange.queries.query(principal(world, "officer:POL/MET"), QueryCommand(
        5, scheme, value, ("full_name",), "crime-prevention"))


def refused(action) -> QueryRefused:
    with pytest.raises(QueryRefused) as refusal:
        action()
    return refusal.value


def audit(exchange, *actions: str) -> list:
    with exchange.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action.in_(actions))
                            .order_by(t.audit_log.c.seq)).all()


def test_a_consumer_without_identifiers_is_named_people_by_a_pseudonym(exchange, world):
    first = acme_asks(exchange, world, "nino", world.citizen_ids["nino"])
    assert first.subject["scheme"] == PAIRWISE
    assert first.subject["value"] != world.citizen_ids["nino"]
    again = acme_asks(exchange, world, PAIRWISE, first.subject["value"])
    assert again.subject == first.subject and again.data == first.data


def test_pseudonyms_of_one_person_differ_between_consumers(exchange, world):
    acme = acme_asks(exchange, world, "nino", world.citizen_ids["nino"])
    met = met_asks(exchange, world, "driver", world.citizen_ids["driver"])
    assert acme.subject["value"] != met.subject["value"]
    assert met_asks(exchange, world, PAIRWISE, met.subject["value"]).subject == met.subject


def test_a_consumer_with_an_identifier_of_its_own_is_named_by_it(exchange, world):
    release = exchange.queries.query(principal(world, "officer:GOV/DWP"), QueryCommand(
        1, "nino", world.citizen_ids["nino"], ("income_band",), "benefit-entitlement"))
    assert release.subject == {"scheme": "nino", "value": world.citizen_ids["nino"]}


def test_another_consumers_pseudonym_is_refused_and_audited(exchange, world):
    acme = acme_asks(exchange, world, "nino", world.citizen_ids["nino"])
    refusal = refused(lambda: met_asks(exchange, world, PAIRWISE, acme.subject["value"]))
    assert refusal.code == "scheme_not_yours"
    denied = audit(exchange, "query.decision")[-1]
    assert (denied.outcome, denied.reason, denied.org_id) == ("deny", "scheme_not_yours",
                                                              "POL/MET")
    assert acme.subject["value"] not in json.dumps(denied.detail)


@pytest.mark.parametrize(("scheme", "id_of"), [("ctr", "ctr"), ("northbank", "northbank"),
                                               (PAIRWISE, None)])
def test_an_identifier_of_another_organisation_is_refused_and_changes_nothing(
        exchange, world, scheme, id_of):
    value = world.citizen_ids[id_of] if id_of else "a" * 52
    before = len(audit(exchange, "query.release"))
    refusal = refused(lambda: exchange.queries.query(
        principal(world, "officer:GOV/DWP"),
        QueryCommand(1, scheme, value, ("income_band",), "benefit-entitlement")))
    assert refusal.code == "scheme_not_yours"
    assert len(audit(exchange, "query.release")) == before
    assert audit(exchange, "query.decision")[-1].reason == "scheme_not_yours"


def test_an_unknown_pseudonym_is_an_unknown_subject(exchange, world):
    assert refused(lambda: acme_asks(exchange, world, PAIRWISE, "b" * 52)).code == \
        "subject_unknown"


def test_a_refused_query_hands_out_no_pseudonym(exchange, world):
    exchange.agreements.transition(principal(world, "guardian:GOV/DWP"), 3, "suspend", "pause")
    refused(lambda: acme_asks(exchange, world, "nino", world.citizen_ids["nino"]))
    with exchange.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.pairwise_pseudonyms)
                            ).scalar_one() == 0


def planted_truth() -> dict[str, str]:
    pools = Pools.make(SEED)
    return {value: person.person_key for index in range(WORLD_PEOPLE)
            for person in [make_person(SEED, index, pools, REFERENCE_DAY)]
            for _, value in planted_links(person)}


def test_matching_proposes_the_planted_links_for_a_guardian(exchange, world):
    run = exchange.identity.match("GOV/DVLA")
    truth = planted_truth()
    assert (run.scheme, run.records, run.applied) == ("driver", len(truth), 0)
    queue = exchange.identity.candidates(principal(world, "guardian:GOV/DVLA"))
    assert len(queue) == run.pending and {c.status for c in queue} == {LinkStatus.PENDING}
    precision, recall = precision_recall({c.value: c.person_key for c in queue}, truth)
    assert (precision, recall) == (1.0, 1.0)
    with exchange.engine.connect() as conn:  # proposed, not applied
        linked = set(conn.execute(select(t.person_links.c.value)
                                  .where(t.person_links.c.scheme == "driver")).scalars())
    assert not linked & truth.keys()
    proposals = audit(exchange, "identity.propose")
    assert len(proposals) == run.pending
    stored = json.dumps([[str(v) for v in row] for row in proposals])
    assert not any(value in stored for value in truth)  # hashed, never the identifier
    again = exchange.identity.match("GOV/DVLA")
    assert (again.pending, again.already_proposed) == (0, run.pending)


def test_a_guardian_confirms_a_link_and_the_police_can_then_ask_by_it(exchange, world):
    exchange.identity.match("GOV/DVLA")
    guardian = principal(world, "guardian:GOV/DVLA")
    chosen, other = exchange.identity.candidates(guardian)[:2]
    assert refused(lambda: met_asks(exchange, world, "driver", chosen.value)).code == \
        "subject_unknown"
    confirmed = exchange.identity.confirm(guardian, chosen.id, "same person: checked")
    assert (confirmed.status, confirmed.decided_by) == (LinkStatus.CONFIRMED, guardian.id)
    assert met_asks(exchange, world, "driver", chosen.value).data["full_name"]
    rejected = exchange.identity.reject(guardian, other.id, "not the same person")
    assert rejected.status is LinkStatus.REJECTED
    refused(lambda: met_asks(exchange, world, "driver", other.value))
    entries = audit(exchange, "identity.confirm", "identity.reject")
    assert [(e.action, e.outcome, e.actor_id, e.person_key) for e in entries] == [
        ("identity.confirm", "done", guardian.id, chosen.person_key),
        ("identity.reject", "done", guardian.id, other.person_key)]
    assert all(e.values_hash and e.fields for e in entries)


@pytest.mark.parametrize(("label", "code"), [("guardian:GOV/DWP", "not_your_identifier"),
                                             ("officer:POL/MET", "role_not_allowed")])
def test_only_a_guardian_of_the_identifiers_organisation_decides(exchange, world, label, code):
    exchange.identity.match("GOV/DVLA")
    candidate = exchange.identity.candidates(principal(world, "guardian:GOV/DVLA"))[0]
    with pytest.raises(DomainError) as refusal:
        exchange.identity.confirm(principal(world, label), candidate.id, "mine now")
    assert refusal.value.code == code
    denied = audit(exchange, "identity.confirm")[-1]
    assert (denied.outcome, denied.reason) == ("deny", code)
    assert exchange.identity.candidates(principal(world, "guardian:GOV/DVLA"))[0] == candidate


def test_a_decision_is_made_once_and_an_unknown_candidate_is_not_found(exchange, world):
    exchange.identity.match("GOV/DVLA")
    guardian = principal(world, "guardian:GOV/DVLA")
    candidate = exchange.identity.candidates(guardian)[0]
    exchange.identity.reject(guardian, candidate.id, "no")
    for action, code in ((lambda: exchange.identity.confirm(guardian, candidate.id, "yes"),
                          "already_decided"),
                         (lambda: exchange.identity.reject(guardian, 10**6, "no"),
                          "link_candidate_unknown")):
        with pytest.raises(DomainError) as refusal:
            action()
        assert refusal.value.code == code


class NinoCarryingRecords:
    """A fake of the MatchSources port: a new organisation's records that carry a NINO."""

    def __init__(self, exchange):
        with exchange.engine.connect() as conn:
            self.people = conn.execute(select(t.person_links.c.person_key, t.person_links.c.value)
                                       .where(t.person_links.c.scheme == "nino")
                                       .order_by(t.person_links.c.value).limit(3)).all()

    def unlinked(self, org_id):
        return "northbank", [
            MatchRecord(f"NB-NEW-{n}", "Pat Example", date(1980, 1, 1), "NS1 1AA",
                        (f"nino:{nino}",) if n < 2 else ())
            for n, (_, nino) in enumerate(self.people)]

    def reference(self, scheme):
        return [MatchRecord(person, "Pat Example", date(1980, 1, 1), "NS1 1AA",
                            (f"nino:{nino}",)) for person, nino in self.people]


def test_an_identifier_agreement_above_the_threshold_is_applied_and_audited(exchange, world):
    source = NinoCarryingRecords(exchange)
    service = IdentityService(exchange.uows, source, SplinkMatcher(), exchange.clock)
    run = service.match("COM/NORTHBANK")
    # Two carry a NINO: applied. The third looks like all three: a guardian's to decide.
    assert (run.applied, run.pending) == (2, 1)
    with exchange.engine.connect() as conn:
        linked = dict(conn.execute(select(t.person_links.c.value, t.person_links.c.person_key)
                                   .where(t.person_links.c.value.like("NB-NEW-%"))).all())
    assert linked == {"NB-NEW-0": source.people[0][0], "NB-NEW-1": source.people[1][0]}
    applied = audit(exchange, "identity.link")
    assert [(e.outcome, e.person_key) for e in applied] == [
        ("applied", source.people[0][0]), ("applied", source.people[1][0])]
    assert applied[0].detail["comparisons"]["identifiers"] == "agree"


def test_matching_an_unknown_organisation_is_refused(exchange, world):
    with pytest.raises(DomainError) as refusal:
        exchange.identity.match("GOV/NOBODY")
    assert refusal.value.code == "organisation_unknown"
    with pytest.raises(DomainError) as refusal:
        exchange.identity.match("COM/ACME")
    assert refusal.value.code == "nothing_to_match"
