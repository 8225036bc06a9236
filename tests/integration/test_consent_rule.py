"""Both reads of a person's live consents (the consent check's, and the one made with the
person's naming on every consent-based query) follow the one liveness rule,
`Consent.applies`, on SQLite and PostgreSQL alike, including at the boundaries."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import insert, select

from onceonly.adapters.db import tables as t
from onceonly.domain.consent import Consent
from onceonly.services.ports.identity import ConsentQuestion


def test_both_reads_of_live_consents_follow_the_domain_rule(exchange, world):
    now = exchange.clock.now()
    consumer = "GOV/DWP"
    with exchange.engine.connect() as conn:
        scheme, value, person = conn.execute(
            select(t.person_links.c.scheme, t.person_links.c.value,
                   t.person_links.c.person_key).where(t.person_links.c.scheme == "nino")
            .limit(1)).one()
    second = timedelta(seconds=1)
    consents = [
        Consent(f"c{n}", person, purpose, to, (f"field{n}",), granted, expires, withdrawn)
        for n, (purpose, to, granted, expires, withdrawn) in enumerate(itertools.product(
            ("benefit-entitlement", "other-purpose"), (None, consumer, "GOV/HMRC"),
            (now - timedelta(days=1), now, now + second),
            (now - second, now, now + second, now + timedelta(days=1)),
            (None, now - second)))
        if granted < expires]
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.consents), [
            {"id": c.id, "person_key": c.person_key, "purpose": c.purpose,
             "consumer_id": c.consumer_id, "fields": list(c.fields),
             "granted_at": c.granted_at, "expires_at": c.expires_at,
             "withdrawn_at": c.withdrawn_at, "grant_receipt": "-"} for c in consents])

    for purpose in ("benefit-entitlement", "other-purpose"):
        wanted = {c.fields for c in consents if c.applies(consumer, purpose, now)}
        assert wanted  # the grid has live consents and dead ones for each purpose
        assert len(wanted) < len(consents) / 2
        with exchange.uows() as uow:
            checked = uow.consents.live_fields(person, purpose, consumer, now)
            named = uow.identities.name(consumer, scheme, value, "nino",
                                        ConsentQuestion(consumer, purpose, now))
        assert set(checked) == wanted
        assert named.subject is not None and set(named.subject.consented) == wanted
