"""`onceonly demo` and `onceonly walkthrough`: the demo world, served or told as a story."""

from __future__ import annotations

import logging
import os
import shutil
from typing import Annotated

import typer

from onceonly.bootstrap import bootstrap
from onceonly.config import DEFAULT_DATA_DIR, beside_database, variable
from onceonly.entrypoints.cli.common import DbOption, check_database, console, fail, progress
from onceonly.entrypoints.cli.serve import serve
from onceonly.logging import configure_logging

DEMO_DIR = DEFAULT_DATA_DIR / "demo"


def demo(
    db: DbOption = None,
    people: Annotated[int, typer.Option(min=1, max=5_000_000, help="synthetic people")] = 10_000,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    seed_only: Annotated[bool, typer.Option(help="build the world, do not serve")] = False,
) -> None:
    """Build the demo world (docs/demo-world.md) and serve it, printing a token for each role."""
    # Deferred on purpose: the synthetic population (Faker) and the demo's servers are
    # start-up time that only this command needs.
    from onceonly.demo.citizens import open_citizen_accounts
    from onceonly.demo.seed import WorldExists, build_world
    from onceonly.demo.stores import known_everywhere
    from onceonly.entrypoints.demo.http_providers import http_providers_running
    from onceonly.entrypoints.demo.identity_providers import identity_providers_running
    from onceonly.entrypoints.demo.receivers import tell_us_once_running

    # The demo's citizens may sign in with a password too (off outside the demo).
    os.environ.setdefault(variable("password_sign_in"), "true")
    if db is None:
        shutil.rmtree(DEMO_DIR, ignore_errors=True)  # the default demo is rebuilt every time
        db = f"sqlite:///{(DEMO_DIR / 'exchange.sqlite').resolve()}"
    check_database(db)
    exchange = bootstrap(db)
    try:
        with progress() as bar:
            task = bar.add_task("building the demo world", total=people)
            world = build_world(exchange, db, people=people,
                                progress=lambda n: bar.advance(task, n))
        citizens = open_citizen_accounts(exchange, world)
        died = known_everywhere(exchange.engine, world.people)
    except WorldExists as exc:
        fail(f"{exc}: {db}")
    finally:
        exchange.close()
    _print_world(world, host, port, db, _death_example(died))
    _print_web_sign_in(citizens, host, port, db)
    if not seed_only:
        # The organisations' receivers and a delivery worker run in this process.
        delivering = bootstrap(db)
        with tell_us_once_running(delivering, world, f"http://{host}:{port}",
                                  receivers_port=port + 1), \
                http_providers_running(delivering, beside_database(db, "providers")), \
                identity_providers_running(delivering, world, f"http://{host}:{port}",
                                           beside_database(db, "oidc"), console.print):
            serve(db=db, host=host, port=port)
        delivering.close()


def walkthrough(db: DbOption = None) -> None:
    """Tell the scripted story on a fresh demo world; exit 1 if any step misbehaves."""
    # Deferred on purpose, as for `demo`: the story runs the API in this process.
    from onceonly.demo.seed import WorldExists
    from onceonly.entrypoints.demo.walkthrough import run_walkthrough

    if db is not None:
        check_database(db)
    configure_logging(logging.WARNING)  # the story prints each refusal itself
    try:
        passed = run_walkthrough(db, console)
    except WorldExists as exc:
        fail(f"{exc}: {db}")
    if not passed:
        raise typer.Exit(1)


def _print_web_sign_in(citizens, host: str, port: int, db: str) -> None:
    """The portals' address and each citizen's password (for the browser, not a shell)."""
    logins = beside_database(db, "logins.txt")
    logins.write_text("".join(f"{c.login}\t{c.password}\n" for c in citizens))
    logins.chmod(0o600)
    console.print(f"[bold]Web portals[/bold]: http://{host}:{port}/ (citizens sign in with "
                  f"a login and password, also in {logins}; guardians and managers paste "
                  "their API token)")
    for c in citizens:
        console.print(f"  citizen {c.name}: login [bold]{c.login}[/bold]  password "
                      f"[bold]{c.password}[/bold]", soft_wrap=True, highlight=False)
    console.print()


