"""A live exchange for the client's tests: the demo world on SQLite, served on a loopback
port by the real API, with a master key file of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.kms_file import create_key_file
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.demo.seed import World, build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running


@dataclass
class Live:
    base_url: str
    world: World
    exchange: Exchange
    folder: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("client")
    keys = folder / "master-keys.json"
    create_key_file(keys)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ONCEONLY_MASTER_KEY_FILE", str(keys))
        url = f"sqlite:///{folder / 'exchange.sqlite'}"
        exchange = bootstrap(url)
        upgrade(exchange.engine)
        world = build_world(exchange, url, people=60)
        with running(create_app(exchange)) as base:
            yield Live(base, world, exchange, folder)
        exchange.close()
