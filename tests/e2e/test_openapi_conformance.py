"""Property-based conformance to our own OpenAPI 3.1 document, checked by schemathesis from
the outside: whatever a client sends, generated from the schema or deliberately outside it,
the server never fails with a 5xx, refuses what the schema forbids, takes the shape of what it
allows (schemathesis_checks.py), and answers with a documented status, content type and body
shape. Bounded: 20 examples an operation on PostgreSQL, and the same checks with 5 on SQLite
(the document and the routes are the same on both: SQLite's run is for what differs in its
adapters, which the first examples of each operation reach); no --max-time, a budget
schemathesis spends whole, fuzzing until it runs out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Api

CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "allowed_shape_is_taken",
])
EXAMPLES = {"postgresql": 20, "sqlite": 5}  # an operation
HOOKS = Path(__file__).with_name("schemathesis_checks.py")


@pytest.mark.parametrize("label", ["officer:GOV/DWP", "guardian:GOV/HMRC"])
def test_every_operation_keeps_its_contract(api: Api, label: str, tmp_path: Path) -> None:
    token = api.world.token(label)
    examples = EXAMPLES[api.exchange.engine.dialect.name]
    # The document is read here, not by schemathesis, whose 10-second limit on reading it
    # a loaded machine can pass; the calls it makes are what is timed.
    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{api.base_url}/openapi.json", timeout=120).content)
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", str(document),
         "--url", api.base_url,
         "--checks", CHECKS, "--max-examples", str(examples),
         "--seed", "20071120",
         "--header", f"Authorization: Bearer {token}", "--continue-on-failure"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