def _print_world(world, host: str, port: int, db: str, death: str) -> None:
    tokens_file = beside_database(db, "tokens.txt")
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text("".join(f"{a.label}\t{a.token}\n" for a in world.accounts))
    tokens_file.chmod(0o600)
    console.print(f"\n[bold]Demo accounts[/bold], one API token each (also in {tokens_file}):")
    width = max(len(a.label) for a in world.accounts)
    for account in world.accounts:
        # Unwrapped, so a token can be copied from any terminal.
        console.print(f"  {account.label:<{width}}  {account.token}  [dim]"
                      f"{account.principal.name}[/dim]", soft_wrap=True, highlight=False)
    c = world.citizen_ids
    console.print(f"\nThe citizen account is [bold]{c['name']}[/bold]: NINO {c['nino']}, "
                  f"driver number {c['driver']}, council tax ref {c['ctr']}.")
    base = f"http://{host}:{port}"
    dwp, bank = world.token("officer:GOV/DWP"), world.token("officer:COM/NORTHBANK")
    guardian, citizen = world.token("guardian:GOV/HMRC"), world.token("citizen")

    def curl(path: str, token: str, body: str) -> str:
        return (f"curl -s {base}{path} -H 'Authorization: Bearer {token}' \\\n"
                f"    -H 'Content-Type: application/json' -d '{body}'")

    def query(agreement: int, field: str, purpose: str) -> str:
        return (f'{{"agreement_id": {agreement}, "subject": {{"scheme": "nino", '
                f'"value": "{c["nino"]}"}}, "fields": ["{field}"], "purpose": "{purpose}"}}')

    console.print(f"""
Try (database: {db}):

  # the catalogue, and the keys that sign every answer
  curl -s {base}/v1/catalogue
  curl -s {base}/.well-known/jwks.json

  # DWP asks HMRC for an income band (agreement 1) -- never the income itself
  {curl("/v1/queries", dwp, query(1, "income_band", "benefit-entitlement"))}

  # Northbank is refused: the legal basis is consent and none was given
  {curl("/v1/queries", bank, query(4, "income_band", "mortgage-affordability"))}

  # HMRC's guardian revokes agreement 1; DWP's next query is refused
  {curl("/v1/agreements/1/revoke", guardian, '{"reason": "trying it out"}')}

  # the audit log: its signed tree head, and who asked about the citizen, and why
  curl -s {base}/v1/audit/tree-head
  curl -s {base}/v1/me/access-log -H 'Authorization: Bearer {citizen}'
  uv run onceonly audit check --url {base}
  uv run onceonly audit verify --db {db}

  # tell us once: the register office reports a death; seven organisations are told, each
  # store changes (see the receivers' effects in the README), and the report shows each one
  {curl("/v1/events", world.token("officer:GOV/GRO"), death)}
  curl -s {base}/v1/reports/REPORT_ID -H 'Authorization: Bearer {world.token("officer:GOV/GRO")}'

  # more people to ask about, and the whole story scripted
  uv run onceonly people list --db {db} --org GOV/DWP -n 5
  uv run onceonly walkthrough

API documentation: {base}/docs   OpenAPI 3.1: {base}/openapi.json
""", soft_wrap=True, highlight=False)


def _death_example(person) -> str:
    """A death report for `person`, a living demo person known to all seven organisations
    told (None if the world has none)."""
    grn, name = (person.ids["grn"], person.full_name) if person else ("RN...", "...")
    return ('{"specversion": "1.0", "id": "death-0001", "source": "GOV/GRO/deaths", '
            '"type": "gov.onceonly.death.registered", '
            f'"subject": "grn:{grn}", "data": {{"full_name": "{name}", '
            '"date_of_death": "2026-11-20"}}')
