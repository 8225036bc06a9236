"""`onceonly serve`: the API server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from onceonly.config import database_url, variable
from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable
from onceonly.entrypoints.cli.common import DbOption, errors, fail, open_exchange
from onceonly.entrypoints.cli.config import ConfigOption, settings_or_fail, use_config_file
from onceonly.entrypoints.tls import TlsSettingsInvalid, uvicorn_tls
from onceonly.logging import configure_logging


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="serve HTTPS: certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="its private key (PEM)")] = None,
    tls_client_ca: Annotated[Path | None, typer.Option(
        help="mutual TLS: only clients with a certificate from this CA (PEM)")] = None,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: "
             "addresses or CIDR networks, comma-separated; '' for none (default: "
             "ONCEONLY_TRUSTED_PROXIES, else 127.0.0.1,::1)")] = None,
    config_file: ConfigOption = None,
) -> None:
    """Run the API server (several workers share the database and hold no private state)."""
    # Deferred on purpose: the web stack is start-up time that only serving needs.
    from onceonly.entrypoints.api.server import serve as serve_api

    use_config_file(config_file)
    # Read again by each worker; a mistake stops here.
    settings_or_fail({"trusted_proxies": forwarded_allow_ips})
    if forwarded_allow_ips is not None:  # what each worker reads
        os.environ[variable("trusted_proxies")] = forwarded_allow_ips
    try:
        tls = uvicorn_tls(tls_cert, tls_key, tls_client_ca)
    except TlsSettingsInvalid as problem:
        fail(str(problem))
    _check_private_keys(db)  # fail here, clearly, not in every worker
    _check_witnesses(db)
    os.environ[variable("database_url")] = database_url(db)
    os.environ.pop(variable("database_url") + "_FILE", None)  # the URL is now in the above
    configure_logging()
    serve_api(workers, host=host, port=port, access_log=False, log_level="warning",
              proxy_headers=False, **tls)  # the app reads them (trusted_proxies)


def _check_private_keys(db: str | None) -> None:
    exchange = open_exchange(db)
    try:
        exchange.keys.check_private_keys()
    except (MasterKeyUnavailable, EnvelopeInvalid) as exc:
        fail(f"cannot read the exchange's private keys: {exc}; point ONCEONLY_MASTER_KEY_FILE "
             "at the key file this database's keys were encrypted with")
    finally:
        exchange.close()


def _check_witnesses(db: str | None) -> None:
    """A log older than the newest head its witnesses cosigned does not serve."""
    from onceonly.services.witnesses import LogBehindWitness

    exchange = open_exchange(db)
    try:
        if exchange.witnesses.configured:
            for reason in exchange.witnesses.check_current():
                errors.print(f"warning: a witness could not say what it cosigned: {reason}",
                             soft_wrap=True, markup=False)
    except LogBehindWitness as exc:
        errors.print(str(exc), soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    finally:
        exchange.close()
