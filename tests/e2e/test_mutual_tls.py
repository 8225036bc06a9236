"""`onceonly serve --tls-cert --tls-key --tls-client-ca`: a real server process speaking
mutual TLS, with a throwaway CA, server and client certificate. A client without a
certificate is refused in the TLS handshake; one with a certificate from the CA is served.
Bad TLS options are refused up front with exit 2."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import insert
from typer.testing import CliRunner

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.keystore import add_signing_key
from onceonly.bootstrap import envelopes_for
from onceonly.entrypoints.cli import app
from tests.support.servers import START_TIMEOUT, Server, start_server, stop


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
           issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
           usage: x509.ObjectIdentifier | None = None) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=1))
               .not_valid_after(now + timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate,
           key: ec.EllipticCurvePrivateKey | None = None) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1 and a client certificate."""
    where = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("onceonly test CA", ca_key, "onceonly test CA", ca_key, ca=True)
    _write(where / "ca.pem", ca)
    for name, usage in (("server", ExtendedKeyUsageOID.SERVER_AUTH),
                        ("client", ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(where / f"{name}.pem", _issue(f"GOV/DWP {name}", key, "onceonly test CA",
                                             ca_key, usage=usage), key)
    return where


@pytest.fixture(scope="module")
def server(pki: Path) -> Iterator[Server]:
    url = f"sqlite:///{pki / 'exchange.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:  # ready to serve: the operator can sign tree heads
        conn.execute(insert(t.organisations).values(id="GOV/EXCHANGE", name="Operator"))
        add_signing_key(conn, "GOV/EXCHANGE", datetime.now(UTC),
                        envelopes=envelopes_for(engine))
    engine.dispose()
    started = start_server(url, pki / "server.log", "--tls-cert", str(pki / "server.pem"),
                           "--tls-key", str(pki / "server.key"),
                           "--tls-client-ca", str(pki / "ca.pem"))
    try:
        yield started
    finally:
        stop(started)


def _context(pki: Path, *, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki / "ca.pem")
    if with_certificate:
        context.load_cert_chain(pki / "client.pem", pki / "client.key")
    return context


def _healthz(server: Server, context: ssl.SSLContext) -> httpx.Response:
    base = server.base_url.replace("http://", "https://")
    with httpx.Client(verify=context, timeout=5) as client:
        return client.get(f"{base}/healthz")


def test_only_clients_with_a_certificate_from_the_ca_are_served(
        server: Server, pki: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:  # up: a client with a certificate is answered
        assert server.process.poll() is None, server.log_text()
        try:
            response = _healthz(server, _context(pki, with_certificate=True))
            break
        except httpx.ConnectError:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.2)
    assert response.json() == {"status": "ok"}
    assert response.headers["strict-transport-security"] == "max-age=31536000; " \
        "includeSubDomains"  # served over TLS: browsers are to keep to it
    with pytest.raises(httpx.TransportError):  # refused in the TLS handshake
        _healthz(server, _context(pki, with_certificate=False))
    with pytest.raises(httpx.TransportError):  # and plain HTTP is not spoken
        httpx.get(f"{server.base_url}/healthz", timeout=5).raise_for_status()


@pytest.mark.parametrize(("args", "message"), [
    (["--tls-cert", "{pki}/server.pem"], "go together"),
    (["--tls-client-ca", "{pki}/ca.pem"], "needs --tls-cert"),
    (["--tls-cert", "{pki}/missing.pem", "--tls-key", "{pki}/server.key"], "not a readable"),
    (["--tls-cert", "{pki}/ca.pem", "--tls-key", "{pki}/server.key"], "not a PEM certificate"),
    (["--tls-cert", "{pki}/server.pem", "--tls-key", "{pki}/server.key",
      "--tls-client-ca", "{pki}/server.key"], "not a PEM CA"),
])
def test_bad_tls_options_exit_2(pki: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{pki}/none.sqlite",
                                      *(a.format(pki=pki) for a in args)])
    assert result.exit_code == 2, result.output
    assert message in result.output
