"""Archive bundles on SQLite and PostgreSQL: a provider's entries in a period exported with
their inclusion proofs, the head's RFC 3161 timestamp (a real authority, `openssl ts`) and a
witness's cosignature; checked offline; and, altered in one byte in each part, refused
naming the part."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import DBAPIError

from onceonly.adapters.db import tables as t
from onceonly.adapters.timestamp_authority import HttpTimestampAuthority
from onceonly.audit import merkle
from onceonly.audit.bundles import verify
from onceonly.audit.checkpoints import body_of
from onceonly.bootstrap import Exchange
from onceonly.crypto.cosignatures import Witness, cosign
from onceonly.crypto.timestamps import load_roots
from onceonly.domain.errors import DomainError
from onceonly.services.audit_verification import verify_log
from onceonly.services.bundles import BundleKeys, BundleService
from onceonly.services.ports.audit import AuditSearch
from onceonly.services.ports.witnesses import Cosignature
from onceonly.services.timestamps import TimestampService
from tests.integration.test_audit import _operator, entry
from tests.support.tsa import TestAuthority

ORIGIN = "exchange.example/audit"
WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS = Witness("auditor.example/witness", WITNESS_KEY.public_key())


@pytest.fixture(scope="module")
def tsa() -> Iterator[TestAuthority]:
    authority = TestAuthority()
    yield authority
    authority.close()


def appended(log: Exchange, providers: list[str], at: datetime) -> None:
    with log.uows(write=True) as uow:
        for n, provider in enumerate(providers):
            # Every other entry holds a float, which RFC 8785 spells unlike Python's JSON.
            detail = {"ratio": 1.0, "note": "caf\u00e9 \u2028"} if n % 2 else {"n": n}
            uow.audit.record(entry(n, provider_id=provider, detail=detail), at)
        uow.commit()


def cosigned(log: Exchange, size: int) -> None:
    """A witness's real cosignature of the head (the witness protocol is tested apart)."""
    head = log.audit.tree_head().head
    signature = cosign(WITNESS_KEY, body_of(ORIGIN, size, head.root_hash), 1_800_000_000)
    with log.uows(write=True) as uow:
        uow.cosignatures.add(Cosignature(size, WITNESS.name, 1_800_000_000, signature))
        uow.commit()


@pytest.fixture
def log(exchange: Exchange, tsa: TestAuthority) -> Exchange:
    _operator(exchange)
    now = datetime.now(UTC)
    appended(exchange, ["GOV/HMRC", "GOV/DVLA"] * 3, now - timedelta(days=10))  # 0-5
    appended(exchange, ["GOV/HMRC", "GOV/DVLA", None] * 4, now)  # 6-17
    appended(exchange, ["GOV/HMRC"] * 2, now + timedelta(days=10))  # 18-19
    size = exchange.audit.integrate().head.tree_size
    roots = load_roots(tsa.ca_file.read_bytes())
    TimestampService(exchange.uows, exchange.clock, [HttpTimestampAuthority(tsa.url)],
                     lambda: roots).stamp_waiting()
    cosigned(exchange, size)
    return exchange


def bundles(log: Exchange, tsa: TestAuthority) -> BundleService:
    return BundleService(log.uows, log.clock, BundleKeys(
        log.key_store.jwks, lambda: [WITNESS.vkey],
        lambda: [tsa.ca_file.read_text()]), origin=ORIGIN, log_org="GOV/EXCHANGE")


def exported(log: Exchange, tsa: TestAuthority, provider: str | None = "GOV/HMRC") -> bytes:
    out = io.BytesIO()
    now = datetime.now(UTC)
    bundles(log, tsa).export(provider, now - timedelta(days=1), now + timedelta(days=1), out)
    return out.getvalue()


def test_a_providers_entries_in_the_period_are_exported_and_verify_offline(log, tsa):
    bundle = exported(log, tsa)
    lines = bundle.splitlines(keepends=True)
    header = json.loads(lines[0])
    assert header["entries"] == 4 == len(lines) - 1
    indexes = [json.loads(json.loads(line)["leaf"])["index"] for line in lines[1:]]
    assert indexes == [6, 9, 12, 15]
    report = verify(lines)
    assert report.ok, report.problems
    assert report.entries == 4 and report.provider == "GOV/HMRC"
    assert report.cosigned_by == [WITNESS.name]
    assert report.timestamped_at is not None and report.head.head.tree_size == 20
    everyone = verify(exported(log, tsa, provider=None).splitlines(keepends=True))
    assert everyone.ok and everyone.entries == 12


