"""The command line (Typer). Thin: parse, call, print. Bad input exits 2 with a message."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import Access, make_engine
from onceonly.adapters.db.migrate import current_revision, head_revision, upgrade
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.config import DEFAULT_DATA_DIR, beside_database, database_url
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.entrypoints.identity_cli import identity_app
from onceonly.services.tokens import issue_token

app = typer.Typer(help="onceonly: tell government once; share data as a service.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The exchange database.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log (RFC 9162 Merkle tree).",
                        no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
anomaly_app = typer.Typer(help="Anomaly rules: patterns that suspend an agreement.",
                          no_args_is_help=True)
app.add_typer(anomaly_app, name="anomaly")
app.add_typer(identity_app, name="identity")

console = Console()
errors = Console(stderr=True)

DbOption = Annotated[str | None, typer.Option("--db", help="database URL (default: "
                     "ONCEONLY_DATABASE_URL, else SQLite in ./onceonly-data)")]
DEMO_DIR = DEFAULT_DATA_DIR / "demo"


def fail(message: str) -> NoReturn:
    # Unwrapped, and no markup: paths and JSON in a message are printed as they are.
    errors.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
    raise typer.Exit(2)


def _database_url(db: str | None) -> str:
    """--db, else its default (config.database_url), or a message saying what to give."""
    try:
        return database_url(db)
    except ValueError as exc:
        fail(str(exc))


def _schema_revision(engine: Engine, url: str) -> str | None:
    """The database's schema revision (None before any), or a message if it cannot be read."""
    try:
        return current_revision(engine)
    except DBAPIError as exc:  # unreachable, refused, locked, or a file that is no database
        fail(f"cannot open the database {url}: {' '.join(str(exc.orig).split())}")


def _check_database(url: str) -> None:
    """Fail with a message unless `url` names a database of a supported kind that answers;
    for the commands that set one up, so a new SQLite file is made."""
    try:
        engine = make_engine(url, Access.CREATE)
    except ValueError as exc:
        fail(str(exc))
    try:
        _schema_revision(engine, url)
    finally:
        engine.dispose()


