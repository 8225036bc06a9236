"""Encryption at rest in the exchange database, on SQLite and PostgreSQL: the private
signing keys are stored only as envelopes under per-organisation data keys, which are
stored only wrapped by a master key; tampering and copying are refused; rows from before
encryption still work and are encrypted lazily; master key rotation re-wraps lazily."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, String, cast, insert, select, update

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import alembic_config, current_revision, upgrade
from onceonly.adapters.keystore import add_signing_key, private_key_context
from onceonly.adapters.kms_file import FileMasterKeys, create_key_file
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.crypto.envelope import EnvelopeInvalid, is_envelope
from onceonly.crypto.signing import SigningKey, verify_detached
from onceonly.demo.seed import World

PAYLOAD = b'{"data":{"income_band":"12571-50270"}}'


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key file of this test's own, which it may rotate."""
    path = tmp_path / "master-keys.json"
    create_key_file(path)
    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(path))
    return path


def fresh(exchange: Exchange) -> Exchange:
    """The same database as a new process sees it: nothing loaded or unwrapped yet."""
    return bootstrap(engine=exchange.engine, clock=exchange.clock)


def stored(engine: Engine) -> dict[str, tuple[str, object]]:
    with engine.connect() as conn:
        return {row.kid: (row.org_id, row.private_jwk) for row in conn.execute(
            select(t.signing_keys.c.kid, t.signing_keys.c.org_id, t.signing_keys.c.private_jwk))}


def set_private(engine: Engine, kid: str, value: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(t.signing_keys).where(t.signing_keys.c.kid == kid)
                     .values(private_jwk=value))


def kid_of(engine: Engine, org_id: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(t.signing_keys.c.kid)
                            .where(t.signing_keys.c.org_id == org_id)).scalar_one()


def signs(exchange: Exchange, org_id: str) -> str:
    signature, kid = exchange.key_store.sign_for(org_id, PAYLOAD)
    assert verify_detached(signature, PAYLOAD, exchange.key_store.jwks(), org_id) == kid
    return kid


def flip_b64(text: str, index: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# --- what is stored -----------------------------------------------------------------------

def test_no_private_key_is_stored_in_plaintext(world: World, exchange: Exchange):
    rows = stored(exchange.engine)
    assert len(rows) == 12

    private_halves = []
    for kid, (org_id, value) in rows.items():
        assert is_envelope(value), value
        assert "d" not in value and "kty" not in value
        jwk = json.loads(exchange.envelopes.decrypt(value, private_key_context(org_id, kid)))
        assert jwk["kty"] == "OKP" and jwk["d"]
        private_halves.append(jwk["d"])
    # Not in the column's raw text, nor in any other column of the table.
    with exchange.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(
            select(cast(t.signing_keys.c.private_jwk, String), t.signing_keys.c.public_jwk))
            for v in row)
    assert not any(d in raw for d in private_halves)


def test_each_organisation_has_one_data_key_stored_wrapped_by_the_current_master(
        world: World, exchange: Exchange):
    with exchange.engine.connect() as conn:
        keys = conn.execute(select(t.data_keys)).all()
    assert sorted(k.org_id for k in keys) == sorted(org for org, _ in stored(
        exchange.engine).values())
    current = exchange.master_keys.current_id()
    assert all(k.master_key_id == current and len(k.wrapped_key) == 60 and k.active
               for k in keys)


def test_every_organisation_signs_with_its_decrypted_key(world: World, exchange: Exchange):
    again = fresh(exchange)
    for kid, (org_id, _) in stored(exchange.engine).items():
        assert signs(again, org_id) == kid


# --- refusals -----------------------------------------------------------------------------

@pytest.mark.parametrize("part", ["ciphertext-start", "ciphertext-tag", "nonce", "data_key"])
def test_a_tampered_private_key_is_refused(world: World, exchange: Exchange, part: str):
    kid = kid_of(exchange.engine, "GOV/HMRC")
    envelope = dict(stored(exchange.engine)[kid][1])
    if part == "ciphertext-start":
        envelope["ciphertext"] = flip_b64(envelope["ciphertext"], 0)
    elif part == "ciphertext-tag":
        envelope["ciphertext"] = flip_b64(envelope["ciphertext"], -1)
    elif part == "nonce":
        envelope["nonce"] = flip_b64(envelope["nonce"], 5)
    else:  # another organisation's data key
        dwp = stored(exchange.engine)[kid_of(exchange.engine, "GOV/DWP")][1]
        envelope["data_key"] = dwp["data_key"]
    set_private(exchange.engine, kid, envelope)

    with pytest.raises(EnvelopeInvalid, match=f"private key {kid} of GOV/HMRC cannot be used"):
        fresh(exchange).key_store.sign_for("GOV/HMRC", PAYLOAD)
    assert signs(fresh(exchange), "GOV/DWP")  # the others are untouched


