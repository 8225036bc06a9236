"""Real OpenID providers for the tests: panva's oidc-provider (pinned in
tests/support/oidc_provider/package-lock.json, installed by `make test`), run by Node on a
loopback port, one provider per path (provider.mjs says what it serves)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc.jwk import ECKey, RSAKey

HERE = Path(__file__).parent / "oidc_provider"
SCRIPT = HERE / "provider.mjs"


def client_key() -> tuple[str, dict[str, Any]]:
    """A client's private key (PEM, for private_key_jwt) and its public JWK (for the
    provider's registration of the client)."""
    key = RSAKey.generate_key(2048, private=True)
    public = key.as_dict(private=False) | {"alg": "RS256", "use": "sig"}
    return key.as_pem(private=True).decode(), public


def identity_key() -> tuple[dict[str, Any], dict[str, Any]]:
    """The identity claim issuer's key: private JWK (for the provider), public JWK."""
    key = ECKey.generate_key("P-256", private=True)
    kid = "identity-1"
    return (key.as_dict(private=True) | {"kid": kid},
            key.as_dict(private=False) | {"kid": kid, "alg": "ES256"})


@dataclass
class Providers:
    base_url: str

    def issuer(self, path: str) -> str:
        return self.base_url + path

    def misbehave(self, path: str, mode: str | dict[str, str]) -> None:
        """The provider's next token answer carries a bad ID token (provider.mjs: forge),
        or (`mode` a dict) its next answer to the client's redirect URI these parameters."""
        httpx.post(f"{self.base_url}/_test/mode", json={"path": path, "mode": mode},
                   timeout=10).raise_for_status()


def need_node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("the sign-in tests run an OpenID provider in Node: install Node.js "
                    "(`make node`, as root) and run the tests again", pytrace=False)
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the OpenID provider is not installed: run `make oidc-provider` (or "
                    f"`npm ci` in {HERE}) and run the tests again", pytrace=False)
    return node


@contextmanager
def running_providers(providers: list[dict[str, Any]], **extra: Any) -> Iterator[Providers]:
    """Node's providers, as configured (provider.mjs's config), until the block ends."""
    node = need_node()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "providers.json"
        config.write_text(json.dumps({"port": 0, "providers": providers, **extra}))
        log = Path(folder) / "provider.log"
        with log.open("wb") as err:
            process = subprocess.Popen([node, str(SCRIPT), str(config)], cwd=HERE,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=err)
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                process.wait(10)
                raise AssertionError(f"the OpenID provider did not start:\n"
                                     f"{log.read_text(errors='replace')}")
            yield Providers(f"http://127.0.0.1:{json.loads(line)['port']}")
        finally:
            process.terminate()
            process.wait(10)