def open_exchange(db: str | None, *, read_only: bool = False) -> Exchange:
    """The exchange at --db, or a clear message if it cannot be reached or is not set up.
    It is never made here; `read_only` (for commands that only read) also refuses every
    write and makes no file, not even the default master key file."""
    url = _database_url(db)
    try:
        exchange = bootstrap(url, access=Access.READ_ONLY if read_only else Access.EXISTING)
    except ValueError as exc:  # a SQLite file that does not exist
        fail(str(exc))
    try:
        revision = _schema_revision(exchange.engine, url)
        if revision is None:
            fail(f"the database {url} is not set up: run `onceonly db upgrade --db {url}` "
                 "or `onceonly demo --db URL`")
        if revision != head_revision():
            fail(f"the database {url} is at schema revision {revision}, this onceonly needs "
                 f"{head_revision()}: run `onceonly db upgrade --db {url}`")
    except typer.Exit:
        exchange.close()
        raise
    return exchange


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply the schema migrations (Alembic) to the exchange database."""
    url = _database_url(db)
    _check_database(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
    except DBAPIError as exc:
        fail(f"cannot migrate {url}: {' '.join(str(exc.orig).split())}")
    finally:
        engine.dispose()
    console.print(f"database at {url} is up to date")


@token_app.command("issue")
def token_issue(
    org: Annotated[str, typer.Option(help="organisation id, e.g. GOV/DWP")],
    role: Annotated[Role, typer.Option(help="role of the token's holder")],
    db: DbOption = None,
    person: Annotated[str | None, typer.Option(
        help="for a citizen: one of their identifiers as SCHEME:VALUE")] = None,
    name: Annotated[str | None, typer.Option(help="holder's name")] = None,
    days: Annotated[int, typer.Option(min=1, max=366, help="days until it expires")] = 30,
) -> None:
    """Issue an API token; the token is printed as the last word."""
    exchange = open_exchange(db)
    try:
        _, token = issue_token(exchange.uows, exchange.clock, org_id=org, role=role,
                               name=name, person=person, days=days)
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    console.print(f"issued a {role.value} token for {org}, valid {days} days: {token}",
                  soft_wrap=True)


@app.command()
def people(
    org: Annotated[str, typer.Option(help="organisation whose identifiers to print")],
    db: DbOption = None,
    n: Annotated[int, typer.Option("-n", min=1, max=10_000, help="how many")] = 10,
) -> None:
    """Print identifiers of demo people as 'SCHEME VALUE' lines, to try queries with."""
    exchange = open_exchange(db, read_only=True)
    with exchange.engine.connect() as conn:
        schemes = conn.execute(select(t.organisation_schemes.c.scheme)
                               .where(t.organisation_schemes.c.org_id == org)).scalars().all()
        if not schemes:
            fail(f"{org} names nobody by an identifier here; try GOV/DWP or GOV/DVLA")
        rows = conn.execute(
            select(t.person_links.c.scheme, t.person_links.c.value)
            .where(t.person_links.c.scheme.in_(schemes))
            .order_by(t.person_links.c.scheme, t.person_links.c.value).limit(n))
        for scheme, value in rows:
            print(scheme, value)
    exchange.close()


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="serve HTTPS: certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="its private key (PEM)")] = None,
    tls_client_ca: Annotated[Path | None, typer.Option(
        help="mutual TLS: only clients with a certificate from this CA (PEM)")] = None,
) -> None:
    """Run the API server (several workers share the database and hold no private state)."""
    import os

    from onceonly.config import trusted_proxies
    from onceonly.entrypoints.api.server import serve as serve_api
    from onceonly.entrypoints.tls import TlsSettingsInvalid, uvicorn_tls
    from onceonly.logging import configure_logging

    try:
        tls = uvicorn_tls(tls_cert, tls_key, tls_client_ca)
        trusted_proxies()  # read again by each worker; a mistake in it stops here
    except (TlsSettingsInvalid, ValueError) as problem:
        fail(str(problem))
    _check_private_keys(open_exchange(db))  # fail here, clearly, not in every worker
    os.environ["ONCEONLY_DATABASE_URL"] = database_url(db)
    configure_logging()
    serve_api(workers, host=host, port=port, access_log=False, log_level="warning",
              proxy_headers=False, **tls)  # the app reads them (ONCEONLY_TRUSTED_PROXIES)


def _check_private_keys(exchange: Exchange) -> None:
    """The operator's private key must decrypt with the configured master keys: a server
    that cannot sign would answer every query with an error."""
    from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable

    try:
        exchange.keys.sign_compact_for(exchange.audit.operator_org, b"start-up check")
    except LookupError:
        pass  # an exchange with no operator key yet: nothing to decrypt
    except (MasterKeyUnavailable, EnvelopeInvalid) as exc:
        fail(f"cannot read the exchange's private keys: {exc}; point ONCEONLY_MASTER_KEY_FILE "
             "at the key file this database's keys were encrypted with")
    finally:
        exchange.close()


@app.command()
def demo(
    db: DbOption = None,
    people: Annotated[int, typer.Option(min=1, max=5_000_000, help="synthetic people")] = 10_000,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    seed_only: Annotated[bool, typer.Option(help="build the world, do not serve")] = False,
) -> None:
    """Build the demo world (docs/demo-world.md) and serve it, printing a token for each role."""
    from onceonly.demo.citizens import open_citizen_accounts
    from onceonly.demo.seed import WorldExists, build_world

    if db is None:
        shutil.rmtree(DEMO_DIR, ignore_errors=True)  # the default demo is rebuilt every time
        db = f"sqlite:///{(DEMO_DIR / 'exchange.sqlite').resolve()}"
    _check_database(db)
    exchange = bootstrap(db)
    try:
        with _progress() as bar:
            task = bar.add_task("building the demo world", total=people)
            world = build_world(exchange, db, people=people,
                                progress=lambda n: bar.advance(task, n))
        citizens = open_citizen_accounts(exchange, world)
    except WorldExists as exc:
        fail(f"{exc}: {db}")
    finally:
        exchange.close()
    _print_world(world, host, port, db)
    _print_web_sign_in(citizens, host, port, db)
    if not seed_only:
        from onceonly.demo.receivers import tell_us_once_running

        # The organisations' receivers and a delivery worker run in this process.
        delivering = bootstrap(db)
        with tell_us_once_running(delivering, world, f"http://{host}:{port}",
                                  receivers_port=port + 1):
            serve(db=db, host=host, port=port)
        delivering.close()


@app.command()
def worker(
    db: DbOption = None,
    batch: Annotated[int, typer.Option(
        min=1, max=1000, help="deliveries taken, and sent at once, per round")] = 100,
    timeout: Annotated[float, typer.Option(
        min=0.1, help="seconds to wait for a receiver")] = 10.0,
) -> None:
    """Deliver life-event notifications by webhook until stopped (Ctrl-C, SIGTERM). Start as
    many as you like on one PostgreSQL database: no delivery is taken by two at once."""
    import asyncio
    import signal

    from onceonly.entrypoints.worker import deliver_until
    from onceonly.logging import configure_logging

    configure_logging()
    exchange = open_exchange(db)

    async def main() -> int:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        return await deliver_until(exchange.deliveries, stop, batch=batch, timeout=timeout)

    try:
        delivered = asyncio.run(main())
    finally:
        exchange.close()
    console.print(f"worker stopped; {delivered} deliveries made")


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


def _print_world(world, host: str, port: int, db: str) -> None:
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

    death = _death_example(db, world.people)
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
  uv run onceonly people --db {db} --org GOV/DWP -n 5
  uv run onceonly walkthrough

API documentation: {base}/docs   OpenAPI 3.1: {base}/openapi.json
""", soft_wrap=True, highlight=False)


