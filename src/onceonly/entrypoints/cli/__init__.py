"""The command line (Typer): one module per command group, each thin: parse, call a use
case, print. Bad input exits 2 with a message."""

from __future__ import annotations

import typer

from onceonly.entrypoints.cli.anomaly import anomaly_app
from onceonly.entrypoints.cli.audit import audit_app
from onceonly.entrypoints.cli.db import db_app
from onceonly.entrypoints.cli.demo import demo, walkthrough
from onceonly.entrypoints.cli.identity import identity_app
from onceonly.entrypoints.cli.keys import keys_app
from onceonly.entrypoints.cli.people import people
from onceonly.entrypoints.cli.serve import serve
from onceonly.entrypoints.cli.token import token_app
from onceonly.entrypoints.cli.witness import witness_app
from onceonly.entrypoints.cli.worker import worker

app = typer.Typer(help="onceonly: tell government once; share data as a service.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(anomaly_app, name="anomaly")
app.add_typer(identity_app, name="identity")
for command in (people, serve, demo, worker, walkthrough):
    app.command()(command)
app.add_typer(keys_app, name="keys")
app.add_typer(witness_app, name="witness")


def main() -> None:
    app()