def test_a_tampered_wrapped_data_key_is_refused(world: World, exchange: Exchange):
    with exchange.engine.begin() as conn:
        row = conn.execute(select(t.data_keys).where(t.data_keys.c.org_id == "GOV/HMRC")).one()
        wrapped = bytearray(row.wrapped_key)
        wrapped[20] ^= 0x80
        conn.execute(update(t.data_keys).where(t.data_keys.c.id == row.id)
                     .values(wrapped_key=bytes(wrapped)))

    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        fresh(exchange).key_store.sign_for("GOV/HMRC", PAYLOAD)


def test_a_wrapped_data_key_copied_to_another_organisations_row_is_refused(
        world: World, exchange: Exchange):
    with exchange.engine.begin() as conn:
        hmrc = conn.execute(select(t.data_keys).where(t.data_keys.c.org_id == "GOV/HMRC")).one()
        conn.execute(update(t.data_keys).where(t.data_keys.c.org_id == "GOV/DWP")
                     .values(wrapped_key=hmrc.wrapped_key))

    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        fresh(exchange).key_store.sign_for("GOV/DWP", PAYLOAD)


def test_a_private_key_copied_into_another_organisations_row_is_refused(
        world: World, exchange: Exchange):
    rows = stored(exchange.engine)
    hmrc, dwp = kid_of(exchange.engine, "GOV/HMRC"), kid_of(exchange.engine, "GOV/DWP")
    set_private(exchange.engine, dwp, rows[hmrc][1])

    with pytest.raises(EnvelopeInvalid, match=f"private key {dwp} of GOV/DWP cannot be used"):
        fresh(exchange).key_store.sign_for("GOV/DWP", PAYLOAD)


def test_a_private_key_copied_into_another_row_of_the_same_organisation_is_refused(
        world: World, exchange: Exchange):
    """A newer key of HMRC whose row is given the older row's envelope (same organisation,
    same data key) does not decrypt: the envelope is bound to its row."""
    old = kid_of(exchange.engine, "GOV/HMRC")
    with exchange.engine.begin() as conn:
        new = add_signing_key(conn, "GOV/HMRC", datetime.now(UTC),
                              envelopes=exchange.envelopes).kid
    assert signs(fresh(exchange), "GOV/HMRC") == new
    set_private(exchange.engine, new, stored(exchange.engine)[old][1])

    with pytest.raises(EnvelopeInvalid, match=f"private key {new} of GOV/HMRC cannot be used"):
        fresh(exchange).key_store.sign_for("GOV/HMRC", PAYLOAD)


def test_a_row_that_is_neither_envelope_nor_jwk_is_refused(world: World, exchange: Exchange):
    set_private(exchange.engine, kid_of(exchange.engine, "GOV/HMRC"), {"hello": "world"})
    with pytest.raises(EnvelopeInvalid, match="neither an envelope nor a private JWK"):
        fresh(exchange).key_store.sign_for("GOV/HMRC", PAYLOAD)


# --- rows from before encryption ----------------------------------------------------------

def _plaintext_key(exchange: Exchange, org_id: str) -> SigningKey:
    """A signing key as written before encryption at rest: the private JWK in plaintext."""
    key = SigningKey.generate(org_id)
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.signing_keys).values(
            kid=key.kid, org_id=org_id, private_jwk=key.private_jwk(),
            public_jwk=key.public_jwk(), created_at=datetime.now(UTC), active=True))
    return key


def test_a_plaintext_row_still_signs_and_is_encrypted_when_first_read(
        world: World, exchange: Exchange):
    legacy = _plaintext_key(exchange, "GOV/HMRC")
    assert stored(exchange.engine)[legacy.kid][1] == legacy.private_jwk()
    assert exchange.key_store.plaintext_count() == 1

    assert signs(fresh(exchange), "GOV/HMRC") == legacy.kid

    value = stored(exchange.engine)[legacy.kid][1]
    assert is_envelope(value) and legacy.private_jwk()["d"] not in json.dumps(value)
    assert exchange.key_store.plaintext_count() == 0
    assert signs(fresh(exchange), "GOV/HMRC") == legacy.kid  # and reads back as an envelope


def test_seal_plaintext_encrypts_every_plaintext_row(world: World, exchange: Exchange):
    legacy = [_plaintext_key(exchange, org) for org in ("GOV/HMRC", "GOV/DWP", "GOV/DVLA")]

    assert exchange.key_store.seal_plaintext() == 3
    assert exchange.key_store.seal_plaintext() == 0

    assert all(is_envelope(value) for _, value in stored(exchange.engine).values())
    again = fresh(exchange)
    assert [signs(again, key.org_id) for key in legacy] == [key.kid for key in legacy]


def test_a_plaintext_row_still_signs_when_it_cannot_be_encrypted(
        world: World, exchange: Exchange, tmp_path: Path):
    """The master key file is missing (configuration broken): signing with a legacy key
    still works, and the row waits in plaintext for the next try."""
    legacy = _plaintext_key(exchange, "GOV/HMRC")
    broken = bootstrap(engine=exchange.engine,
                       master_keys=FileMasterKeys(tmp_path / "missing.json"))

    assert signs(broken, "GOV/HMRC") == legacy.kid
    assert stored(exchange.engine)[legacy.kid][1] == legacy.private_jwk()