def _death_example(db: str, people: int) -> str:
    """A death report for a living demo person known to all seven organisations told."""
    from onceonly.demo.receivers import known_everywhere

    engine = make_engine(db)
    try:
        person = known_everywhere(engine, people)
    finally:
        engine.dispose()
    grn, name = (person.ids["grn"], person.full_name) if person else ("RN...", "...")
    return ('{"specversion": "1.0", "id": "death-0001", "source": "GOV/GRO/deaths", '
            '"type": "gov.onceonly.death.registered", '
            f'"subject": "grn:{grn}", "data": {{"full_name": "{name}", '
            '"date_of_death": "2026-11-20"}}')


@app.command()
def walkthrough(db: DbOption = None) -> None:
    """Tell the scripted story on a fresh demo world; exit 1 if any step misbehaves."""
    import logging

    from onceonly.demo.seed import WorldExists
    from onceonly.demo.walkthrough import run_walkthrough
    from onceonly.logging import configure_logging

    if db is not None:
        _check_database(db)
    configure_logging(logging.WARNING)  # the story prints each refusal itself
    try:
        passed = run_walkthrough(db, console)
    except WorldExists as exc:
        fail(f"{exc}: {db}")
    if not passed:
        raise typer.Exit(1)


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Recompute every leaf, every stored node and the root, check every signed tree head,
    its link to the head before it and its consistency with it; exit 1 naming the first bad
    index."""
    from onceonly.services.audit_log import verify_log

    exchange = open_exchange(db, read_only=True)
    try:
        with _progress() as bar:
            task = bar.add_task("verifying the audit log", total=None)
            result = verify_log(
                exchange.uows, exchange.keys.jwks(), log_org=exchange.audit.operator_org,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
    finally:
        exchange.close()
    if not result.ok:
        errors.print(f"[red]audit log verification failed at index {result.bad_index}:[/red] "
                     f"{result.problem}", soft_wrap=True)
        raise typer.Exit(1)
    pending = result.entries - result.signed_size
    console.print(f"verified {result.entries} entries, root {result.root.hex()}", soft_wrap=True)
    console.print(f"{result.heads} signed tree heads checked; "
                  f"{pending} entries not yet under a signed head", style="dim")
    if result.unchained:
        console.print(f"the first {result.unchained} heads were signed before heads named "
                      f"the one before them: the chain starts at the head of "
                      f"{result.chained_from} entries", style="dim")


@audit_app.command("integrate")
def audit_integrate(db: DbOption = None) -> None:
    """Bring every new entry under a signed tree head now (servers do it every second)."""
    from onceonly.audit.entries import EntryUnreadable

    exchange = open_exchange(db)
    try:
        head = exchange.audit.integrate().head
    except EntryUnreadable as stopped:
        latest = exchange.audit.tree_head().head.tree_size
        errors.print(Text.assemble(("integration stopped at ", "red"), str(stopped),
                                   f"; {latest} entries are under the latest signed head, and "
                                   "the operator is alerted (GET /v1/operator-alerts)"),
                     soft_wrap=True)
        raise typer.Exit(1) from None
    except RuntimeError as exc:
        fail(str(exc))
    finally:
        exchange.close()
    console.print(f"tree head: {head.tree_size} entries, root {head.root_hash.hex()}",
                  soft_wrap=True)


@audit_app.command("proof")
def audit_proof(
    index: Annotated[int, typer.Option(min=0, help="the entry's index")],
    tree_size: Annotated[int | None, typer.Option(
        min=1, help="the tree to prove it in (default: the latest signed head)")] = None,
    db: DbOption = None,
) -> None:
    """Print entry INDEX's inclusion proof (RFC 9162) as JSON, checked against the root."""
    import json

    from onceonly.audit import merkle
    from onceonly.audit.heads import b64

    exchange = open_exchange(db)
    try:
        head = exchange.audit.tree_head().head
        proof = exchange.audit.inclusion_proof(index, tree_size)
        root = (head.root_hash if proof.tree_size == head.tree_size else
                exchange.audit.root_at(proof.tree_size))
    except DomainError as error:
        fail(error.detail)
    except RuntimeError as exc:  # no head yet, and no key to sign one
        fail(str(exc))
    finally:
        exchange.close()
    verified = merkle.verify_inclusion(proof.leaf_hash, index, proof.tree_size,
                                       proof.audit_path, root)
    print(json.dumps({"leaf_index": index, "tree_size": proof.tree_size,
                      "leaf_hash": b64(proof.leaf_hash),
                      "audit_path": [b64(h) for h in proof.audit_path],
                      "root_hash": b64(root), "verified": verified}, indent=2))
    if not verified:
        raise typer.Exit(1)


