"""`onceonly keys ...`: the master keys of encryption at rest."""

from __future__ import annotations

from typing import Annotated

import typer

from onceonly.adapters.kms_file import create_key_file
from onceonly.config import master_key_file
from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable
from onceonly.domain.errors import DomainError
from onceonly.entrypoints.cli.common import (
    DbOption,
    console,
    fail,
    open_exchange,
    problem,
    url_of,
)

keys_app = typer.Typer(help="Master keys: encryption at rest of what the exchange stores.",
                       no_args_is_help=True)


@keys_app.command("init")
def keys_init(db: DbOption = None) -> None:
    """Make the master key file (ONCEONLY_MASTER_KEY_FILE, else the default in the data
    directory) with one new key, readable by its owner only."""
    path, _ = master_key_file(url_of(db))
    try:
        key_id = create_key_file(path)
    except MasterKeyUnavailable as exc:
        fail(str(exc))
    console.print(f"made the master key file {path} (mode 0600) with master key {key_id}",
                  soft_wrap=True)


@keys_app.command("rotate")
def keys_rotate(
    db: DbOption = None,
    rewrap_now: Annotated[bool, typer.Option(
        "--rewrap-now", help="re-wrap every data key under the new master key now, rather "
                             "than when each is next used")] = False,
) -> None:
    """Add a new master key to the key file and make it current, without downtime: running
    servers pick it up, new data keys are wrapped with it, older data keys are re-wrapped
    when next used (or now, with --rewrap-now). Old master keys stay in the file."""
    exchange = open_exchange(db)
    try:
        new = exchange.keys.rotate_master(rewrap_now=rewrap_now)
        if new.key_file is not None:
            console.print(f"master key {new.id} is now current ({new.key_file}, "
                          f"{new.held} keys)", soft_wrap=True)
        done = exchange.keys.reseal(new.id, rewrap_now=rewrap_now)
    except DomainError as error:
        fail(error.detail)
    except MasterKeyUnavailable as exc:
        fail(str(exc))
    except EnvelopeInvalid as exc:
        problem(str(exc))
        raise typer.Exit(1) from None
    finally:
        exchange.close()
    if done.sealed:
        console.print(f"encrypted {done.sealed} private keys that were stored in plaintext")
    if done.rewrapped is not None:
        console.print(f"re-wrapped {done.rewrapped} data keys under {new.id}")
    for key_id, why in done.failed:
        problem(f"data key {key_id}: {why}")
    if done.waiting:
        console.print(f"{done.waiting} data keys are still wrapped by older master keys: each "
                      "is re-wrapped when next used (or run with --rewrap-now); keep the older "
                      "master keys in the file until none is left", soft_wrap=True)
    if done.failed:
        raise typer.Exit(1)


@keys_app.command("status")
def keys_status(db: DbOption = None) -> None:
    """The master keys in the key file (ids and dates, never keys), how many data keys each
    wraps, and how many private keys are still stored in plaintext."""
    exchange = open_exchange(db, read_only=True)
    try:
        status = exchange.keys.status()
    except DomainError as error:
        fail(error.detail)
    except MasterKeyUnavailable as exc:
        fail(str(exc))
    finally:
        exchange.close()
    if status.key_file is not None:
        console.print(f"master key file {status.key_file}", soft_wrap=True)
    for key in status.held:
        mark = "  current" if key.id == status.current else ""
        console.print(f"  {key.id}  made {key.created_at}  wraps "
                      f"{status.in_use.get(key.id, 0)} data keys{mark}", highlight=False)
    for key_id in sorted(set(status.in_use) - {key.id for key in status.held}):
        console.print(f"  {key_id}  not in the key file  wraps {status.in_use[key_id]} data "
                      "keys", highlight=False)
    console.print(f"{sum(status.in_use.values())} data keys; {status.plaintext} private keys "
                  "in plaintext", highlight=False)
