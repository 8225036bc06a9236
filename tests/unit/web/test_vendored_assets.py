"""The vendored front-end packages are the ones package-lock.json locks: `npm ci && npm run
vendor` copies them and writes each folder's VERSION (name@version licence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
VENDOR = REPO / "src" / "onceonly" / "entrypoints" / "web" / "static" / "vendor"
LOCKED = {"govuk-frontend": "govuk-frontend", "swagger-ui": "swagger-ui-dist", "redoc": "redoc"}


@pytest.mark.parametrize(("folder", "package"), LOCKED.items())
def test_each_vendored_package_is_the_locked_version(folder: str, package: str):
    lock = json.loads((REPO / "package-lock.json").read_text())
    locked = lock["packages"][f"node_modules/{package}"]["version"]
    name_version = (VENDOR / folder / "VERSION").read_text().split()[0]
    assert name_version == f"{package}@{locked}", (
        f"static/vendor/{folder} holds {name_version}, the lock says {locked}: "
        "run `npm ci && npm run vendor`")


def test_the_jinja_macros_are_for_the_vendored_govuk_frontend_major_version():
    """govuk-frontend-jinja's major version N supports GOV.UK Frontend N+2 (its README)."""
    from importlib.metadata import version
    macros_major = int(version("govuk-frontend-jinja").split(".")[0])
    vendored = (VENDOR / "govuk-frontend" / "VERSION").read_text().split()[0]
    assert int(vendored.split("@")[1].split(".")[0]) == macros_major + 2
