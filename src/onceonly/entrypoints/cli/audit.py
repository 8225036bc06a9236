"""`onceonly audit ...`: the tamper-evident audit log, checked from inside and from outside."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from onceonly.audit import merkle
from onceonly.audit.bundles import verify as verify_bundle
from onceonly.audit.entries import EntryUnreadable
from onceonly.audit.heads import b64, verify_tree_head
from onceonly.crypto.cosignatures import CosignatureInvalid, Witness, parse_vkey
from onceonly.crypto.signing import SignatureInvalid
from onceonly.crypto.timestamps import TimestampInvalid, load_roots
from onceonly.domain.errors import DomainError
from onceonly.entrypoints.cli.common import (
    DbOption,
    console,
    errors,
    fail,
    open_exchange,
    progress,
)
from onceonly.services.audit_verification import verify_log
from onceonly.services.timestamps import NoAuthorityAnswered, TimestampReport

if TYPE_CHECKING:
    from onceonly.client import LogCheck

audit_app = typer.Typer(help="The tamper-evident audit log (RFC 9162 Merkle tree).",
                        no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Recompute every leaf, every stored node and the root, check every signed tree head,
    its link to the head before it and its consistency with it; exit 1 naming the first bad
    index."""
    exchange = open_exchange(db, read_only=True)
    try:
        with progress() as bar:
            task = bar.add_task("verifying the audit log", total=None)
            result = verify_log(
                exchange.uows, exchange.key_store.jwks(), log_org=exchange.audit.operator_org,
                progress=lambda done, total: bar.update(task, completed=done, total=total))
        stamps = exchange.timestamps.verify()
    finally:
        exchange.close()
    if not result.ok:
        errors.print(f"[red]audit log verification failed at index {result.bad_index}:[/red] "
                     f"{result.problem}", soft_wrap=True)
        raise typer.Exit(1)
    _report_timestamps(stamps)
    pending = result.entries - result.signed_size
    console.print(f"verified {result.entries} entries, root {result.root.hex()}", soft_wrap=True)
    console.print(f"{result.heads} signed tree heads checked; "
                  f"{pending} entries not yet under a signed head", style="dim")
    if result.unchained:
        console.print(f"the first {result.unchained} heads were signed before heads named "
                      f"the one before them: the chain starts at the head of "
                      f"{result.chained_from} entries", style="dim")


def _report_timestamps(stamps: TimestampReport) -> None:
    """What `audit verify` says of the heads' RFC 3161 timestamps; exit 1 on a bad token."""
    for size, problem in stamps.bad:
        errors.print(Text.assemble((f"timestamp of the head of {size} entries: ", "red"),
                                   problem), soft_wrap=True)
    console.print(f"{stamps.stamped} of {stamps.heads} signed tree heads carry a verified "
                  "RFC 3161 timestamp", soft_wrap=True)
    if stamps.covered:
        console.print(f"{len(stamps.covered)} heads have none of their own and are covered by "
                      f"a later head's: {_sizes(stamps.covered)}", style="dim", soft_wrap=True)
    if stamps.waiting:
        console.print(f"{len(stamps.waiting)} heads have no timestamp yet (waiting for an "
                      f"authority): {_sizes(stamps.waiting)}", soft_wrap=True)
    if not stamps.ok:
        raise typer.Exit(1)


def _sizes(sizes: list[int], shown: int = 10) -> str:
    listed = ", ".join(str(size) for size in sizes[:shown])
    return listed + (f" and {len(sizes) - shown} more" if len(sizes) > shown else "")


@audit_app.command("timestamp")
def audit_timestamp(db: DbOption = None) -> None:
    """Timestamp the signed tree heads waiting for one now (servers do it in the
    background), by the authorities in ONCEONLY_TSA_URLS; say how many still wait."""
    exchange = open_exchange(db)
    try:
        if not exchange.timestamps.configured:
            fail("no timestamping authority is configured: set ONCEONLY_TSA_URLS (and "
                 "ONCEONLY_TSA_ROOTS, the certificates they chain to)")
        problem = None
        try:
            while exchange.timestamps.stamp_waiting():
                pass
        except NoAuthorityAnswered as exc:
            problem = str(exc)
        waiting = exchange.timestamps.waiting()
    finally:
        exchange.close()
    if problem is not None:
        errors.print(Text(problem, style="red"), soft_wrap=True)
    console.print(f"{waiting} signed tree heads waiting for a timestamp")
    if problem is not None:
        raise typer.Exit(1)


