"""The walkthrough's identity chapter: a pairwise pseudonym for a consumer with no
identifier of its own; the matcher's proposals confirmed by a guardian."""

from __future__ import annotations

from onceonly.bootstrap import Exchange
from onceonly.client import OnceonlyClient
from onceonly.entrypoints.demo.walkthrough.steps import Step, StepFailed, expect_refusal


def identity_story(step: Step, world, client: OnceonlyClient, exchange: Exchange) -> None:
    acme = client.with_token(world.token("officer:COM/ACME"))
    met = client.with_token(world.token("officer:POL/MET"))
    dvla_guardian = {"Authorization": f"Bearer {world.token('guardian:GOV/DVLA')}"}
    nino = world.citizen_ids["nino"]

    def pseudonym() -> str:
        first = acme.query(3, "nino", nino, ["full_name"], "disability-assessment")
        if first.subject["scheme"] != "pairwise":
            raise StepFailed(f"ACME was named the person by {first.subject['scheme']}")
        again = acme.query(3, "pairwise", first.subject["value"], ["full_name"],
                           "disability-assessment")
        refusal = expect_refusal(lambda: met.query(5, "pairwise", first.subject["value"],
                                                    ["full_name"], "crime-prevention"),
                                  "scheme_not_yours")
        return f"ACME asked by NINO and was told 'pairwise {first.subject['value'][:12]}…', " \
               f"asked again by it ({again.data['full_name']}); the Met presenting ACME's " \
               f"pseudonym was {refusal}"

    step("ACME, with no identifier of its own, is named the person by a pseudonym of its own",
         pseudonym)

    def matched() -> str:
        run = exchange.identity.match("GOV/DVLA")  # onceonly identity match --org GOV/DVLA
        queue = client.http.get("/v1/identity/candidates", headers=dvla_guardian).json()
        if not queue or run.applied:
            raise StepFailed(f"expected proposals only, got {run}")
        best = queue[0]
        expect_refusal(lambda: met.query(5, "driver", best["value"], ["full_name"],
                                          "crime-prevention"), "subject_unknown")
        confirmed = client.http.post(f"/v1/identity/candidates/{best['id']}/confirm",
                                     json={"reason": "walkthrough: licence file checked"},
                                     headers=dvla_guardian).json()
        released = met.query(5, "driver", best["value"], ["full_name"], "crime-prevention")
        return f"{run.records} DVLA driver numbers were missing from the index; the matcher " \
               f"proposed {run.pending} links (none applied without a guardian); DVLA's " \
               f"guardian {confirmed['status']} the strongest (weight " \
               f"{best['match_weight']:.1f}, {best['comparisons']}), and the Met's query by " \
               f"that driver number now finds {released.data['full_name']}"

    step("The matcher proposes links for DVLA's unlinked records; DVLA's guardian confirms one",
         matched)