# --- rotation -----------------------------------------------------------------------------

def _new_org(exchange: Exchange, org_id: str) -> str:
    with exchange.engine.begin() as conn:
        conn.execute(insert(t.organisations).values(id=org_id, name=org_id))
        return add_signing_key(conn, org_id, datetime.now(UTC),
                               envelopes=exchange.envelopes).kid


def _wrapped_by(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {org: master for org, master in conn.execute(
            select(t.data_keys.c.org_id, t.data_keys.c.master_key_id))}


def test_rotation_seen_by_a_running_process_new_keys_new_master_old_ones_lazily(
        key_file: Path, db_url: str, clock):
    server = bootstrap(db_url, clock=clock)  # a server process, running before and after
    try:
        upgrade(server.engine)
        first = server.master_keys.current_id()
        hmrc = _new_org(server, "GOV/HMRC")
        dwp = _new_org(server, "GOV/DWP")
        assert signs(server, "GOV/HMRC") == hmrc

        second = FileMasterKeys(key_file).rotate()  # `keys rotate` from another process

        # New data keys are wrapped with the new master key.
        _new_org(server, "GOV/NEW")
        assert _wrapped_by(server.engine) == {"GOV/HMRC": first, "GOV/DWP": first,
                                              "GOV/NEW": second}
        # An old data key still unwraps, and is re-wrapped when next used.
        assert signs(server, "GOV/DWP") == dwp
        assert _wrapped_by(server.engine)["GOV/DWP"] == second
        # The one the server holds in memory waits for its next use, or for rewrap_all.
        assert _wrapped_by(server.engine)["GOV/HMRC"] == first
        result = server.envelopes.rewrap_all()
        assert (result.rewrapped, result.failed) == (1, [])
        assert set(_wrapped_by(server.engine).values()) == {second}
        # Everything reads in a new process, with the old master key still in the file.
        again = bootstrap(db_url, clock=clock)
        try:
            assert [signs(again, org) for org in ("GOV/HMRC", "GOV/DWP")] == [hmrc, dwp]
        finally:
            again.close()
    finally:
        server.close()


def test_a_process_meets_a_master_key_it_has_not_seen(key_file: Path, db_url: str, clock):
    """A server that read the key file before a rotation is asked to decrypt with a data
    key wrapped by the new master key: it reads the file again rather than failing."""
    operator = bootstrap(db_url, clock=clock)
    server = bootstrap(db_url, clock=clock)
    try:
        upgrade(operator.engine)
        _new_org(operator, "GOV/HMRC")
        signs(server, "GOV/HMRC")  # the server has read the key file
        FileMasterKeys(key_file).rotate()
        kid = _new_org(operator, "GOV/NEW")  # wrapped by a master key the server never saw
        assert signs(server, "GOV/NEW") == kid
    finally:
        operator.close()
        server.close()


def test_rotation_needs_no_re_encryption_of_the_data(key_file: Path, world: World,
                                                     exchange: Exchange):
    before = stored(exchange.engine)
    FileMasterKeys(key_file).rotate()
    assert exchange.envelopes.rewrap_all().rewrapped == 12
    assert stored(exchange.engine) == before  # the envelopes are untouched


# --- the migration ------------------------------------------------------------------------

def test_downgrade_decrypts_the_private_keys_and_upgrade_brings_encryption_back(
        world: World, exchange: Exchange):
    kids = {kid: org for kid, (org, _) in stored(exchange.engine).items()}

    command.downgrade(alembic_config(exchange.engine, envelopes=exchange.envelopes), "0003")

    assert current_revision(exchange.engine) == "0003"
    for kid, (org_id, value) in stored(exchange.engine).items():
        assert not is_envelope(value) and value["d"]
        assert SigningKey.from_private_jwk(org_id, value).kid == kid
    upgrade(exchange.engine)
    again = fresh(exchange)
    for kid, org_id in kids.items():
        assert signs(again, org_id) == kid
    assert again.key_store.plaintext_count() == 0


def test_a_kms_plugs_in_through_the_port(db_url: str, clock, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch):
    """Any MasterKeys adapter (here an in-memory stand-in for a KMS) is given to bootstrap;
    no key file is read or made."""
    from tests.unit.test_envelope_service import FakeMasterKeys

    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(tmp_path / "not-used.json"))
    kms = FakeMasterKeys()
    exchange = bootstrap(db_url, clock=clock, master_keys=kms)
    try:
        upgrade(exchange.engine)
        kid = _new_org(exchange, "GOV/HMRC")
        kms.rotate()  # a new key version made primary in the KMS
        assert exchange.envelopes.rewrap_all().rewrapped == 1
        assert signs(bootstrap(engine=exchange.engine, master_keys=kms), "GOV/HMRC") == kid
        assert _wrapped_by(exchange.engine) == {"GOV/HMRC": "mk-2"}
    finally:
        exchange.close()
    assert not (tmp_path / "not-used.json").exists()
