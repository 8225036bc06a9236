"""Reading the settings: the command line over the environment over secret files over the
TOML file over the defaults, noting where each value came from; bad values named at once."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from onceonly.config.model import CONFIG_VARIABLE, SECRETS, Settings, variable


class SettingsInvalid(ValueError):
    """Settings that cannot be used; `problems` names each bad value and where it is from."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _SecretFiles(PydanticBaseSettingsSource):
    """A secret read from the file its `ONCEONLY_<NAME>_FILE` names (container and systemd
    credentials), its one trailing newline dropped."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name in sorted(SECRETS):
            path = os.environ.get(variable(name) + "_FILE")
            if not path:
                continue
            if variable(name) in os.environ:
                raise SettingsInvalid([f"{variable(name)} and {variable(name)}_FILE are both "
                                       "set: set only one"])
            try:
                found[name] = Path(path).read_text(encoding="utf-8").removesuffix("\n")
            except OSError as exc:
                raise SettingsInvalid([f"{variable(name)}_FILE: cannot read {path}: "
                                       f"{exc.strerror}"]) from None
        return found


def _config_file(explicit: Path | None) -> Path | None:
    raw = explicit if explicit is not None else os.environ.get(CONFIG_VARIABLE) or None
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise SettingsInvalid([f"{CONFIG_VARIABLE}: the configuration file {path} does not "
                               "exist"])
    return path


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        return dict(TomlConfigSettingsSource(Settings, toml_file=path)())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsInvalid([f"{path} is not TOML: {exc}"]) from None


@dataclass(frozen=True, slots=True)
class Loaded:
    """The settings in effect, and where each came from (`default`, `environment`, ...)."""

    settings: Settings
    sources: Mapping[str, str]
    raw: Mapping[str, Any]


def load(overrides: Mapping[str, Any] | None = None, *,
         config_file: Path | None = None) -> Loaded:
    """The settings: `overrides` (the command line's) over the environment over secret files
    over the TOML file over the defaults; SettingsInvalid naming every bad value."""
    path = _config_file(config_file)
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("command line", {k: v for k, v in (overrides or {}).items() if v is not None}),
        ("environment", EnvSettingsSource(Settings)()),
        ("secret file", _SecretFiles(Settings)()),
        (f"config file {path}", _from_toml(path) if path else {}),
    ]
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in layers:
        for name, value in values.items():
            if name not in merged:
                merged[name], sources[name] = value, source
    try:
        settings = Settings(**merged)
    except ValidationError as error:
        raise SettingsInvalid([_problem(e, merged, sources) for e in error.errors()]) from None
    return Loaded(settings, {name: sources.get(name, "default")
                             for name in Settings.model_fields}, merged)


def _problem(error: Any, merged: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    name = str(error["loc"][0]) if error["loc"] else "?"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{name} (from the {sources.get(name, 'input')}) is not a setting"
    shown = repr(merged.get(name))
    if name in SECRETS:  # a URL's password, say, stays out of the message
        shown = "(secret)"
        message = message.replace(str(merged.get(name)), shown)
    return (f"{variable(name)} = {shown} (from the {sources.get(name, 'default')}): "
            f"{message}")


def settings() -> Settings:
    """The settings in effect (read afresh: the environment may change under tests)."""
    return load().settings


def shown(name: str, value: Any) -> str:
    """A value as `onceonly config` prints it: a database URL's password masked."""
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    if name == "database_url":
        return make_url(value).render_as_string(hide_password=True)
    if name in SECRETS:
        return "****"
    return str(value)



def read_secret(reference: str) -> str:
    """A secret named by reference, `env:NAME` or `file:/path`: registrations keep where a
    secret is, never the secret."""
    kind, _, where = reference.partition(":")
    if kind == "env" and where in os.environ:
        return os.environ[where]
    if kind == "file" and Path(where).is_file():
        return Path(where).read_text()
    raise LookupError(f"the secret {reference!r} is not there")
