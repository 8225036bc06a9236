"""The walkthrough's tell-us-once chapter: a death registered once and seven
organisations told; a citizen's change of name told once."""

from __future__ import annotations

import time

from onceonly.bootstrap import Exchange
from onceonly.client import OnceonlyClient
from onceonly.demo.stores import known_everywhere
from onceonly.entrypoints.demo.receivers import tell_us_once_running
from onceonly.entrypoints.demo.walkthrough.steps import Step, StepFailed

# What each store must show after one death is told (docs/demo-world.md).
_DEATH_SHOWS = {"GOV/DVLA": ("driver", "licence_status", "cancelled"),
                "GOV/HMPO": ("passport", "passport_status", "cancelled"),
                "LA/NORTHSHIRE": ("ctr", "electoral_registration", False),
                "GOV/DWP": ("nino", "benefits_in_payment", [])}


def tell_us_once_story(step: Step, world, client: OnceonlyClient, exchange: Exchange) -> None:
    registrar = client.with_token(world.token("officer:GOV/GRO"))
    citizen = client.with_token(world.token("citizen"))
    base_url = str(client.http.base_url)
    with tell_us_once_running(exchange, world, base_url, poll_seconds=0.2) as stores:
        def death() -> str:
            deceased = known_everywhere(exchange.engine, world.people)
            if deceased is None:
                raise StepFailed("no one in this world is known to all seven organisations")
            report = registrar.report_event({
                "specversion": "1.0", "id": f"death-{deceased.index}",
                "source": "GOV/GRO/deaths", "type": "gov.onceonly.death.registered",
                "subject": f"grn:{deceased.ids['grn']}",
                "informant": f"grn:{world.citizen_ids['grn']}",
                "data": {"full_name": deceased.full_name, "date_of_death": "2026-11-20",
                         "place_of_death": "Northshire General Hospital"}})
            status = _delivered(registrar, report["report_id"])
            told = sorted(d["organisation"] for d in status["told"])
            if len(told) != 7:
                raise StepFailed(f"told {told}, not the seven organisations")
            changed = []
            for org, (scheme, column, value) in _DEATH_SHOWS.items():
                record = stores[org].record(deceased.ids[scheme]) or {}
                if record.get(column) != value:
                    raise StepFailed(f"{org}'s store shows {column}={record.get(column)!r}")
                changed.append(f"{org} {column}={value!r}")
            for org, scheme in (("GOV/HMRC", "nino"), ("NHS/NHSE", "nhs"),
                                ("GOV/VETERANS", "service"), ("LA/NORTHSHIRE", "ctr")):
                if not stores[org].applied_for(f"{scheme}:{deceased.ids[scheme]}"):
                    raise StepFailed(f"{org}'s store has no record of the notice")
            seen = {r["report_id"] for r in citizen.my_reports()}
            if report["report_id"] not in seen:
                raise StepFailed("the informant cannot see the report")
            return (f"reported once; told {len(told)} organisations, each by its own "
                    f"identifier: {'; '.join(changed)}; the informant sees every delivery")

        step("A death is registered once and seven organisations are told", death)

        def change_of_name() -> str:
            new_name = "Alex Newname"
            report = citizen.report_own_event({
                "type": "gov.onceonly.name.changed",
                "data": {"new_full_name": new_name, "effective_date": "2026-11-15"}})
            status = _delivered(citizen, report["report_id"])
            ids = world.citizen_ids
            renamed = [org for org, scheme in (("GOV/HMRC", "nino"), ("GOV/DWP", "nino"),
                                               ("GOV/DVLA", "driver"))
                       if (stores[org].record(ids[scheme]) or {}).get("full_name") == new_name]
            if len(renamed) != 3:
                raise StepFailed(f"the new name reached only {renamed}")
            return (f"the citizen told {len(status['told'])} organisations once; HMRC, DWP and "
                    "DVLA now hold the new name under their own identifiers")

        step("The citizen tells a change of name once", change_of_name)


def _delivered(client: OnceonlyClient, report_id: str, seconds: float = 30) -> dict:
    """The report's status once every organisation has its notification."""
    deadline = time.monotonic() + seconds
    while True:
        status = client.report_status(report_id)
        if all(d["status"] == "delivered" for d in status["told"]):
            return status
        if time.monotonic() > deadline:
            raise StepFailed("not delivered in time: " + ", ".join(
                f"{d['organisation']} {d['status']}" for d in status["told"]))
        time.sleep(0.1)
