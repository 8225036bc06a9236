"""docs/configuration.md, written from the settings model (`onceonly config --markdown`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args, get_origin

from onceonly.config.model import CONFIG_VARIABLE, SECRETS, Settings, variable


def _kind(name: str) -> str:
    kinds = {str: "text", float: "number", int: "whole number", Path: "path",
             bool: "true or false"}
    annotation = Settings.model_fields[name].annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{choice}`" for choice in get_args(annotation))
    known = [kinds[arg] for arg in (get_args(annotation) or (annotation,)) if arg in kinds]
    return known[0]


def reference() -> str:
    """docs/configuration.md, written from the model (`onceonly config --markdown`)."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from src/onceonly/config/model.py by `onceonly config --markdown`; "
        "tests/unit/config/test_documentation.py fails when it is out of date. -->",
        "",
        "Every setting is read, first match wins, from:",
        "",
        "1. the command line (`--db`, `serve --forwarded-allow-ips`);",
        "2. the environment variable named below;",
        "3. for a secret, the file named by the same variable with `_FILE` appended "
        "(`ONCEONLY_DATABASE_URL_FILE=/run/secrets/db-url`), its trailing newline dropped; "
        "setting both is refused;",
        f"4. a TOML file named by `--config FILE` or `{CONFIG_VARIABLE}`, its keys the "
        "settings' names in lower case (`audit_interval = 5`);",
        "5. the default.",
        "",
        "`onceonly config` prints the settings in effect, secrets masked, and where each came "
        "from; `onceonly config --check` exits 2 naming each bad value. `serve` and `worker` "
        "refuse to start on a bad value.",
        "",
        "| variable | TOML key | kind | default | secret |",
        "|---|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = {None: "(unset)", "": "(empty)"}.get(field.default, f"`{field.default}`")
        lines.append(f"| `{variable(name)}` | `{name}` | {_kind(name)} | {default} | "
                     f"{'yes' if name in SECRETS else ''} |")
    lines.append("")
    for name, field in Settings.model_fields.items():
        lines += [f"## `{variable(name)}`", "", str(field.description), ""]
    lines += ["## Not settings of the server", "",
              "`ONCEONLY_TOKEN` is an API token for the commands that call a server as a "
              "client (`onceonly audit check`).", ""]
    return "\n".join(lines)
