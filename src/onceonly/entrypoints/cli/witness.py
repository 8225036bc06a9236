"""`onceonly witness ...`: this exchange as a witness of other logs (C2SP tlog-witness), for
another exchange, an auditor or a provider."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from onceonly.crypto.cosignatures import Witness, load_key, new_key
from onceonly.entrypoints.cli.common import DbOption, console, fail, open_exchange
from onceonly.services.witness import WitnessNotEnabled

witness_app = typer.Typer(help="Witness other exchanges' audit logs: cosign each head once "
                               "it is proven to extend the last one cosigned.",
                          no_args_is_help=True)


@witness_app.command("key")
def witness_key(
    file: Annotated[Path, typer.Argument(help="where to write the new key (PEM)")],
    name: Annotated[str, typer.Option(help="the witness's name, a schema-less URL such as "
                                           "auditor.example.org/witness")],
) -> None:
    """Make a witness key; print its verifier key for the logs' operators
    (ONCEONLY_WITNESSES) and the settings that make this exchange a witness."""
    if file.exists():
        fail(f"{file} exists: a witness key is never overwritten")
    pem = new_key()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.touch(mode=0o600)
    file.write_bytes(pem)
    console.print(Witness(name, load_key(pem).public_key()).vkey, soft_wrap=True)
    console.print(f"ONCEONLY_WITNESS_KEY_FILE={file} ONCEONLY_WITNESS_NAME={name}",
                  style="dim", soft_wrap=True)


@witness_app.command("show")
def witness_show(db: DbOption = None) -> None:
    """This witness's verifier key and the latest checkpoint it cosigned of each log."""
    exchange = open_exchange(db, read_only=True)
    try:
        vkey = exchange.witness.identity.vkey
        checkpoints = exchange.witness.checkpoints()
    except WitnessNotEnabled as exc:
        fail(str(exc))
    finally:
        exchange.close()
    console.print(vkey, soft_wrap=True)
    for checkpoint in checkpoints:
        when = checkpoint.cosigned_at.isoformat(timespec="seconds")
        console.print(f"{checkpoint.origin}: {checkpoint.tree_size} entries, root "
                      f"{checkpoint.root_hash.hex()}, cosigned {when}", soft_wrap=True)


@witness_app.command("serve")
def witness_serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to bind")] = 8100,
) -> None:
    """Serve only the witness (POST /witness/add-checkpoint, GET /witness/checkpoint) on its
    own database, for a witness that runs no exchange of its own."""
    # Deferred on purpose: the web stack is start-up time that only serving needs.
    import uvicorn

    from onceonly.entrypoints.api.app import create_witness_app
    from onceonly.logging import configure_logging

    exchange = open_exchange(db)
    if not exchange.witness.enabled:
        exchange.close()
        fail("this exchange is not a witness: set ONCEONLY_WITNESS_KEY_FILE (made by "
             "`onceonly witness key`) and ONCEONLY_WITNESS_LOGS")
    configure_logging()
    try:
        uvicorn.run(create_witness_app(exchange), host=host, port=port, access_log=False,
                    log_level="warning")
    finally:
        exchange.close()
