"""The walkthrough's citizen-control chapter: consent previewed, granted and
withdrawn; a stale address challenged, corrected and the recipient told."""

from __future__ import annotations

from datetime import timedelta

from onceonly.bootstrap import Exchange
from onceonly.client import OnceonlyClient
from onceonly.demo.population import Pools, make_person
from onceonly.demo.seed import REFERENCE_DAY, SEED
from onceonly.demo.world import EXCHANGE_ORG
from onceonly.domain.organisations import Role
from onceonly.entrypoints.demo.walkthrough.steps import Step, StepFailed, expect_refusal
from onceonly.services.tokens import issue_token


# long: one chapter of the story, its steps told in order
def citizen_control_story(step: Step, world, client: OnceonlyClient,
                           exchange: Exchange) -> None:
    citizen = client.with_token(world.token("citizen"))
    bank = client.with_token(world.token("officer:COM/NORTHBANK"))
    nino = world.citizen_ids["nino"]
    granted: dict[str, str] = {}

    def bank_asks():
        return bank.query(4, "nino", nino, ["income_band"], "mortgage-affordability")

    def consent() -> str:
        preview = citizen.preview_consent(4)
        expect_refusal(bank_asks, "consent_missing")
        until = (exchange.clock.now() + timedelta(days=30)).isoformat()
        answer = citizen.grant_consent("mortgage-affordability", ["income_band"], until,
                                       consumer="COM/NORTHBANK")  # receipt signature checked
        granted["id"] = answer["consent"]["id"]
        return f"before consenting the citizen saw exactly {preview['data']} " \
               f"({preview['sources']}); Northbank was still refused; the signed Kantara " \
               f"receipt {answer['receipt']['consentReceiptID'][:8]}… verifies against " \
               "the exchange's JWKS"

    step("The citizen previews what Northbank would receive, then consents (agreement 4)",
         consent)

    def permitted() -> str:
        release = bank_asks()
        return f"Northbank received {release.data}, labelled {release.sources}"

    step("Northbank asks again with the citizen's consent", permitted)

    def withdraw() -> str:
        answer = citizen.withdraw_consent(granted.get("id", ""))
        refusal = expect_refusal(bank_asks, "consent_missing")
        return f"withdrawal receipt {answer['receipt']['consentReceiptID'][:8]}… signed; " \
               f"Northbank's very next query was {refusal}"

    step("The citizen withdraws consent: Northbank is refused again", withdraw)

    keeper = _stale_keeper(world.people)
    met = client.with_token(world.token("officer:POL/MET"))
    dvla_guardian = client.with_token(world.token("guardian:GOV/DVLA"))

    def challenge_corrected() -> str:
        if keeper is None:
            raise StepFailed("the demo world holds no driver with a stale DVLA address")
        vehicle, driver, stale, current = keeper
        seen = met.query(5, "vrm", vehicle, ["address"], "crime-prevention")
        if seen.data["address"] != stale:
            raise StepFailed(f"DVLA's address is not the stale one: {seen.data}")
        _, token = issue_token(exchange.uows, exchange.clock, org_id=EXCHANGE_ORG,
                               role=Role.CITIZEN, person=f"driver:{driver}")
        asked = client.with_token(token).challenge(
            "GOV/DVLA/licences", "address", "I moved: this is my old address", current)
        queued = next(c for c in dvla_guardian.challenge_queue() if c["id"] == asked["id"])
        done = dvla_guardian.correct_challenge(queued["id"], current,
                                               "confirmed with the council's register")
        told = [n["consumer"] for n in done["notified"]]
        notice = next(n for n in met.correction_notices()
                      if n["correction_id"] == done["correction_id"])
        now_seen = met.query(5, "vrm", vehicle, ["address"], "crime-prevention")
        if told != ["POL/MET"] or seen.release_id not in notice["release_ids"] \
                or now_seen.data["address"] != current:
            raise StepFailed(f"the correction did not reach the Met: {done}, {notice}")
        return f"DVLA's guardian corrected the address in DVLA's own store; the Met, which " \
               f"received the old one (release {seen.release_id[:8]}…), found correction " \
               f"{done['correction_id']} in its inbox and now receives the new address"

    step("A driver challenges the stale address DVLA holds; the guardian corrects it and "
         "the Met, which had the old one, is told", challenge_corrected)


def _stale_keeper(people: int) -> tuple[str, str, str, str] | None:
    """A living keeper of a vehicle in the demo world whose DVLA address is stale: (the
    vehicle's registration mark, their driver number, the stale address, the current one)."""
    pools = Pools.make(SEED)
    for index in range(people):
        person = make_person(SEED, index, pools, REFERENCE_DAY)
        if person.stale_address and person.vehicles and person.date_of_death is None:
            return (person.vehicles[0], person.ids["driver"], person.stale_address,
                    person.address)
    return None
