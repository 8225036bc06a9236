"""The walkthrough's constraints chapter: harvesting caught by the anomaly detector,
the guardian alerted; a bulk extract approved and downloaded once."""

from __future__ import annotations

from joserfc.jwk import OKPKey

from onceonly.adapters.db.walkthrough_reads import first_ninos
from onceonly.bootstrap import Exchange
from onceonly.client import OnceonlyClient
from onceonly.entrypoints.demo.walkthrough.steps import Step, expect_refusal


def constraints_story(step: Step, world, client: OnceonlyClient, exchange: Exchange) -> None:
    acme = client.with_token(world.token("officer:COM/ACME"))
    council = client.with_token(world.token("officer:LA/NORTHSHIRE"))
    dwp_guardian = client.with_token(world.token("guardian:GOV/DWP"))
    people = first_ninos(exchange.engine, 10)

    def harvesting() -> str:
        # The operator's setting (`onceonly anomaly rule`): 10 people in 10 minutes is
        # more than ACME's assessors see.
        exchange.anomaly.set_rule("COM/ACME", None, "many_persons", len(people), 600)
        for nino in people:
            acme.query(3, "nino", nino, ["full_name"], "disability-assessment")
        exchange.anomaly.detect()  # what each server does every second
        refusal = expect_refusal(
            lambda: acme.query(3, "nino", people[0], ["full_name"], "disability-assessment"),
            "agreement_not_active")
        council.query(2, "nino", people[0], ["receives_universal_credit"],
                      "council-tax-reduction")
        return f"after {len(people)} people in a minute ACME's next query was {refusal}; " \
               "the council's agreement with DWP still answers"

    step("ACME's officer starts harvesting: only ACME's agreement is suspended", harvesting)

    def alerted() -> str:
        alert = next(a for a in dwp_guardian.alerts() if a["status"] == "open")
        resolved = dwp_guardian.resolve_alert(alert["id"], "resume",
                                              "walkthrough: ACME explained the referrals")
        acme.query(3, "nino", people[0], ["full_name"], "disability-assessment")
        return f"DWP's guardian saw alert {alert['id']} ({alert['rule']}, " \
               f"{alert['evidence']['count']} people), {resolved['status']} the agreement, " \
               "and ACME's queries are answered again"

    step("DWP's guardian is alerted with the evidence and resumes the agreement", alerted)

    def bulk_extract() -> str:
        key = OKPKey.generate_key("X25519")  # ACME's own; only its public half is sent
        asked = acme.request_bulk_extract(3, "disability-assessment",
                                          [("nino", nino) for nino in people[:5]],
                                          key.as_dict(private=False))
        approved = dwp_guardian.decide_bulk_extract(asked["id"], "approve",
                                                    "walkthrough: five referrals")
        content = acme.download_bulk_extract(asked["id"], key.as_dict(private=True))
        refusal = expect_refusal(
            lambda: acme.download_bulk_extract(asked["id"], key.as_dict(private=True)),
            "already_downloaded")
        fields = sorted(content["records"][0]["data"])
        return f"{approved['records']} records of {fields}, encrypted to ACME's key and " \
               f"hashed in the audit log ({approved['sha256'][:12]}…); the second download " \
               f"was {refusal}"

    step("ACME asks for a bulk extract of five referrals: approved, downloaded once",
         bulk_extract)
