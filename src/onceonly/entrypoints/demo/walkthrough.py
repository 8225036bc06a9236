"""The walkthrough: a scripted story on a fresh demo world. Each step says what should
happen, does it through the HTTP API, and checks what did happen."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from joserfc.jwk import OKPKey
from rich.console import Console
from sqlalchemy import Engine, insert, select, text, update

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.db.walkthrough_reads import answered_by, last_audit_seq
from onceonly.audit import merkle
from onceonly.audit.heads import unb64
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.client import ExchangeError, OnceonlyClient
from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import SignatureInvalid, verify_detached
from onceonly.demo.population import Pools, make_person
from onceonly.demo.seed import REFERENCE_DAY, SEED, build_world
from onceonly.demo.stores import known_everywhere
from onceonly.demo.world import EXCHANGE_ORG
from onceonly.domain.organisations import Role
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.demo.http_providers import connector_words, http_providers_running
from onceonly.entrypoints.demo.receivers import tell_us_once_running
from onceonly.services.audit import verify_log
from onceonly.services.tokens import issue_token


class StepFailed(Exception):
    pass


def _expect_refusal(action: Callable[[], object], code: str) -> str:
    try:
        action()
    except ExchangeError as refusal:
        if refusal.code != code:
            raise StepFailed(f"expected refusal {code}, got {refusal.code}: {refusal.detail}") \
                from None
        return f"refused: {refusal.status} {refusal.code} — {refusal.detail}"
    raise StepFailed(f"expected refusal {code}, but the query was answered")


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
         lambda: _expect_refusal(
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
            return _expect_refusal(
                lambda: acme.query(3, "nino", nino, ["full_name"], "disability-assessment"),
                "outside_validity")
        finally:
            clock.advance(timedelta(days=-91))

    step("The clock moves 91 days on: ACME's contract has ended", acme_after_contract)

    step("DWP asks for a field outside agreement 1 (the income itself)",
         lambda: _expect_refusal(
             lambda: dwp.query(1, "nino", nino, ["annual_income"], "benefit-entitlement"),
             "field_not_in_agreement"))

    def revoke() -> str:
        moved = hmrc_guardian.transition(1, "revoke", "walkthrough: sharing no longer needed")
        if moved["status"] != "revoked":
            raise StepFailed(f"agreement 1 is {moved['status']} after revocation")
        refusal = _expect_refusal(
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

    _tell_us_once_story(step, world, client, exchange)
    _constraints_story(step, world, client, exchange)
    _citizen_control_story(step, world, client, exchange)
    _identity_story(step, world, client, exchange)
    _audit_story(step, world, client, exchange, clock)

    console.print("\n[bold green]walkthrough passed[/bold green]" if ok
                  else "\n[bold red]walkthrough FAILED[/bold red]")
    return ok


Step = Callable[[str, Callable[[], str]], None]

# What each store must show after one death is told (docs/demo-world.md).
_DEATH_SHOWS = {"GOV/DVLA": ("driver", "licence_status", "cancelled"),
                "GOV/HMPO": ("passport", "passport_status", "cancelled"),
                "LA/NORTHSHIRE": ("ctr", "electoral_registration", False),
                "GOV/DWP": ("nino", "benefits_in_payment", [])}


def _tell_us_once_story(step: Step, world, client: OnceonlyClient, exchange: Exchange) -> None:
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


def _identity_story(step: Step, world, client: OnceonlyClient, exchange: Exchange) -> None:
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
        refusal = _expect_refusal(lambda: met.query(5, "pairwise", first.subject["value"],
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
        _expect_refusal(lambda: met.query(5, "driver", best["value"], ["full_name"],
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


def _constraints_story(step: Step, world, client: OnceonlyClient, exchange: Exchange) -> None:
    acme = client.with_token(world.token("officer:COM/ACME"))
    council = client.with_token(world.token("officer:LA/NORTHSHIRE"))
    dwp_guardian = client.with_token(world.token("guardian:GOV/DWP"))
    with exchange.engine.connect() as conn:
        people = conn.execute(select(t.person_links.c.value)
                              .where(t.person_links.c.scheme == "nino")
                              .order_by(t.person_links.c.value).limit(10)).scalars().all()

    def harvesting() -> str:
        # The operator's setting (`onceonly anomaly rule`): 10 people in 10 minutes is
        # more than ACME's assessors see.
        exchange.anomaly.set_rule("COM/ACME", None, "many_persons", len(people), 600)
        for nino in people:
            acme.query(3, "nino", nino, ["full_name"], "disability-assessment")
        exchange.anomaly.detect()  # what each server does every second
        refusal = _expect_refusal(
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
        refusal = _expect_refusal(
            lambda: acme.download_bulk_extract(asked["id"], key.as_dict(private=True)),
            "already_downloaded")
        fields = sorted(content["records"][0]["data"])
        return f"{approved['records']} records of {fields}, encrypted to ACME's key and " \
               f"hashed in the audit log ({approved['sha256'][:12]}…); the second download " \
               f"was {refusal}"

    step("ACME asks for a bulk extract of five referrals: approved, downloaded once",
         bulk_extract)


# long: one chapter of the story, its steps told in order
def _citizen_control_story(step: Step, world, client: OnceonlyClient,
                           exchange: Exchange) -> None:
    citizen = client.with_token(world.token("citizen"))
    bank = client.with_token(world.token("officer:COM/NORTHBANK"))
    nino = world.citizen_ids["nino"]
    granted: dict[str, str] = {}

    def bank_asks():
        return bank.query(4, "nino", nino, ["income_band"], "mortgage-affordability")

    def consent() -> str:
        preview = citizen.preview_consent(4)
        _expect_refusal(bank_asks, "consent_missing")
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
        refusal = _expect_refusal(bank_asks, "consent_missing")
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


# long: one chapter of the story, its steps told in order
def _audit_story(step: Step, world, client: OnceonlyClient, exchange: Exchange,
                 clock: MovableClock) -> None:
    citizen = client.with_token(world.token("citizen"))
    met = client.with_token(world.token("officer:POL/MET"))
    ids = world.citizen_ids

    def police_lookup() -> str:
        release = met.query(5, "driver", ids["driver"], ["full_name", "address"],
                            "crime-prevention")
        return f"the Met received {sorted(release.data)}; this lookup stays out of the " \
               "citizen's view for 90 days"

    step("The Met asks DVLA who keeps the citizen's vehicle (agreement 5, hidden 90 days)",
         police_lookup)

    def access_log() -> str:
        exchange.audit.integrate()
        accesses = citizen.access_log()["accesses"]
        seen = {(a["organisation"], a["outcome"]) for a in accesses}
        expected = {("GOV/DWP", "released"), ("COM/NORTHBANK", "refused"),
                    ("LA/NORTHSHIRE", "released")}
        if not expected <= seen:
            raise StepFailed(f"the access log lacks {sorted(expected - seen)}")
        if any(a["organisation"] == "POL/MET" for a in accesses):
            raise StepFailed("the police lookup shows before its reveal date")
        newest = accesses[0]
        proof = client.inclusion_proof(newest["index"])
        head = citizen.tree_head()
        if not merkle.verify_inclusion(unb64(proof["leaf_hash"]), newest["index"],
                                       proof["tree_size"],
                                       [unb64(h) for h in proof["audit_path"]],
                                       head.head.root_hash):
            raise StepFailed(f"entry {newest['index']} is not in the signed tree")
        lines = "; ".join(f"{a['organisation']} {a['outcome']} {a['fields']} for "
                          f"{a['purpose']} by {a['officer']}" for a in accesses)
        return f"{len(accesses)} accesses: {lines}. Entry {newest['index']}'s inclusion " \
               f"proof checks against the signed tree head of {head.head.tree_size} entries"

    step("The citizen reads who accessed their data, and checks an entry is in the log",
         access_log)

    def revealed() -> str:
        clock.advance(timedelta(days=91))
        try:
            accesses = citizen.access_log()["accesses"]
        finally:
            clock.advance(timedelta(days=-91))
        police = [a for a in accesses if a["organisation"] == "POL/MET"]
        if not police:
            raise StepFailed("the police lookup is still hidden after its reveal date")
        return f"after 90 days the Met's lookup appears: {police[0]['fields']} for " \
               f"{police[0]['purpose']} (entry {police[0]['index']}, in the tree all along)"

    step("91 days on, the police lookup appears in the citizen's access log", revealed)

    def outside_check() -> str:
        result = client.check_log(samples=8)
        if not result.ok:
            raise StepFailed("; ".join(result.problems))
        return f"with only the public keys: tree head of {result.head.head.tree_size} " \
               f"entries verified, inclusion proven for {len(result.sampled)} sampled entries"

    step("An outsider checks the live log (onceonly audit check)", outside_check)

    def verify() -> str:
        exchange.audit.integrate()
        result = verify_log(exchange.uows, exchange.key_store.jwks(),
                            log_org=exchange.audit.operator_org)
        if not result.ok:
            raise StepFailed(f"audit verify failed at {result.bad_index}: {result.problem}")
        return f"onceonly audit verify: verified {result.entries} entries, root " \
               f"{result.root.hex()[:16]}…"

    step("The whole audit log verifies", verify)

    def tampered() -> str:
        with tempfile.TemporaryDirectory(prefix="onceonly-tampered-") as folder:
            url = f"sqlite:///{Path(folder) / 'copy.sqlite'}"
            copy = bootstrap(url)
            try:
                copy_audit_log(exchange.engine, copy.engine)
                target = tamper_with_entry(copy.engine)
                result = verify_log(copy.uows, exchange.key_store.jwks())
            finally:
                copy.close()
        if result.ok or result.bad_index != target:
            raise StepFailed(f"changing entry {target} was not caught at {target}: "
                             f"{result.problem}")
        return f"a copy with entry {target}'s purpose rewritten fails at index " \
               f"{result.bad_index}: {result.problem}"

    step("A tampered copy of the log fails verification at the entry changed", tampered)


def copy_audit_log(source: Engine, target: Engine) -> None:
    """The audit log, its tree and its signed heads, copied into a fresh database."""
    upgrade(target)
    with source.connect() as src, target.begin() as dst:
        for table in (t.audit_log, t.audit_nodes, t.audit_tree_heads):
            rows = [dict(row._mapping) for row in src.execute(select(table))]
            if rows:
                dst.execute(insert(table), rows)
        size = src.execute(select(t.audit_counter.c.next_index)).scalar_one()
        dst.execute(update(t.audit_counter).values(next_index=size))


def tamper_with_entry(engine: Engine) -> int:
    """What someone with the database's keys could do: lift the append-only trigger and
    rewrite the purpose of the middle entry. Returns its index."""
    with engine.begin() as conn:
        size = conn.execute(select(t.audit_counter.c.next_index)).scalar_one()
        index = size // 2
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == index)
                     .values(purpose="nothing-to-see"))
    return index