@audit_app.command("check")
def audit_check(
    url: Annotated[str, typer.Option(help="the exchange's base URL")],
    jwks: Annotated[Path | None, typer.Option(
        help="the exchange's public keys (JWKS file) to pin; only those whose `org` is "
             "--log-org are used; default: fetched from the server")] = None,
    state: Annotated[Path | None, typer.Option(
        help="a file keeping the last tree head seen, to prove the next one extends it")] = None,
    samples: Annotated[int, typer.Option(min=1, max=1000,
                                         help="entries whose inclusion to prove")] = 16,
    token: Annotated[str | None, typer.Option(
        envvar="ONCEONLY_TOKEN", help="an API token: entries it may read are checked "
                                      "byte for byte")] = None,
    log_org: Annotated[str, typer.Option(
        envvar="ONCEONLY_OPERATOR_ORG", help="the organisation whose key signs the log's "
                                             "tree heads")] = "GOV/EXCHANGE",
) -> None:
    """Verify a live exchange's log from outside, with its public key and its HTTP API."""
    import json

    import httpx

    from onceonly.audit.heads import verify_tree_head
    from onceonly.client import ExchangeError, OnceonlyClient
    from onceonly.crypto.signing import SignatureInvalid

    try:
        pinned = json.loads(jwks.read_text()) if jwks else None
    except (OSError, ValueError) as exc:
        fail(f"cannot read the keys in {jwks}: {exc}")
    if jwks and not (isinstance(pinned, dict) and isinstance(pinned.get("keys"), list)
                     and pinned["keys"]):
        fail(f"{jwks} holds no keys: expected a JWKS, {{\"keys\": [...]}}")
    client = OnceonlyClient(url, token)
    try:
        keys = pinned if pinned is not None else client.jwks()
        previous = None
        if state is not None and state.exists():
            try:
                previous = verify_tree_head(json.loads(state.read_text()), keys, log_org)
            except (OSError, ValueError, SignatureInvalid) as exc:
                fail(f"the tree head kept in {state} does not verify: {exc}")
        result = client.check_log(previous=previous, samples=samples, jwks=keys,
                                  log_org=log_org)
    except (httpx.HTTPError, ExchangeError) as exc:
        fail(f"cannot check {url}: {exc}")
    finally:
        client.close()
    for problem in result.problems:
        errors.print(f"[red]problem:[/red] {problem}", soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)
    assert result.head is not None
    head = result.head.head
    console.print(f"tree head verified: {head.tree_size} entries, root "
                  f"{head.root_hash.hex()}", soft_wrap=True)
    if result.consistent_from is not None:
        console.print(f"it extends the {result.consistent_from}-entry head seen before")
    console.print(f"inclusion proven for {len(result.sampled)} sampled entries; "
                  f"{result.entries_read} of them read and matched byte for byte")
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps(result.head.as_json()))


