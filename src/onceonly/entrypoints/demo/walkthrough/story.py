"""The walkthrough: a scripted story on a fresh demo world. Each step says what should
happen, does it through the HTTP API, and checks what did happen. Its first steps (queries,
refusals, a revocation, a signed answer) are told here, then each chapter in turn."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db.walkthrough_reads import answered_by, last_audit_seq
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import SignatureInvalid, verify_detached
from onceonly.demo.seed import build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.http_providers import connector_words, http_providers_running
from onceonly.entrypoints.demo.walkthrough.audit_trail import audit_story
from onceonly.entrypoints.demo.walkthrough.citizen_control import citizen_control_story
from onceonly.entrypoints.demo.walkthrough.constraints import constraints_story
from onceonly.entrypoints.demo.walkthrough.identity import identity_story
from onceonly.entrypoints.demo.walkthrough.steps import StepFailed, expect_refusal
from onceonly.entrypoints.demo.walkthrough.tell_us_once import tell_us_once_story


def run_walkthrough(url: str | None = None, console: Console | None = None,
                    people: int = 300) -> bool:
    """Build a fresh world (in a temporary folder unless `url` is given) and tell the story.
    True if every step behaved as it should."""
    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="onceonly-walkthrough-") as folder:
        url = url or f"sqlite:///{Path(folder) / 'exchange.sqlite'}"
        clock = MovableClock()
        exchange = bootstrap(url, clock=clock)
        try:
            world = build_world(exchange, url, people=people)
            with running(create_app(exchange)) as base_url, \
                    http_providers_running(exchange, Path(folder) / "providers"):
                client = OnceonlyClient(base_url)
                try:
                    return _story(console, world, client, exchange, clock)
                finally:
                    client.close()
        finally:
            exchange.close()


# long: the story's first steps, told in order, each a few lines
def _story(console: Console, world, client: OnceonlyClient, exchange: Exchange,
           clock: MovableClock) -> bool:
    dwp = client.with_token(world.token("officer:GOV/DWP"))
    bank = client.with_token(world.token("officer:COM/NORTHBANK"))
    acme = client.with_token(world.token("officer:COM/ACME"))
    hmrc_guardian = client.with_token(world.token("guardian:GOV/HMRC"))
    citizen = world.citizen_ids
    nino = citizen["nino"]
    ok = True

    def step(title: str, body: Callable[[], str]) -> None:
        nonlocal ok
        console.print(f"[bold]• {title}[/bold]")
        mark = last_audit_seq(exchange.engine)
        try:
            console.print(f"  [green]✓[/green] {body()}")
            for provider, connector in answered_by(exchange.engine, mark):
                console.print(f"    [dim]answered by {provider}'s "
                              f"{connector_words(connector)}[/dim]")
        except (StepFailed, ExchangeError, SignatureInvalid) as failure:
            ok = False
            console.print(f"  [red]✗ {failure}[/red]")

    console.print(f"A fresh demo world of {world.people} people. The citizen is "
                  f"{citizen['name']} (NINO {nino}).\n")

    def income_band() -> str:
        release = dwp.query(1, "nino", nino, ["income_band"], "benefit-entitlement")
        if set(release.data) != {"income_band"} or "annual_income" in release.data:
            raise StepFailed(f"released more than the band: {release.data}")
        return f"DWP received {release.data} (no income figure), signed by key {release.signed_by}"

    step("DWP asks HMRC for the income band under agreement 1", income_band)

    step("Northbank asks for the income band without the citizen's consent",
         lambda: expect_refusal(
             lambda: bank.query(4, "nino", nino, ["income_band"], "mortgage-affordability"),
             "consent_missing"))

    def acme_in_contract() -> str:
        release = acme.query(3, "nino", nino, ["full_name", "benefits_in_payment"],
                             "disability-assessment")
        return f"inside the contract ACME may ask: received fields {sorted(release.data)}"

    step("ACME asks DWP about a referred claimant while its contract runs", acme_in_contract)

    def acme_after_contract() -> str:
        clock.advance(timedelta(days=91))
        try:
            return expect_refusal(
                lambda: acme.query(3, "nino", nino, ["full_name"], "disability-assessment"),
                "outside_validity")
        finally:
            clock.advance(timedelta(days=-91))

    step("The clock moves 91 days on: ACME's contract has ended", acme_after_contract)

    step("DWP asks for a field outside agreement 1 (the income itself)",
         lambda: expect_refusal(
             lambda: dwp.query(1, "nino", nino, ["annual_income"], "benefit-entitlement"),
             "field_not_in_agreement"))

    def revoke() -> str:
        moved = hmrc_guardian.transition(1, "revoke", "walkthrough: sharing no longer needed")
        if moved["status"] != "revoked":
            raise StepFailed(f"agreement 1 is {moved['status']} after revocation")
        refusal = expect_refusal(
            lambda: dwp.query(1, "nino", nino, ["income_band"], "benefit-entitlement"),
            "agreement_not_active")
        return f"revoked by {moved['history'][-1]['actor']}; the very next query was {refusal}"

    step("HMRC's guardian revokes agreement 1", revoke)

    def signature() -> str:
        council = client.with_token(world.token("officer:LA/NORTHSHIRE"))
        response = council.http.post(
            "/v1/queries", headers=council.headers,
            json={"agreement_id": 2, "subject": {"scheme": "nino", "value": nino},
                  "fields": ["receives_universal_credit"], "purpose": "council-tax-reduction"},
        )
        if response.status_code != 200:
            raise StepFailed(f"query answered {response.status_code}: {response.text}")
        provider = council.provider_of(2)
        jwks = client.http.get(f"/.well-known/jwks/{provider}.json").json()
        payload = canonical_json(response.json())
        signed = response.headers["Onceonly-Signature"]
        kid = verify_detached(signed, payload, jwks, provider)
        try:
            verify_detached(signed, payload + b" ", jwks, provider)
        except SignatureInvalid:
            return (f"signature verifies against {provider}'s keys (kid {kid}); a changed "
                    "body does not")
        raise StepFailed("a changed body still verified")

    step("The council's answer carries a detached JWS by the provider's key", signature)

    tell_us_once_story(step, world, client, exchange)
    constraints_story(step, world, client, exchange)
    citizen_control_story(step, world, client, exchange)
    identity_story(step, world, client, exchange)
    audit_story(step, world, client, exchange, clock)

    console.print("\n[bold green]walkthrough passed[/bold green]" if ok
                  else "\n[bold red]walkthrough FAILED[/bold red]")
    return ok
