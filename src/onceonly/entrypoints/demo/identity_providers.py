"""The demo's identity providers: real OpenID providers (panva's oidc-provider, run by Node
from tests/support/oidc_provider) as DWP's and the exchange's staff sign-in services and as
a GOV.UK One Login-like service for citizens, registered with the demo exchange. Without
Node (or the provider's package) the demo runs without them, saying so: passwords and API
tokens still sign people in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, RSAKey

from onceonly.bootstrap import Exchange
from onceonly.config import operator_org, variable
from onceonly.demo.seed import World
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.single_sign_on import ClientAuth, IdentityProvider
from onceonly.services.identity import ONE_LOGIN_SCHEME

PROVIDER = Path(__file__).resolve().parents[4] / "tests" / "support" / "oidc_provider"
IDENTITY_ISSUER = "https://identity.demo.onceonly.invalid/"
CLIENT_ID = "onceonly-demo"
STAFF = {"/dwp": ("GOV/DWP", "guardian", {"name": "Grace Guardian (DWP)",
                                          "groups": ["data-guardians"]}),
         "/exchange": (None, "manager", {"name": "Mo Manager (exchange)",
                                         "groups": ["service-managers"]})}
ROLES = {"data-guardians": Role.GUARDIAN, "service-managers": Role.MANAGER,
         "officers": Role.OFFICER}


def _usable(say: Callable[[str], None]) -> str | None:
    node = shutil.which("node")
    if node is None or not (PROVIDER / "provider.mjs").is_file():
        say("Node.js is not installed, so the demo runs no identity provider: citizens sign "
            "in with a login and password, staff with their API token.")
        return None
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            say("The OpenID provider could not be installed (npm ci failed), so the demo "
                "runs none: citizens sign in with a password, staff with their API token.")
            return None
    return node


def _citizen_claims(exchange: Exchange, world: World) -> dict[str, str]:
    """The demo citizen as One Login would prove them: the name and birth date the index's
    sources hold."""
    person = world.citizen_ids["person_key"]
    record = next(r for r in exchange.identity.sources.reference(ONE_LOGIN_SCHEME)
                  if r.record_id == person)
    given, _, family = (record.full_name or "").rpartition(" ")
    born = record.date_of_birth.isoformat() if record.date_of_birth else ""
    return {"name": record.full_name or "", "given_name": given, "family_name": family,
            "birthdate": born}


def _config(base_url: str, public: dict[str, Any], identity: dict[str, Any],
            citizen: dict[str, str]) -> dict[str, Any]:
    client = {"client_id": CLIENT_ID, "jwks": {"keys": [public]},
              "token_endpoint_auth_method": "private_key_jwt",
              "token_endpoint_auth_signing_alg": "RS256",
              "redirect_uris": [f"{base_url}/sign-in/callback"],
              "post_logout_redirect_uris": [f"{base_url}/sign-in?signed_out=1"]}
    providers = [{"path": path, "clients": [client], "accounts": {login: claims}}
                 for path, (_org, login, claims) in STAFF.items()]
    providers.append({"path": "/onelogin", "one_login": True, "accounts": {"citizen": citizen},
                      "clients": [client | {"subject_type": "pairwise"}]})
    return {"port": 0, "providers": providers, "identity_issuer": IDENTITY_ISSUER,
            "identity_key": identity}


# long: one sequence (keys, provider, registrations, settings) whose parts share its values
@contextmanager
def identity_providers_running(exchange: Exchange, world: World, base_url: str,
                               folder: Path, say: Callable[[str], None]) -> Iterator[bool]:
    """The providers, registered with the exchange, while the block runs (True), or none
    (False, said why). One Login's settings are set for the server this process starts."""
    node = _usable(say)
    if node is None:
        yield False
        return
    folder.mkdir(parents=True, exist_ok=True)
    client_key = RSAKey.generate_key(2048, private=True)
    key_file = folder / "oidc-client.pem"
    key_file.write_bytes(client_key.as_pem(private=True))
    key_file.chmod(0o600)
    identity_key = ECKey.generate_key("P-256", private=True)
    identity_file = folder / "identity-issuer.jwk"
    identity_file.write_text(json.dumps(identity_key.as_dict(private=False) | {"kid": "id"}))
    config_file = folder / "oidc-providers.json"
    config_file.write_text(json.dumps(_config(
        base_url, client_key.as_dict(private=False) | {"alg": "RS256", "use": "sig"},
        identity_key.as_dict(private=True) | {"kid": "id"}, _citizen_claims(exchange, world))))
    with (folder / "oidc-providers.log").open("wb") as log:
        # Its standard input is a pipe from here: if this process dies, the provider ends.
        process = subprocess.Popen([node, str(PROVIDER / "provider.mjs"), str(config_file)],
                                   cwd=PROVIDER, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            say("The identity providers did not start (see oidc-providers.log beside the "
                "database): citizens sign in with a password, staff with their API token.")
            yield False
            return
        issuer = f"http://127.0.0.1:{json.loads(line)['port']}"
        admin = Principal("operator", "Operator", operator_org(), Role.ADMIN)
        for path, (org_id, _login, _claims) in STAFF.items():
            exchange.single_sign_on.register(admin, IdentityProvider(
                org_id or operator_org(), issuer + path, CLIENT_ID, ClientAuth.PRIVATE_KEY_JWT,
                f"file:{key_file}", roles=ROLES, scopes=("openid", "profile", "groups")))
        one_login = {"one_login_issuer": issuer + "/onelogin", "one_login_client_id": CLIENT_ID,
                     "one_login_key": f"file:{key_file}",
                     "one_login_identity_issuer": IDENTITY_ISSUER,
                     "one_login_identity_key": str(identity_file)}
        for name, value in one_login.items():
            os.environ.setdefault(variable(name), value)  # for the server started next
        say(f"Identity providers at {issuer}: on the sign-in page, sign in through GOV/DWP "
            "as 'guardian', through GOV/EXCHANGE as 'manager', or with GOV.UK One Login "
            "as 'citizen' (any password at the provider's own form).")
        yield True
    finally:
        process.terminate()
        process.wait(10)