@audit_app.command("integrate")
def audit_integrate(db: DbOption = None) -> None:
    """Bring every new entry under a signed tree head now (servers do it every second)."""
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


def _pinned_keys(jwks: Path | None) -> dict | None:
    """The JWKS file given to pin, or None to fetch the keys from the server."""
    if jwks is None:
        return None
    try:
        pinned = json.loads(jwks.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read the keys in {jwks}: {exc}")
    if not (isinstance(pinned, dict) and isinstance(pinned.get("keys"), list)
            and pinned["keys"]):
        fail(f"{jwks} holds no keys: expected a JWKS, {{\"keys\": [...]}}")
    return pinned


def _witness_keys(vkeys: list[str], required: int) -> list[Witness]:
    try:
        witnesses = [parse_vkey(vkey) for vkey in vkeys]
    except CosignatureInvalid as exc:
        fail(f"--witness: {exc}")
    if required > len(witnesses):
        fail(f"--cosignatures {required} needs at least as many --witness keys")
    return witnesses


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
    witness: Annotated[list[str] | None, typer.Option(
        help="a witness's verifier key (C2SP vkey, as `onceonly witness key` prints it) "
             "whose cosignature of the head counts; repeat for each")] = None,
    cosignatures: Annotated[int, typer.Option(
        min=0, help="how many of the witnesses named must have cosigned the head")] = 0,
) -> None:
    """Verify a live exchange's log from outside, with its public key and its HTTP API."""
    # Deferred on purpose: the HTTP client is start-up time that only this command needs.
    import httpx

    from onceonly.client import ExchangeError, OnceonlyClient

    pinned = _pinned_keys(jwks)
    witnesses = _witness_keys(witness or [], cosignatures)
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
                                  log_org=log_org, witnesses=witnesses,
                                  cosignatures=cosignatures)
    except (httpx.HTTPError, ExchangeError) as exc:
        fail(f"cannot check {url}: {exc}")
    finally:
        client.close()
    _report_check(result, state)


def _report_check(result: LogCheck, state: Path | None) -> None:
    for problem in result.problems:
        errors.print(f"[red]problem:[/red] {problem}", soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)
    assert result.head is not None
    head = result.head.head
    console.print(f"tree head verified: {head.tree_size} entries, root "
                  f"{head.root_hash.hex()}", soft_wrap=True)
    if result.cosigned_by:
        console.print(f"cosigned by {len(result.cosigned_by)} witnesses: "
                      f"{', '.join(result.cosigned_by)}", soft_wrap=True)
    if result.consistent_from is not None:
        console.print(f"it extends the {result.consistent_from}-entry head seen before")
    console.print(f"inclusion proven for {len(result.sampled)} sampled entries; "
                  f"{result.entries_read} of them read and matched byte for byte")
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps(result.head.as_json()))


