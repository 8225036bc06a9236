"""`onceonly key add|retire|list`: an organisation's own public keys, managed by the
operator at the command line (the API lets the organisation's guardians do it)."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from onceonly.domain.errors import DomainError
from onceonly.domain.org_keys import DEFAULT_OVERLAP, KeyPurpose
from onceonly.domain.organisations import Principal, Role
from onceonly.entrypoints.cli.common import DbOption, console, fail, open_exchange

key_app = typer.Typer(help="An organisation's own public keys (it keeps the private keys).",
                      no_args_is_help=True)

OrgOption = Annotated[str, typer.Option("--org", help="the organisation, e.g. GOV/HMRC")]
OverlapOption = Annotated[int, typer.Option(
    "--overlap-hours", help="how long a retired key still verifies")]
DEFAULT_HOURS = int(DEFAULT_OVERLAP.total_seconds() // 3600)


def operator(exchange_operator: str) -> Principal:
    """Who acts at the command line: the operator, with the database in hand."""
    return Principal("cli", "the operator's command line", exchange_operator, Role.ADMIN)


def _read_jwk(source: str) -> object:
    text = sys.stdin.read() if source == "-" else None
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as problem:
            fail(f"cannot read {source}: {problem.strerror}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        fail(f"{source} is not JSON (line {problem.lineno}): {problem.msg}")


@key_app.command("add")
def key_add(
    org: OrgOption,
    jwk: Annotated[str, typer.Option(help="a file holding the public JWK, or - for stdin")],
    purpose: Annotated[list[KeyPurpose], typer.Option(
        help="sign (its signed requests) and/or verify; repeat for both")],
    replaces: Annotated[str | None, typer.Option(
        help="a rotation: the registered key this one replaces")] = None,
    overlap_hours: OverlapOption = DEFAULT_HOURS,
    db: DbOption = None,
) -> None:
    """Register an organisation's public key (Ed25519 JWK); never its private key."""
    document = _read_jwk(jwk)
    exchange = open_exchange(db)
    try:
        key = exchange.org_keys.register(
            operator(exchange.audit.operator_org), org, document, [p.value for p in purpose],
            replaces=replaces, overlap=timedelta(hours=overlap_hours))
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    console.print(f"registered {key.kid} for {org} "
                  f"({', '.join(sorted(p.value for p in key.purposes))})"
                  + (f", retiring {replaces}" if replaces else ""), soft_wrap=True)


@key_app.command("retire")
def key_retire(
    org: OrgOption,
    kid: Annotated[str, typer.Option(help="the key's id (its thumbprint)")],
    overlap_hours: OverlapOption = DEFAULT_HOURS,
    db: DbOption = None,
) -> None:
    """Retire a registered key: it still verifies for the overlap, then no longer."""
    exchange = open_exchange(db)
    try:
        key = exchange.org_keys.retire(operator(exchange.audit.operator_org), org, kid,
                                       timedelta(hours=overlap_hours))
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    assert key.not_after is not None
    console.print(f"retired {key.kid} of {org}; it verifies until {key.not_after.isoformat()}",
                  soft_wrap=True)


@key_app.command("list")
def key_list(org: OrgOption, db: DbOption = None) -> None:
    """An organisation's keys, one a line: kid, registered or hosted (the exchange holds
    it), purposes, state."""
    exchange = open_exchange(db, read_only=True)
    try:
        keys = exchange.org_keys.list(org)
        now = exchange.clock.now()
    except DomainError as error:
        fail(error.detail)
    finally:
        exchange.close()
    for key in keys.registered:  # one line a key, whole, for people and scripts alike
        state = ("in use" if key.retired_at is None else
                 f"retired, verifies until {key.not_after:%Y-%m-%dT%H:%M}Z"
                 if key.usable_at(now) else "retired")
        print(key.kid, "registered", ",".join(sorted(p.value for p in key.purposes)), state,
              sep="\t")
    for kid, active in keys.hosted:
        print(kid, "hosted", "sign", "active" if active else "inactive", sep="\t")
