"""The command line (Typer): one module per command group, each thin: parse, call a use
case, print. Bad input exits 2 with a message."""

from __future__ import annotations

import typer

from onceonly.entrypoints.cli.anomaly import anomaly_app
from onceonly.entrypoints.cli.apply import apply
from onceonly.entrypoints.cli.audit import audit_app
from onceonly.entrypoints.cli.backup import backup
from onceonly.entrypoints.cli.config import config
from onceonly.entrypoints.cli.datasets import dataset_app
from onceonly.entrypoints.cli.db import db_app
from onceonly.entrypoints.cli.demo import demo, walkthrough
from onceonly.entrypoints.cli.identity import identity_app
from onceonly.entrypoints.cli.keys import keys_app
from onceonly.entrypoints.cli.members import init, org_app, scheme_app
from onceonly.entrypoints.cli.org_keys import key_app
from onceonly.entrypoints.cli.people import people_app
from onceonly.entrypoints.cli.serve import serve
from onceonly.entrypoints.cli.single_sign_on import idp_app
from onceonly.entrypoints.cli.token import token_app
from onceonly.entrypoints.cli.version import version_option
from onceonly.entrypoints.cli.witness import witness_app
from onceonly.entrypoints.cli.worker import worker

app = typer.Typer(help="onceonly: tell government once; share data as a service.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.callback()(version_option)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(anomaly_app, name="anomaly")
app.add_typer(identity_app, name="identity")
app.command()(init)
app.add_typer(org_app, name="org")
org_app.add_typer(idp_app, name="idp")
app.add_typer(scheme_app, name="scheme")
app.add_typer(people_app, name="people")
app.command()(apply)
for command in (serve, demo, worker, walkthrough, config, backup):
    app.command()(command)
app.add_typer(keys_app, name="keys")
app.add_typer(key_app, name="key")
app.add_typer(dataset_app, name="dataset")
app.add_typer(witness_app, name="witness")


def main() -> None:
    app()
