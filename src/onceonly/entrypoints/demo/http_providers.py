"""The demo's HTTP providers: HMRC and DVLA answer the exchange from APIs of their own
(entrypoints/demo/provider_api.py, one process each over its own store), HMRC over mutual
TLS and DVLA checking RFC 9421 signatures; the other providers stay SQL.

`HTTP_PROVIDERS` is the one place that says which datasets are served so and how;
`http_providers_running` starts their APIs and publishes each dataset's next version with
its HTTP connector, the provider's OpenAPI document attached (so the contract is checked,
and the connector tried, as for any publication)."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from onceonly.bootstrap import Exchange
from onceonly.config import operator_org
from onceonly.demo.stores import connector_configs
from onceonly.domain.organisations import Principal, Role
from onceonly.services.datasets import Publication

# Which datasets answer from their provider's own API, and how the exchange authenticates.
HTTP_PROVIDERS: dict[str, str] = {"GOV/HMRC/income": "mutual_tls",
                                  "GOV/DVLA/licences": "signature"}


@dataclass(frozen=True)
class Pki:
    """A demo provider's CA, its server certificate for 127.0.0.1, and the client
    certificate it issued the exchange (each a PEM file, keys beside them)."""

    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
                 issuer_key: ec.EllipticCurvePrivateKey,
                 usage: x509.ObjectIdentifier | None) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(_name(issuer)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=usage is None, path_length=None),
                              critical=True))
    if usage is None:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True,
            content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = path.with_suffix(".key")
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return path


def demo_pki(folder: Path, provider: str) -> Pki:
    """A throwaway CA of `provider`'s, with the certificates its API and the exchange use."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_name = f"{provider} demo CA"
    ca_key = ec.generate_private_key(ec.SECP256R1())
    _write(folder / "ca.pem", _certificate(ca_name, ca_key, ca_name, ca_key, None), ca_key)
    for role, usage, subject in (("server", ExtendedKeyUsageOID.SERVER_AUTH, provider),
                                 ("client", ExtendedKeyUsageOID.CLIENT_AUTH, operator_org())):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(folder / f"{role}.pem", _certificate(subject, key, ca_name, ca_key, usage), key)
    return Pki(folder / "ca.pem", folder / "server.pem", folder / "server.key",
               folder / "client.pem", folder / "client.key")


def http_connector(store: Mapping[str, Any], base_url: str, auth: str,
                   pki: Pki | None) -> dict[str, Any]:
    """The HTTP connector to a demo provider's API: each field at its own name, asked for
    by `fields`, corrections by PATCH; the store behind it granted read-only for matching
    (`match_source`)."""
    config: dict[str, Any] = {
        "kind": "http", "url": base_url + "/people/{id}", "fields_param": "fields",
        "fields": {name: {"type": kind, "pointer": f"/{name}"}
                   for name, kind in store["columns"].items()},
        "timeout": 5, "corrections": "patch", "match_source": dict(store)}
    if auth == "mutual_tls" and pki is not None:
        config["tls"] = {"ca_file": str(pki.ca_file), "cert_file": str(pki.client_cert),
                         "key_file": str(pki.client_key)}
    elif auth == "signature":
        config["auth"] = {"kind": "signature"}
    return config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped at start (exit {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on 127.0.0.1:{port}")


@dataclass(frozen=True)
class RunningProvider:
    dataset_id: str
    base_url: str
    auth: str
    pki: Pki | None
    process: subprocess.Popen[bytes]


@contextmanager
def http_providers_running(exchange: Exchange,
                           folder: Path) -> Iterator[dict[str, RunningProvider]]:
    """Start each HTTP provider's API over its store, then publish its dataset's next
    version with the HTTP connector; stop the APIs at the end."""
    running: dict[str, RunningProvider] = {}
    stores = connector_configs(exchange.engine)
    with ExitStack() as stack:
        for dataset_id, auth in HTTP_PROVIDERS.items():
            store = stores[dataset_id]
            provider = dataset_id.rsplit("/", 1)[0]
            where = folder / provider.replace("/", "_").lower()
            where.mkdir(parents=True, exist_ok=True)
            pki = demo_pki(where / "pki", provider) if auth == "mutual_tls" else None
            port = _free_port()
            settings = {"store": store, "title": f"{provider}'s people API", "port": port,
                        "corrections": True}
            if pki is not None:
                settings["tls"] = {"cert_file": str(pki.server_cert),
                                   "key_file": str(pki.server_key), "ca_file": str(pki.ca_file)}
            else:  # the exchange's published keys, as at /.well-known/jwks/{operator}.json
                jwks = where / "exchange-jwks.json"
                jwks.write_text(json.dumps(exchange.key_store.jwks(operator_org())))
                settings["jwks_file"] = str(jwks)
            (where / "settings.json").write_text(json.dumps(settings))
            process = subprocess.Popen([sys.executable, "-m",
                                        "onceonly.entrypoints.demo.provider_api",
                                        str(where / "settings.json")])
            stack.callback(_stop, process)
            _wait_for(port, process, f"{provider}'s API")
            scheme = "https" if pki is not None else "http"
            running[dataset_id] = RunningProvider(dataset_id, f"{scheme}://127.0.0.1:{port}",
                                                  auth, pki, process)
            _publish_http(exchange, running[dataset_id], store)
        yield running


def _publish_http(exchange: Exchange, provider: RunningProvider,
                  store: Mapping[str, Any]) -> None:
    verify: ssl.SSLContext | bool = True
    if provider.pki is not None:  # the provider's document is behind its mutual TLS too
        verify = ssl.create_default_context(cafile=str(provider.pki.ca_file))
        verify.load_cert_chain(str(provider.pki.client_cert), str(provider.pki.client_key))
    with httpx.Client(timeout=10, verify=verify) as http:
        document = http.get(provider.base_url + "/openapi.json").raise_for_status().json()
    dataset = next(d for d in exchange.catalogue.read().datasets
                   if d.id == provider.dataset_id)
    operator = Principal("demo", "the demo's set-up", operator_org(), Role.ADMIN)
    exchange.datasets.publish(operator, Publication(
        dataset.id, dataset.title, dataset.subject_scheme, dataset.fields,
        http_connector(store, provider.base_url, provider.auth, provider.pki),
        offers=dataset.offers, openapi=document))


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def connector_words(config: Mapping[str, Any]) -> str:
    if config.get("kind") != "http":
        return f"store, through the {config.get('kind', '?')} connector"
    how = ("mutual TLS" if config.get("tls") else "signed requests"
           if (config.get("auth") or {}).get("kind") == "signature" else "plain HTTP")
    return f"own API, through the HTTP connector ({how})"