def one_byte(bundle: bytes, inside: str, at: int = 0) -> bytes:
    """`bundle` with one character changed in the middle of the text `inside` (its
    `at`-th appearance), kept in the same alphabet."""
    start = -1
    for _ in range(at + 1):
        start = bundle.index(inside.encode(), start + 1)
    position = start + len(inside) // 2
    original = bundle[position:position + 1]
    swapped = b"B" if original != b"B" else b"C"
    if original.isdigit():
        swapped = b"7" if original != b"7" else b"8"
    return bundle[:position] + swapped + bundle[position + 1:]


def parts(bundle: bytes) -> dict[str, str]:
    lines = bundle.splitlines()
    header = json.loads(lines[0])
    first = json.loads(lines[1])
    return {
        "head": header["head"]["signature"].split(".")[2],
        "root": f'"root_hash":"{header["head"]["root_hash"]}"',  # the head's, not the checkpoint's
        "checkpoint": header["checkpoint"].split("\n")[2],
        "cosignature": header["cosignatures"][0]["signature"],
        "rfc3161": header["rfc3161"]["token"],
        "jwks": header["keys"]["jwks"]["keys"][0]["x"],
        "witness key": header["keys"]["witnesses"][0].split("+")[2],
        "tsa root": header["keys"]["tsa_roots"][0].split("\n")[5],
        "leaf": first["leaf"].split('"person_key":"')[1][:6],
        "proof": first["proof"][0],
    }


EXPECTED = {
    "head": "head: the signed tree head does not verify",
    "root": "head: the signed tree head does not verify",
    "checkpoint": "checkpoint: it does not name the head's size and root",
    "cosignature": "cosignatures: auditor.example/witness's cosignature does not verify",
    "rfc3161": "rfc3161: the timestamp of the head does not verify",
    "jwks": "head: the signed tree head does not verify",
    "witness key": "keys: a witness key does not read",
    # A changed byte in the root either breaks its DER or only its signature's meaning.
    "tsa root": ("rfc3161: the timestamp of the head does not verify",
                 "keys: an authority certificate does not read"),
    "leaf": "entry 6 (line 2) its inclusion proof does not lead to the head of 20 entries",
    "proof": "entry 6 (line 2) its inclusion proof does not lead to the head of 20 entries",
}


@pytest.mark.parametrize("part", EXPECTED)
def test_one_byte_changed_in_any_part_is_refused_naming_the_part(log, tsa, part):
    bundle = exported(log, tsa)
    altered = one_byte(bundle, parts(bundle)[part])
    assert altered != bundle and len(altered) == len(bundle)
    report = verify(altered.splitlines(keepends=True))
    assert not report.ok
    assert any(problem.startswith(EXPECTED[part]) for problem in report.problems), \
        report.problems


def test_entries_removed_added_or_not_the_providers_are_refused(log, tsa):
    lines = exported(log, tsa).splitlines(keepends=True)
    dropped = verify([lines[0], *lines[1:3], *lines[4:]])
    assert dropped.problems == ["entries: the bundle holds 3 entry lines, its header says 4"]
    repeated = verify([lines[0], *lines[1:], lines[-1]])
    assert "is out of order or repeated" in repeated.problems[0]
    other = exported(log, tsa, provider="GOV/DVLA").splitlines(keepends=True)
    foreign = verify([lines[0], lines[1], other[1], *lines[3:]])  # 6, then DVLA's 7
    assert foreign.problems == ["entry 7 (line 3) is not about GOV/HMRC's data"]
    assert verify([b"not json\n"]).problems == ["header: the first line is not JSON"]
    assert verify([b"{}\n"]).problems == ["header: not an onceonly-audit-bundle/v1 bundle"]


