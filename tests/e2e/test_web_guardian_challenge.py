"""A guardian reads an accuracy challenge with the value their organisation holds now beside
the one proposed (over HTTP, on SQLite and PostgreSQL); the read of the person's record is
audited; another organisation's guardian finds no such challenge."""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import replace

from sqlalchemy import select

from onceonly.adapters.db import tables as t
from tests.e2e.test_web_guardian import console

HMRC = "GOV/HMRC/income"


def held_address(api) -> str:
    """What HMRC's own store holds as the citizen's address, read as its connector reads."""
    with api.exchange.uows() as uow:
        config = uow.catalogue.connector_config(HMRC)
        nino = uow.people.identifiers(api.world.citizen_ids["person_key"], ["nino"])["nino"]
    return api.exchange.connectors.for_dataset(HMRC, config).fetch(nino, ["address"])["address"]


def test_a_challenge_shows_the_value_held_beside_the_one_proposed(api):
    citizen = replace(api.principal("citizen"), person_key=api.world.citizen_ids["person_key"])
    raised = api.exchange.accuracy.raise_challenge(citizen, HMRC, "address", "I moved",
                                                   "1 New Street, Northtown")
    client, _csrf = console(api, "guardian:GOV/HMRC")
    with closing(client):
        assert f'href="/guardian/challenges/{raised.id}"' in client.get("/guardian/queues").text
        page = client.get(f"/guardian/challenges/{raised.id}")
    assert page.status_code == 200, page.text
    held = re.search(r'id="held-value">(.*?)</dd>', page.text, re.S)[1].strip()
    proposed = re.search(r'id="proposed-value">(.*?)</dd>', page.text, re.S)[1].strip()
    assert held == held_address(api) and held
    assert proposed == "1 New Street, Northtown"
    assert "A person says their address is wrong" in page.text
    with api.exchange.engine.connect() as conn:
        reads = conn.execute(select(t.audit_log.c.actor_id).where(
            t.audit_log.c.action == "challenge.read")).scalars().all()
    assert api.principal("guardian:GOV/HMRC").id in reads

    other, _ = console(api, "guardian:GOV/DWP")
    with closing(other):
        theirs = other.get(f"/guardian/challenges/{raised.id}")
    assert theirs.status_code == 404 and "1 New Street" not in theirs.text
