"""docs/onboarding.md, run: its shell blocks in order, as one script in an empty folder, on
a fresh SQLite database and a fresh PostgreSQL schema, with a real server the guide starts
itself. The guide cannot rot: a command that stops working fails this test."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "onboarding.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.DOTALL | re.MULTILINE)
GUIDE_PORT = "8765"


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def test_every_command_of_the_guide_is_in_a_shell_block() -> None:
    found = blocks()
    assert len(found) >= 8
    assert any("onceonly init" in b for b in found) and any("/v1/queries" in b for b in found)


def test_the_guide_runs_from_an_empty_database_to_a_governed_query(
        db_url: str, tmp_path: Path) -> None:
    # The guide's own commands, in order; its server on a port of this test's choosing, and
    # stopped whatever happens.
    script = "\n".join(["set -euo pipefail",
                        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
                        *blocks()]).replace(GUIDE_PORT, free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCEONLY_")}
    env |= {"ONCEONLY_DATABASE_URL": db_url,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    if db_url.startswith("sqlite"):
        del env["ONCEONLY_DATABASE_URL"]  # the guide's default: SQLite in the folder
    run = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, text=True,
                         capture_output=True, timeout=300)
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n" + (
        (tmp_path / "serve.log").read_text() if (tmp_path / "serve.log").exists() else "")
    out = run.stdout
    assert "exchange.yaml: nothing to change" in out  # the second apply
    assert "LA/EASTSHIRE/housing" in out  # the catalogue
    assert "\napproved\n" in out
    assert "\nsecure council tenancy\n" in out  # the release
    assert "NHS/WESTSIDE asked LA/EASTSHIRE for tenure: released" in out  # the access log
    if db_url.startswith("sqlite"):
        assert (tmp_path / "exchange.sqlite").exists()