def test_pinned_keys_replace_the_bundles_own(log, tsa):
    bundle = exported(log, tsa).splitlines(keepends=True)
    stranger = Witness("auditor.example/witness", Ed25519PrivateKey.generate().public_key())
    pinned = verify(bundle, witnesses=[stranger.vkey])
    assert pinned.cosigned_by == [] and "cosignatures:" in pinned.problems[0]
    other = TestAuthority(name="Stranger")
    try:
        roots = load_roots(other.ca_file.read_bytes())
    finally:
        other.close()
    assert any(p.startswith("rfc3161:") for p in verify(bundle, tsa_roots=roots).problems)
    assert verify(bundle, jwks={"keys": []}).problems[0].startswith("head:")


def test_an_empty_period_is_refused(log, tsa):
    now = datetime.now(UTC)
    with pytest.raises(Exception, match="ends before it starts"):
        bundles(log, tsa).export("GOV/HMRC", now, now, io.BytesIO())


def test_a_bundle_file_is_written_by_the_command_line(log, tsa, db_url, tmp_path: Path,
                                                      monkeypatch):
    from typer.testing import CliRunner

    from onceonly.entrypoints.cli import app as cli

    monkeypatch.setenv("ONCEONLY_TSA_ROOTS", str(tsa.ca_file))
    day = datetime.now(UTC).date().isoformat()
    target = tmp_path / "hmrc.bundle"
    runner = CliRunner()
    made = runner.invoke(cli, ["audit", "export", "--provider", "GOV/HMRC", "--from", day,
                               "--to", day, "--db", db_url, str(target)])
    assert made.exit_code == 0, made.output
    assert "entries written" in made.output
    checked = runner.invoke(cli, ["audit", "verify-bundle", str(target), "--timestamped"])
    assert checked.exit_code == 0, checked.output
    assert "bundle verified" in checked.output and "timestamped at" in checked.output
    again = runner.invoke(cli, ["audit", "export", "--from", day, "--to", day, "--db", db_url,
                                str(target)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    bad_day = runner.invoke(cli, ["audit", "export", "--from", "yesterday", "--to", day,
                                  "--db", db_url, str(tmp_path / "x")])
    assert bad_day.exit_code == 2 and "is not a date" in bad_day.output
    first = json.loads(target.read_bytes().splitlines()[1])
    target.write_bytes(one_byte(target.read_bytes(), first["proof"][0]))
    refused = runner.invoke(cli, ["audit", "verify-bundle", str(target)])
    assert refused.exit_code == 1 and "inclusion proof does not lead" in refused.output


def test_old_entries_are_removed_only_once_a_bundle_holds_each(log, tsa):
    service = bundles(log, tsa)
    now = datetime.now(UTC)
    old = (now - timedelta(days=11), now - timedelta(days=9))
    with pytest.raises(DomainError, match="6 of the entries to remove are in no bundle, the "
                                          "first entry 0"):
        service.prune(now - timedelta(days=1))
    service.record(service.export("GOV/HMRC", *old, io.BytesIO()))
    with pytest.raises(DomainError, match="3 of the entries .* first entry 1:"):
        service.prune(now - timedelta(days=1))
    with log.uows() as uow:
        assert len(uow.audit.entries(0, 6)) == 6  # refused: nothing removed
        refusals = [r.entry for r in uow.audit.search(
            AuditSearch(limit=10, actions=("audit.prune",)))]
    assert [(e.outcome, e.reason) for e in refusals] == [("deny", "entries_not_exported")] * 2
    service.record(service.export("GOV/DVLA", *old, io.BytesIO()))
    pruned = service.prune(now - timedelta(days=1))
    assert (pruned.before, pruned.removed) == (6, 6)
    with log.uows() as uow:
        assert uow.audit.entries(0, 7)[0].index == 6
        assert uow.audit.pruned_below() == 6
    # Every proof still verifies, and so does the whole log, from the tree's leaves.
    proof = log.audit.inclusion_proof(0)
    head = log.audit.tree_head().head
    assert merkle.verify_inclusion(proof.leaf_hash, 0, proof.tree_size, proof.audit_path,
                                   log.audit.root_at(proof.tree_size))
    result = verify_log(log.uows, log.key_store.jwks())
    assert result.ok, result.problem
    assert result.entries >= head.tree_size
    # Pruning again removes nothing; any other delete is still refused by the database.
    assert service.prune(now - timedelta(days=1)).removed == 0
    with pytest.raises(DBAPIError, match="append-only"), log.engine.begin() as conn:
        conn.execute(sql_delete(t.audit_log).where(t.audit_log.c.seq == 10))
