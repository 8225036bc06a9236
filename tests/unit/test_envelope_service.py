"""The envelope service on fakes of its ports (master keys in memory, data keys in a dict):
a data key per organisation, rotation of the master keys with lazy re-wrapping, refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onceonly.adapters.clock import MovableClock
from onceonly.crypto import envelope as e
from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable
from onceonly.services.envelopes import Envelopes
from tests.fakes.keys import FakeMasterKeys, FakeStore

CONTEXT = {"table": "outbox", "column": "payload", "row": "1"}


@pytest.fixture
def master() -> FakeMasterKeys:
    return FakeMasterKeys()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


def service(master: FakeMasterKeys, store: FakeStore) -> Envelopes:
    """A service as a fresh process has it: nothing unwrapped yet."""
    return Envelopes(master, store, MovableClock())


def test_round_trip_and_one_data_key_per_organisation(master, store):
    envelopes = service(master, store)
    a = envelopes.encrypt("GOV/HMRC", b"first", CONTEXT)
    b = envelopes.encrypt("GOV/HMRC", b"second", CONTEXT)
    c = envelopes.encrypt("GOV/DWP", b"third", CONTEXT)

    assert a["data_key"] == b["data_key"] != c["data_key"]
    assert {r.org_id for r in store.rows.values()} == {"GOV/HMRC", "GOV/DWP"}
    assert all(r.master_key_id == "mk-1" and len(r.wrapped) == 60 for r in store.rows.values())
    fresh = service(master, store)
    assert [fresh.decrypt(x, CONTEXT) for x in (a, b, c)] == [b"first", b"second", b"third"]


def test_the_data_key_is_stored_only_wrapped(master, store):
    envelopes = service(master, store)
    envelopes.encrypt("GOV/HMRC", b"x", CONTEXT)
    (record,) = store.rows.values()
    plain = master.unwrap("mk-1", record.wrapped, {"purpose": "onceonly-data-key",
                                                  "data_key": record.id, "org": "GOV/HMRC"})
    assert plain not in record.wrapped


def test_another_context_or_a_tampered_envelope_is_refused(master, store):
    envelopes = service(master, store)
    sealed = envelopes.encrypt("GOV/HMRC", b"secret", CONTEXT)

    with pytest.raises(EnvelopeInvalid):
        envelopes.decrypt(sealed, {**CONTEXT, "row": "2"})
    tampered = {**sealed, "ciphertext": sealed["ciphertext"][::-1]}
    with pytest.raises(EnvelopeInvalid):
        service(master, store).decrypt(tampered, CONTEXT)


def test_an_envelope_moved_to_another_organisations_data_key_is_refused(master, store):
    envelopes = service(master, store)
    hmrc = envelopes.encrypt("GOV/HMRC", b"secret", CONTEXT)
    dwp = envelopes.encrypt("GOV/DWP", b"other", CONTEXT)

    with pytest.raises(EnvelopeInvalid):
        service(master, store).decrypt({**hmrc, "data_key": dwp["data_key"]}, CONTEXT)


def test_an_unknown_data_key_is_refused(master, store):
    sealed = e.seal(e.new_key(), "dk-nowhere", "GOV/HMRC", b"x", CONTEXT)
    with pytest.raises(EnvelopeInvalid, match="does not hold"):
        service(master, store).decrypt(sealed, CONTEXT)


def test_a_tampered_wrapped_data_key_is_refused(master, store):
    sealed = service(master, store).encrypt("GOV/HMRC", b"secret", CONTEXT)
    record = store.rows[sealed["data_key"]]
    store.rows[record.id] = replace(record, wrapped=bytes([record.wrapped[0] ^ 1])
                                    + record.wrapped[1:])
    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        service(master, store).decrypt(sealed, CONTEXT)


def test_a_wrapped_key_copied_to_another_organisations_row_is_refused(master, store):
    envelopes = service(master, store)
    envelopes.encrypt("GOV/HMRC", b"x", CONTEXT)
    dwp = envelopes.encrypt("GOV/DWP", b"y", CONTEXT)
    hmrc_row = next(r for r in store.rows.values() if r.org_id == "GOV/HMRC")
    store.rows[dwp["data_key"]] = replace(store.rows[dwp["data_key"]], wrapped=hmrc_row.wrapped)
    with pytest.raises(EnvelopeInvalid, match="does not unwrap"):
        service(master, store).decrypt(dwp, CONTEXT)


def test_after_rotation_new_data_keys_use_the_new_master_and_old_ones_rewrap_lazily(
        master, store):
    envelopes = service(master, store)
    old = envelopes.encrypt("GOV/HMRC", b"before", CONTEXT)

    assert master.rotate() == "mk-2"
    new = envelopes.encrypt("GOV/DWP", b"after", CONTEXT)

    assert store.rows[new["data_key"]].master_key_id == "mk-2"
    assert store.rows[old["data_key"]].master_key_id == "mk-1"  # not used since
    assert service(master, store).decrypt(old, CONTEXT) == b"before"  # used: re-wrapped
    assert store.rows[old["data_key"]].master_key_id == "mk-2"
    del master.keys["mk-1"]  # nothing needs the old key any more
    assert service(master, store).decrypt(old, CONTEXT) == b"before"


def test_a_process_holding_a_data_key_rewraps_it_when_it_next_uses_it(master, store):
    envelopes = service(master, store)
    sealed = envelopes.encrypt("GOV/HMRC", b"x", CONTEXT)
    master.rotate()

    assert envelopes.decrypt(sealed, CONTEXT) == b"x"  # from memory, yet re-wrapped

    assert store.rows[sealed["data_key"]].master_key_id == "mk-2"


def test_when_rewrapping_fails_the_read_still_succeeds_and_the_next_use_retries(master, store):
    sealed = service(master, store).encrypt("GOV/HMRC", b"x", CONTEXT)
    master.rotate()
    store.broken = True

    envelopes = service(master, store)
    assert envelopes.decrypt(sealed, CONTEXT) == b"x"
    assert store.rows[sealed["data_key"]].master_key_id == "mk-1"

    store.broken = False
    assert envelopes.decrypt(sealed, CONTEXT) == b"x"
    assert store.rows[sealed["data_key"]].master_key_id == "mk-2"


def test_rewrap_all_moves_every_data_key_and_reports_the_ones_it_cannot(master, store):
    envelopes = service(master, store)
    sealed = {org: envelopes.encrypt(org, org.encode(), CONTEXT)
              for org in [f"GOV/ORG{n:03d}" for n in range(250)]}  # more than one batch
    master.rotate()
    bad = sealed["GOV/ORG007"]["data_key"]
    store.rows[bad] = replace(store.rows[bad], wrapped=bytes(60))

    result = envelopes.rewrap_all()

    assert result.rewrapped == 249
    assert [key_id for key_id, _ in result.failed] == [bad]
    assert "does not unwrap" in result.failed[0][1]
    assert store.rows[bad].master_key_id == "mk-1"
    assert envelopes.count_by_master() == {"mk-2": 249, "mk-1": 1}
    del master.keys["mk-1"]
    fresh = service(master, store)
    assert all(fresh.decrypt(s, CONTEXT) == org.encode()
               for org, s in sealed.items() if org != "GOV/ORG007")


def test_a_master_key_that_is_gone_is_a_configuration_error(master, store):
    sealed = service(master, store).encrypt("GOV/HMRC", b"x", CONTEXT)
    master.rotate()
    del master.keys["mk-1"]
    with pytest.raises(MasterKeyUnavailable, match="mk-1"):
        service(master, store).decrypt(sealed, CONTEXT)


@pytest.mark.parametrize("context", [{}, {"row": 1}])
def test_a_bad_context_is_refused_before_anything_is_stored(master, store, context):
    with pytest.raises(ValueError, match="context"):
        service(master, store).encrypt("GOV/HMRC", b"x", context)
    assert store.rows == {}


def test_text_instead_of_bytes_is_refused_before_anything_is_stored(master, store):
    with pytest.raises(TypeError, match="plaintext is bytes, not str"):
        service(master, store).encrypt("GOV/HMRC", "x", CONTEXT)
    assert store.rows == {}


def test_encrypt_each_reads_the_keys_once_and_seals_as_encrypt_does(master, store):
    envelopes = service(master, store)
    known = envelopes.encrypt("GOV/HMRC", b"before", CONTEXT)
    with store(write=True) as keys:
        sealed = envelopes.encrypt_each([("GOV/HMRC", b"first", CONTEXT),
                                         ("GOV/DWP", b"second", CONTEXT),
                                         ("GOV/DWP", b"third", CONTEXT)], keys=keys)
        assert keys.reads_of_active == 1

    assert sealed[0]["data_key"] == known["data_key"]  # the organisation's key, not a new one
    assert sealed[1]["data_key"] == sealed[2]["data_key"] != known["data_key"]  # made once
    assert {r.org_id for r in store.rows.values()} == {"GOV/HMRC", "GOV/DWP"}
    fresh = service(master, store)
    assert [fresh.decrypt(x, CONTEXT) for x in sealed] == [b"first", b"second", b"third"]


def test_encrypt_each_refuses_a_bad_item_before_anything_is_stored(master, store):
    with store(write=True) as keys, pytest.raises(TypeError, match="plaintext is bytes"):
        service(master, store).encrypt_each([("GOV/HMRC", b"x", CONTEXT),
                                             ("GOV/DWP", "x", CONTEXT)], keys=keys)
    assert store.rows == {}
