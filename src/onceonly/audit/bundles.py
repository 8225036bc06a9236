"""Archive bundles: a provider's part of the audit log, taken away and checked offline, with
no database and no network (docs/audit-bundles.md specifies the format).

A bundle is JSON Lines (UTF-8, one JSON object a line): a header line, then one line per
entry, in index order. The header holds the signed tree head every entry is proven
against, that head's RFC 3161 timestamp and its witnesses' cosignatures, and every public
key needed; each entry line holds the entry's leaf (the RFC 8785 JSON the tree commits to)
and its inclusion proof to that head. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256

from onceonly.audit import merkle
from onceonly.audit.checkpoints import body_of
from onceonly.audit.heads import SignedTreeHead, b64, verify_tree_head
from onceonly.crypto.canonical import canonical_json, exact_canonical_json
from onceonly.crypto.cosignatures import (
    CosignatureInvalid,
    Witness,
    parse_vkey,
    verify_cosignature,
)
from onceonly.crypto.signing import SignatureInvalid
from onceonly.crypto.timestamps import TimestampInvalid, check_timestamp, load_roots

FORMAT = "onceonly-audit-bundle/v1"
MAX_PROBLEMS = 20  # entries named before the rest are counted only


@dataclass(frozen=True, slots=True)
class Period:
    """Entries at or after `start`, before `end` (RFC 3339 UTC, as entries spell times)."""

    start: str
    end: str


def header_line(*, provider: str | None, period: Period, origin: str, log_org: str,
                head: SignedTreeHead, cosignatures: Sequence[dict[str, Any]],
                rfc3161: dict[str, Any] | None, jwks: dict[str, Any],
                witnesses: Sequence[str], tsa_roots: Sequence[str], entries: int) -> bytes:
    return canonical_json({
        "format": FORMAT, "provider": provider, "from": period.start, "to": period.end,
        "origin": origin, "log_org": log_org, "head": head.as_json(),
        "checkpoint": body_of(origin, head.head.tree_size, head.head.root_hash).decode(),
        "cosignatures": list(cosignatures), "rfc3161": rfc3161,
        "keys": {"jwks": jwks, "witnesses": list(witnesses), "tsa_roots": list(tsa_roots)},
        "entries": entries}) + b"\n"


def entry_line(leaf: bytes, proof: Sequence[bytes],
               encode: Callable[[bytes], str] = b64) -> bytes:
    """RFC 8785 form: an object of two ASCII keys, text and a list of text, which orjson
    writes exactly so (tests hold it to rfc8785); a bundle has a line per entry. The leaf
    is UTF-8 (its own RFC 8785 bytes), so its text has no lone surrogate."""
    line = exact_canonical_json({"leaf": leaf.decode("utf-8"),
                                 "proof": [encode(node) for node in proof]})
    assert line is not None, "text decoded from UTF-8 encodes"
    return line + b"\n"


@dataclass
class BundleReport:
    """What `verify` found: each problem names the part of the bundle it is in."""

    provider: str | None = None
    period: Period | None = None
    entries: int = 0  # entry lines proven in the log
    head: SignedTreeHead | None = None
    timestamped_at: str | None = None
    cosigned_by: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # what to compare with published keys
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.head is not None


class _Refused(Exception):
    """The header cannot be read: nothing further can be checked."""


def verify(lines: Iterable[bytes], *, jwks: dict[str, Any] | None = None,
           witnesses: Sequence[str] | None = None,
           tsa_roots: Sequence[x509.Certificate] | None = None) -> BundleReport:
    """Check a bundle with the keys it carries, or those given (pinned: trust nothing the
    bundle says about its own keys)."""
    report = BundleReport()
    rows = iter(lines)
    try:
        header = _header(next(rows, b""))
        keys = header["keys"]
        head = _check_head(report, header, keys["jwks"] if jwks is None else jwks)
    except _Refused as refused:
        report.problems.append(str(refused))
        return report
    report.provider = header["provider"]
    report.period = Period(header["from"], header["to"])
    _check_cosignatures(report, header, head, keys["witnesses"] if witnesses is None
                        else witnesses)
    _check_timestamp(report, header, head, tsa_roots, keys["tsa_roots"])
    _check_entries(report, rows, head, header)
    return report


def _header(line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        raise _Refused("header: the first line is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _Refused(f"header: not an {FORMAT} bundle")
    try:
        keys = header["keys"]
        for name in ("provider", "from", "to", "origin", "log_org", "head", "checkpoint",
                     "cosignatures", "rfc3161", "entries"):
            header[name]  # noqa: B018 (each must be there)
        if not (isinstance(keys, dict) and isinstance(header["entries"], int)
                and isinstance(header["cosignatures"], list)):
            raise TypeError
        for name in ("jwks", "witnesses", "tsa_roots"):
            keys[name]  # noqa: B018
    except (KeyError, TypeError):
        raise _Refused("header: a field is missing or of the wrong kind") from None
    return header


def _check_head(report: BundleReport, header: dict[str, Any],
                jwks: dict[str, Any]) -> SignedTreeHead:
    try:
        head = verify_tree_head(header["head"], jwks, header["log_org"])
    except SignatureInvalid as exc:
        raise _Refused(f"head: the signed tree head does not verify against "
                       f"{header['log_org']}'s keys: {exc}") from None
    report.head = head
    report.keys += [f"log key {key.get('kid')} ({key.get('org')})"
                    for key in jwks.get("keys", []) if key.get("org") == header["log_org"]]
    try:
        expected = body_of(header["origin"], head.head.tree_size, head.head.root_hash)
    except ValueError:
        raise _Refused("header: the origin is not one line") from None
    if header["checkpoint"] != expected.decode():
        report.problems.append("checkpoint: it does not name the head's size and root")
    return head


def _check_cosignatures(report: BundleReport, header: dict[str, Any], head: SignedTreeHead,
                        vkeys: Sequence[str]) -> None:
    known: dict[str, Witness] = {}
    for vkey in vkeys:
        try:
            witness = parse_vkey(vkey)
        except CosignatureInvalid as exc:
            report.problems.append(f"keys: a witness key does not read: {exc}")
            continue
        known[witness.name] = witness
        report.keys.append(f"witness {witness.vkey}")
    body = body_of(header["origin"], head.head.tree_size, head.head.root_hash)
    for cosignature in header["cosignatures"]:
        name = str(cosignature.get("witness")) if isinstance(cosignature, dict) else "?"
        witness = known.get(name)
        if witness is None:
            continue  # C2SP: cosignatures of witnesses not trusted are ignored
        try:
            signed = verify_cosignature(witness, body, _unb64(cosignature.get("signature")))
        except CosignatureInvalid as exc:
            report.problems.append(f"cosignatures: {exc}")
            continue
        except _NotBase64 as exc:
            report.problems.append(f"cosignatures: {name}'s signature is {exc}")
            continue
        if signed != cosignature.get("timestamp"):
            report.problems.append(f"cosignatures: {name}'s time is not the one it signed")
            continue
        report.cosigned_by.append(name)


def _check_timestamp(report: BundleReport, header: dict[str, Any], head: SignedTreeHead,
                     pinned: Sequence[x509.Certificate] | None, bundled: list[str]) -> None:
    try:
        roots = list(pinned) if pinned is not None else [
            cert for pem in bundled for cert in load_roots(pem.encode())]
    except (TimestampInvalid, AttributeError) as exc:
        report.problems.append(f"keys: an authority certificate does not read: {exc}")
        return
    report.keys += [f"timestamping root {cert.subject.rfc4514_string()} (SHA-256 "
                    f"{cert.fingerprint(SHA256()).hex()})" for cert in roots]
    stamp = header["rfc3161"]
    if stamp is None:
        return
    try:
        at = check_timestamp(_unb64(stamp.get("token")), head.signature.encode("ascii"),
                             roots)
    except (TimestampInvalid, _NotBase64, AttributeError) as exc:
        report.problems.append(f"rfc3161: the timestamp of the head does not verify: {exc}")
        return
    report.timestamped_at = at.isoformat()
    if stamp.get("stamped_at") != report.timestamped_at:
        report.problems.append("rfc3161: the time shown is not the token's")


class _NotBase64(ValueError):
    pass


def _unb64(value: object) -> bytes:
    if not isinstance(value, str):
        raise _NotBase64("not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise _NotBase64(f"not base64: {exc}") from None


def entry_problem(line: bytes, head: SignedTreeHead, provider: str | None,
                  period: Period, after: int) -> tuple[int | None, str | None]:
    """One entry line checked: (its index, None) if it is proven in the log, about the
    provider, in the period and after index `after`; else (index or None, why)."""
    try:
        # orjson: what JSON's parser accepts beyond it (NaN, integers past 64 bits, lone
        # surrogates) no RFC 8785 leaf holds, so no proven entry is refused by it.
        row = orjson.loads(line)
        leaf = row["leaf"].encode("utf-8")
        # binascii's strict mode: base64 with nothing else, at half b64decode's cost
        proof = [binascii.a2b_base64(node, strict_mode=True) for node in row["proof"]]
        entry = orjson.loads(leaf)
        index, at = entry["index"], entry["at"]
        if not (type(index) is int and isinstance(at, str)):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None, "is not an entry line (a leaf and its proof)"
    if index <= after:
        return index, "is out of order or repeated"
    if provider is not None and entry.get("provider_id") != provider:
        return index, f"is not about {provider}'s data"
    if not period.start <= at < period.end:
        return index, f"is outside the period ({at})"
    size, root = head.head.tree_size, head.head.root_hash
    if not merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size, proof, root):
        return index, f"its inclusion proof does not lead to the head of {size} entries"
    return index, None


def _check_entries(report: BundleReport, rows: Iterator[bytes], head: SignedTreeHead,
                   header: dict[str, Any]) -> None:
    assert report.period is not None
    after, count, bad = -1, 0, 0
    for number, line in enumerate(rows, start=2):
        count += 1
        index, problem = entry_problem(line, head, report.provider, report.period, after)
        if problem is None:
            assert index is not None
            after = index
            report.entries += 1
            continue
        bad += 1
        if bad <= MAX_PROBLEMS:
            where = f"entry {index}" if index is not None else "entry"
            report.problems.append(f"{where} (line {number}) {problem}")
    if bad > MAX_PROBLEMS:
        report.problems.append(f"and {bad - MAX_PROBLEMS} more entries with problems")
    if count != header["entries"]:
        report.problems.append(f"entries: the bundle holds {count} entry lines, its header "
                               f"says {header['entries']}")

