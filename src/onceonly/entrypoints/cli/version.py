"""`onceonly --version`: the installed distribution's version, as its metadata says."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from onceonly.entrypoints.cli.common import console


def installed_version() -> str:
    """The version of the onceonly distribution this code was installed from."""
    try:
        return version("onceonly")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_version(asked: bool) -> None:
    if asked:
        console.print(f"onceonly {installed_version()}", highlight=False)
        raise typer.Exit()


def version_option(
    show: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print the version and exit.")] = False,
) -> None:
    """onceonly: tell government once; share data as a service."""