def _day(text: str, option: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        fail(f"{option} {text!r} is not a date (YYYY-MM-DD)")


@audit_app.command("export")
def audit_export(
    file: Annotated[Path, typer.Argument(help="the bundle to write (JSON Lines)")],
    start: Annotated[str, typer.Option("--from", help="the first day (YYYY-MM-DD, UTC)")],
    end: Annotated[str, typer.Option("--to", help="the last day (YYYY-MM-DD, UTC), included")],
    provider: Annotated[str | None, typer.Option(
        help="the provider whose data the entries are about (default: every entry)")] = None,
    db: DbOption = None,
) -> None:
    """Write an archive bundle: the entries about PROVIDER's data in the period, each with
    its inclusion proof to one signed tree head, that head's RFC 3161 timestamp and
    cosignatures, and every public key needed (docs/audit-bundles.md)."""
    first, last = _day(start, "--from"), _day(end, "--to") + timedelta(days=1)
    if file.exists():
        fail(f"{file} exists: a bundle is never overwritten")
    exchange = open_exchange(db)
    partial = file.with_name(file.name + ".partial")
    try:
        with partial.open("wb") as out:
            exported = exchange.bundles.export(provider, first, last, out)
        partial.rename(file)
        exchange.bundles.record(exported)  # its entries may now be pruned
    except DomainError as error:
        fail(error.detail)
    finally:
        partial.unlink(missing_ok=True)
        exchange.close()
    console.print(f"{exported.entries} entries written to {file}, proven against the head of "
                  f"{exported.tree_size} entries "
                  f"({'timestamped' if exported.timestamped else 'no RFC 3161 timestamp'}, "
                  f"{exported.cosignatures} cosignatures)", soft_wrap=True)


@audit_app.command("verify-bundle")
def audit_verify_bundle(
    file: Annotated[Path, typer.Argument(help="a bundle written by `audit export`")],
    jwks: Annotated[Path | None, typer.Option(
        help="the log operator's public keys (JWKS file) to pin; default: the bundle's")] = None,
    witness: Annotated[list[str] | None, typer.Option(
        help="a witness's verifier key to pin (repeat); default: the bundle's")] = None,
    tsa_roots: Annotated[Path | None, typer.Option(
        help="the timestamping authorities' root certificates (PEM) to pin")] = None,
    cosignatures: Annotated[int, typer.Option(
        min=0, help="how many valid witness cosignatures the head must carry")] = 0,
    timestamped: Annotated[bool, typer.Option(
        help="require a valid RFC 3161 timestamp of the head")] = False,
) -> None:
    """Check a bundle offline (no database, no network): the head's signature, its
    timestamp and cosignatures, and each entry's inclusion proof, provider and time."""
    pinned = _pinned_keys(jwks)
    try:
        roots = load_roots(tsa_roots.read_bytes()) if tsa_roots is not None else None
        with file.open("rb") as lines:
            report = verify_bundle(lines, jwks=pinned, witnesses=witness, tsa_roots=roots)
    except (OSError, TimestampInvalid) as exc:
        fail(f"cannot read: {exc}")
    if report.ok and len(report.cosigned_by) < cosignatures:
        report.problems.append(f"cosignatures: {len(report.cosigned_by)} valid, "
                               f"{cosignatures} required")
    if report.ok and timestamped and report.timestamped_at is None:
        report.problems.append("rfc3161: the head has no timestamp, one was required")
    for problem in report.problems:
        errors.print(Text.assemble(("problem: ", "red"), problem), soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)
    assert report.head is not None
    head = report.head.head
    console.print(f"bundle verified: {report.entries} entries about "
                  f"{report.provider or 'every provider'}, proven against the head of "
                  f"{head.tree_size} entries, root {head.root_hash.hex()}", soft_wrap=True)
    console.print(f"timestamped at {report.timestamped_at}" if report.timestamped_at
                  else "the head has no RFC 3161 timestamp", soft_wrap=True)
    console.print(f"cosigned by {len(report.cosigned_by)} witnesses"
                  + (f": {', '.join(report.cosigned_by)}" if report.cosigned_by else ""),
                  soft_wrap=True)
    console.print("compare these keys with those their holders publish:", style="dim")
    for key in report.keys:
        console.print(f"  {key}", style="dim", soft_wrap=True)


@audit_app.command("prune")
def audit_prune(
    before: Annotated[str, typer.Option(help="remove entries appended before this day "
                                             "(YYYY-MM-DD, UTC): the retention period's start")],
    db: DbOption = None,
) -> None:
    """Remove old entries from the live database, only once a bundle (`audit export`) holds
    every one; the tree keeps their leaves, so every proof and `audit verify` still hold."""
    cutoff = _day(before, "--before")
    exchange = open_exchange(db)
    try:
        pruned = exchange.bundles.prune(cutoff)
    except DomainError as error:
        errors.print(Text.assemble(("refused: ", "red"), error.detail), soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        exchange.close()
    console.print(f"{pruned.removed} entries removed; the live log now starts at entry "
                  f"{pruned.before}", soft_wrap=True)
