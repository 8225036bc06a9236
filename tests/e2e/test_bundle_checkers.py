"""An archive bundle checked by independent checkers, from docs/audit-bundles.md alone: a
short one in Node with its standard `crypto` (head, checkpoint, cosignatures, every
inclusion proof, provider and period), and OpenSSL's `ts -verify` for the RFC 3161 token.
Each refuses the bundle altered in one byte of the part it checks."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from onceonly.bootstrap import Exchange
from tests.integration.test_bundles import exported, log, one_byte, parts, tsa  # noqa: F401

NODE_CHECKER = Path(__file__).parent / "node" / "verify-bundle.mjs"


def node(bundle: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("node")
    assert binary, "Node.js is needed for the outside checker: apt-get install nodejs"
    return subprocess.run([binary, str(NODE_CHECKER), str(bundle)], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def bundle(log: Exchange, tsa, tmp_path: Path) -> bytes:  # noqa: F811
    return exported(log, tsa)


def test_node_verifies_the_bundle(bundle: bytes, tmp_path: Path):
    path = tmp_path / "b.bundle"
    path.write_bytes(bundle)
    checked = node(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "verified 4 entries" in checked.stdout
    assert "cosigned by: auditor.example/witness" in checked.stdout


@pytest.mark.parametrize(("part", "why"), [
    ("head", "head: the signature does not verify"),
    ("root", "head: root_hash differs from what is signed"),
    ("checkpoint", "checkpoint: it does not name the head"),
    ("cosignature", "cosignatures: auditor.example/witness's cosignature does not verify"),
    ("witness key", "keys: auditor.example/witness"),
    ("leaf", "entry 6: its inclusion proof does not lead to the head"),
    ("proof", "entry 6: its inclusion proof does not lead to the head"),
])
def test_node_refuses_one_byte_changed(bundle: bytes, tmp_path: Path, part: str, why: str):
    path = tmp_path / "b.bundle"
    path.write_bytes(one_byte(bundle, parts(bundle)[part]))
    checked = node(path)
    assert checked.returncode == 1
    assert f"refused: {why}" in checked.stdout, checked.stdout + checked.stderr


def openssl_verify(bundle: bytes, folder: Path) -> subprocess.CompletedProcess[str]:
    header = json.loads(bundle.splitlines()[0])
    (folder / "head.jws").write_text(header["head"]["signature"])
    (folder / "token.tsr").write_bytes(base64.b64decode(header["rfc3161"]["token"]))
    (folder / "roots.pem").write_text("".join(header["keys"]["tsa_roots"]))
    return subprocess.run(["openssl", "ts", "-verify", "-data", str(folder / "head.jws"),
                           "-in", str(folder / "token.tsr"), "-CAfile",
                           str(folder / "roots.pem")], capture_output=True, text=True)


def test_openssl_verifies_the_heads_timestamp_and_refuses_another_head(bundle: bytes,
                                                                        tmp_path: Path):
    checked = openssl_verify(bundle, tmp_path)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    altered = one_byte(bundle, parts(bundle)["head"])
    refused = openssl_verify(altered, tmp_path)
    assert refused.returncode != 0 and "Verification: FAILED" in refused.stdout
