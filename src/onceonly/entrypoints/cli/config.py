"""`onceonly config`: the settings in effect and where each came from, checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from onceonly.config import (
    CONFIG_VARIABLE,
    Loaded,
    Settings,
    SettingsInvalid,
    database_url,
    load,
    reference,
    shown,
    variable,
)
from onceonly.entrypoints.cli.common import console, errors

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help=f"a TOML settings file (default: {CONFIG_VARIABLE}, else none)")]


def use_config_file(path: Path | None) -> None:
    """--config FILE: read by this process and by any it starts (the server's workers)."""
    if path is not None:
        os.environ[CONFIG_VARIABLE] = str(path)


def settings_or_fail(overrides: dict[str, object] | None = None) -> Loaded:
    """The settings, or each bad value named and exit 2."""
    try:
        return load(overrides)
    except SettingsInvalid as invalid:
        for problem in invalid.problems:
            errors.print(Text.assemble(("error: ", "red"), problem), soft_wrap=True)
        raise typer.Exit(2) from None


def config(
    config_file: ConfigOption = None,
    check: Annotated[bool, typer.Option(
        "--check", help="only check the settings: exit 2 naming each bad value")] = False,
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="print the settings' reference (docs/configuration.md)")] = False,
) -> None:
    """Print the settings in effect, secrets masked, and where each came from."""
    if markdown:
        print(reference())
        return
    use_config_file(config_file)
    loaded = settings_or_fail()
    missing = _missing_files(loaded.settings)
    for problem in missing:
        errors.print(Text.assemble(("error: ", "red"), problem), soft_wrap=True)
    if missing:
        raise typer.Exit(2)
    if check:
        console.print("the configuration is valid")
        return
    for name in Settings.model_fields:
        value = shown(name, getattr(loaded.settings, name) if name != "database_url"
                      else database_url())
        console.print(Text(f"{variable(name)} = {value}  ({loaded.sources[name]})"),
                      soft_wrap=True)


def _missing_files(settings: Settings) -> list[str]:
    key_file = settings.master_key_file
    if key_file is not None and not key_file.expanduser().is_file():
        return [f"{variable('master_key_file')} = '{key_file}': the file does not exist "
                "(`onceonly keys init` makes one)"]
    return []
