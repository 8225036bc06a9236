"""`onceonly apply -f FILE [--dry-run] [--prune]` and `onceonly apply --schema`: an exchange
declared in a YAML file (declarative/), brought about through its use cases."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from onceonly.declarative.apply import StepRefused
from onceonly.declarative.apply import apply as apply_declaration
from onceonly.declarative.document import DeclarationError, schema
from onceonly.entrypoints.cli.common import DbOption, acting, fail


def apply(
    file: Annotated[Path | None, typer.Option("-f", "--file", help=(
        "the exchange, declared in YAML (see --schema)"))] = None,
    dry_run: Annotated[bool, typer.Option(help="print the plan; change nothing")] = False,
    prune: Annotated[bool, typer.Option(help=(
        "also deregister members, disable people and retire keys the file does not name"))
    ] = False,
    show_schema: Annotated[bool, typer.Option("--schema", help=(
        "print the file's JSON Schema and stop"))] = False,
    db: DbOption = None,
) -> None:
    """Bring the exchange to what a YAML file declares: organisations, systems, schemes,
    keys, people, datasets, and agreements as drafts. The plan is printed first; nothing the
    file does not name is removed without --prune. Secrets come from the environment
    (${NAME} in a connector) or files the file names, never the file itself."""
    if show_schema:
        print(json.dumps(schema(), indent=2))
        return
    if file is None:
        fail("name the file to apply: onceonly apply -f exchange.yaml (or --schema)")
    with acting(db, read_only=dry_run) as (exchange, admin):
        try:
            apply_declaration(exchange, admin, file, os.environ, prune=prune,
                              dry_run=dry_run)
        except DeclarationError as error:
            fail(f"{error}\nnothing was changed")
        except StepRefused as refused:
            fail(f"refused at '{refused.step}': {refused.error.code}: {refused.error.detail}"
                 f"\nthe {refused.done} steps before it were done; correct the file and "
                 "apply it again")
