"""A real RFC 3161 timestamping authority for the tests: `openssl ts -reply` with a test CA
made here, behind a small HTTP server bound to 127.0.0.1 that can be taken down and brought
back on the same port."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CONFIG = """\
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def make_authority(folder: Path, name: str = "Test TSA") -> Path:
    """A CA and a timestamping certificate it issued, with openssl's configuration, in
    `folder`; returns the CA certificate's PEM file (what a verifier trusts)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name(f"{name} CA"))
          .issuer_name(_name(f"{name} CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca.subject)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now - dt.timedelta(days=1))
           .not_valid_after(now + dt.timedelta(days=3650))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                          critical=True)
           .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                        False), critical=True)
           .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    _write_key(folder / "tsa.key", tsa_key)
    (folder / "serial").write_text("01\n")
    (folder / "openssl.cnf").write_text(_CONFIG.format(dir=folder))
    return folder / "ca.pem"


class TestAuthority:
    """`openssl ts -reply` over HTTP (RFC 3161 §3.4: POST application/timestamp-query)."""

    __test__ = False  # not a test class

    def __init__(self, folder: Path | None = None, name: str = "Test TSA") -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="tsa-"))
        self.ca_file = make_authority(self.folder, name)
        self.answered = 0
        self._lock = threading.Lock()  # openssl's serial file: one reply at a time
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsa"

    def reply(self, query: bytes) -> bytes:
        with self._lock, tempfile.TemporaryDirectory() as work:
            (Path(work) / "q.tsq").write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config",
                            str(self.folder / "openssl.cnf"), "-queryfile",
                            f"{work}/q.tsq", "-out", f"{work}/r.tsr"],
                           check=True, capture_output=True)
            self.answered += 1
            return (Path(work) / "r.tsr").read_bytes()

    def up(self) -> None:
        authority = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    answer = authority.reply(query)
                except subprocess.CalledProcessError:
                    self.send_response(400)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop answering: the port refuses connections until up() again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.down()
        shutil.rmtree(self.folder, ignore_errors=True)
