"""The release as a platform team receives it: `uv build` makes a wheel and an sdist, the
wheel installs into a fresh virtual environment (with the locked versions of its
dependencies) and `onceonly walkthrough` passes there, away from this source tree. The
release's documents are checked too: the changelog has the version being built, and every
test the threat model names as a threat's control exists."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _uv() -> str:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.fail("uv is not installed: run `make env` (it installs uv into .tools/)",
                    pytrace=False)
    return uv


def _run(*command: str | Path, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n" \
                                 f"{done.stderr}"
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(_uv(), "build", "--out-dir", dist, cwd=ROOT)
    # The client the exchange depends on, as integrators get it (clients/python/).
    _run(_uv(), "build", "--package", "onceonly-client", "--wheel", "--out-dir", dist, cwd=ROOT)
    return dist


def test_uv_build_makes_a_wheel_and_an_sdist_with_the_release_files(built: Path) -> None:
    wheel = built / f"onceonly-{VERSION}-py3-none-any.whl"
    sdist = built / f"onceonly-{VERSION}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in built.iterdir())
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"onceonly-{VERSION}.dist-info/METADATA").decode()
    # What the installed exchange needs at run time besides its code.
    assert any(name.startswith("onceonly/adapters/db/migrations/versions/0001")
               for name in names)
    assert "onceonly/entrypoints/web/templates/base.html" in names
    assert f"onceonly-{VERSION}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata
    with tarfile.open(sdist) as archive:
        members = {Path(m.name).relative_to(f"onceonly-{VERSION}").as_posix()
                   for m in archive.getmembers()}
    assert {"LICENSE", "CHANGELOG.md", "SECURITY.md", "docs/threat-model.md",
            "pyproject.toml", "uv.lock"} <= members


def test_the_wheel_installed_in_a_fresh_environment_runs_the_walkthrough(
        built: Path, tmp_path: Path) -> None:
    uv, venv = _uv(), tmp_path / "venv"
    _run(uv, "venv", "--quiet", "--python", "3.11", venv, cwd=tmp_path)
    # The locked versions of the dependencies, not the newest: the release is the tested set.
    requirements = tmp_path / "requirements.txt"
    _run(uv, "export", "--project", ROOT, "--frozen", "--no-dev", "--no-emit-workspace",
         "--quiet", "--output-file", requirements, cwd=tmp_path)
    wheels = sorted(built.glob("*.whl"))
    _run(uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python",
         "-r", requirements, *wheels, cwd=tmp_path)
    onceonly = venv / "bin" / "onceonly"
    # Run from an empty folder: nothing of this source tree is on the path.
    version = _run(onceonly, "--version", cwd=tmp_path)
    assert version.stdout.strip() == f"onceonly {VERSION}"
    located = _run(venv / "bin" / "python", "-c",
                   "import onceonly, sys; print(onceonly.__file__)", cwd=tmp_path)
    assert Path(located.stdout.strip()).is_relative_to(venv)
    story = _run(onceonly, "walkthrough", cwd=tmp_path, timeout=600)
    assert "walkthrough passed" in story.stdout


def test_the_changelog_has_a_section_for_the_version_being_released() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog,
                     re.MULTILINE), f"CHANGELOG.md has no section for {VERSION}"
    assert "## [Unreleased]" in changelog


def test_every_test_the_threat_model_names_exists() -> None:
    """Each threat names the test covering its control as `tests/...py::test_name`."""
    threat_model = (ROOT / "docs" / "threat-model.md").read_text()
    cited = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", threat_model)
    assert len(cited) >= 20, "the threat model names too few tests"
    missing = [f"{path}::{name}" for path, name in cited
               if not (ROOT / path).is_file()
               or not re.search(rf"def {name}\(", (ROOT / path).read_text())]
    assert not missing, f"the threat model names tests that do not exist: {missing}"