@anomaly_app.command("rule")
def anomaly_rule(
    consumer: Annotated[str, typer.Option(help="the consuming organisation, e.g. COM/ACME")],
    kind: Annotated[str, typer.Option(
        help="many_persons, sequential_ids, off_hours or refusal_storm")],
    threshold: Annotated[int, typer.Option(help="fire once the count reaches this")],
    window: Annotated[int, typer.Option(help="over this many seconds")],
    officer: Annotated[str | None, typer.Option(
        help="one officer's id, for a threshold of their own")] = None,
    db: DbOption = None,
) -> None:
    """Set a consumer's (or one of its officers') threshold for a kind of anomaly."""
    exchange = open_exchange(db)
    try:
        exchange.anomalies.set_rule(consumer, officer, kind, threshold, window)
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    who = f"officer {officer} of {consumer}" if officer else consumer
    console.print(f"{kind} for {who}: {threshold} within {window} s")


# --- keys: the master keys of encryption at rest ------------------------------------------

keys_app = typer.Typer(help="Master keys: encryption at rest of what the exchange stores.",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(db: DbOption = None) -> None:
    """Make the master key file (ONCEONLY_MASTER_KEY_FILE, else the default in the data
    directory) with one new key, readable by its owner only."""
    from onceonly.adapters.kms_file import create_key_file
    from onceonly.config import master_key_file
    from onceonly.crypto.envelope import MasterKeyUnavailable

    path, _ = master_key_file(_database_url(db))
    try:
        key_id = create_key_file(path)
    except MasterKeyUnavailable as exc:
        fail(str(exc))
    console.print(f"made the master key file {path} (mode 0600) with master key {key_id}",
                  soft_wrap=True)


@keys_app.command("rotate")
def keys_rotate(
    db: DbOption = None,
    rewrap_now: Annotated[bool, typer.Option(
        "--rewrap-now", help="re-wrap every data key under the new master key now, rather "
                             "than when each is next used")] = False,
) -> None:
    """Add a new master key to the key file and make it current, without downtime: running
    servers pick it up, new data keys are wrapped with it, older data keys are re-wrapped
    when next used (or now, with --rewrap-now). Old master keys stay in the file."""
    from onceonly.adapters.kms_file import FileMasterKeys
    from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable

    exchange = open_exchange(db)
    try:
        master = exchange.master_keys
        if isinstance(master, FileMasterKeys):
            in_use = exchange.envelopes.count_by_master()
            _key_file_exists(master.path, in_use)
            held = {key.id for key in master.held()}
            missing = sorted(set(in_use) - held)
            if missing:  # the wrong key file for this database: do not add to it
                fail(f"the master key file {master.path} lacks {', '.join(missing)}, which "
                     f"wrap {sum(in_use[m] for m in missing)} data keys of this database: is "
                     "it the key file this database was set up with? Nothing was changed")
            new_id = master.rotate()
            console.print(f"master key {new_id} is now current ({master.path}, "
                          f"{len(held) + 1} keys)", soft_wrap=True)
        elif rewrap_now:  # a KMS: its new key version was made primary there
            new_id = master.current_id()
        else:
            fail("the master keys are held by a KMS: make a new key version primary there, "
                 "then run `onceonly keys rotate --rewrap-now`")
        sealed = exchange.keys.seal_plaintext()
        if sealed:
            console.print(f"encrypted {sealed} private keys that were stored in plaintext")
        failed: list[tuple[str, str]] = []
        if rewrap_now:
            result = exchange.envelopes.rewrap_all()
            failed = result.failed
            console.print(f"re-wrapped {result.rewrapped} data keys under {new_id}")
        waiting = sum(n for m, n in exchange.envelopes.count_by_master().items()
                      if m != new_id)
    except MasterKeyUnavailable as exc:
        fail(str(exc))
    except EnvelopeInvalid as exc:
        errors.print(Text.assemble(("problem: ", "red"), str(exc)), soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        exchange.close()
    for key_id, why in failed:
        errors.print(Text.assemble(("problem: ", "red"), f"data key {key_id}: {why}"),
                     soft_wrap=True)
    if waiting:
        console.print(f"{waiting} data keys are still wrapped by older master keys: each is "
                      "re-wrapped when next used (or run with --rewrap-now); keep the older "
                      "master keys in the file until none is left", soft_wrap=True)
    if failed:
        raise typer.Exit(1)


def _key_file_exists(path: Path, in_use: dict[str, int]) -> None:
    """A default key file is made when first needed, but not in place of one this database's
    data keys were wrapped with."""
    if in_use and not path.exists():
        fail(f"the master key file {path} does not exist, yet {sum(in_use.values())} "
             "data keys of this database are wrapped by master keys in it: restore it, or set "
             "ONCEONLY_MASTER_KEY_FILE to where it is. Nothing was changed")


@keys_app.command("status")
def keys_status(db: DbOption = None) -> None:
    """The master keys in the key file (ids and dates, never keys), how many data keys each
    wraps, and how many private keys are still stored in plaintext."""
    from onceonly.adapters.kms_file import FileMasterKeys
    from onceonly.crypto.envelope import MasterKeyUnavailable

    exchange = open_exchange(db, read_only=True)
    try:
        master = exchange.master_keys
        in_use = exchange.envelopes.count_by_master()
        plaintext = exchange.keys.plaintext_count()
        if isinstance(master, FileMasterKeys):
            _key_file_exists(master.path, in_use)
            held, current = master.held(), master.current_id()
            console.print(f"master key file {master.path}", soft_wrap=True)
        else:
            held, current = [], master.current_id()
    except MasterKeyUnavailable as exc:
        fail(str(exc))
    finally:
        exchange.close()
    for key in held:
        mark = "  current" if key.id == current else ""
        console.print(f"  {key.id}  made {key.created_at}  wraps {in_use.get(key.id, 0)} "
                      f"data keys{mark}", highlight=False)
    for key_id in sorted(set(in_use) - {key.id for key in held}):
        console.print(f"  {key_id}  not in the key file  wraps {in_use[key_id]} data keys",
                      highlight=False)
    console.print(f"{sum(in_use.values())} data keys; {plaintext} private keys in plaintext",
                  highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
