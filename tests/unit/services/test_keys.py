"""The master keys' use case (services/keys.py) on fakes: rotation of a key file or a KMS,
the refusals that leave everything as it was, re-sealing, status, the start-up check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from onceonly.adapters.clock import MovableClock
from onceonly.crypto.envelope import EnvelopeInvalid
from onceonly.domain.errors import DomainError
from onceonly.services.envelopes import Envelopes
from onceonly.services.keys import KeyService
from tests.unit.test_envelope_service import CONTEXT, FakeMasterKeys, FakeStore

OPERATOR = "GOV/EXCHANGE"


@dataclass(frozen=True)
class Held:
    id: str
    created_at: str


class FakeKeyFile(FakeMasterKeys):
    """Master keys in a file: the fake KMS, with a path that exists or not."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.write_text("{}")

    def held(self) -> list[Held]:
        return [Held(key_id, "2026-01-01T00:00:00Z") for key_id in self.keys]


class FakePrivateKeys:
    def __init__(self, plaintext: int = 0, *, operator_key: Exception | None = None,
                 has_operator: bool = True) -> None:
        self.plaintext = plaintext
        self.operator_key = operator_key
        self.has_operator = has_operator

    def sign_compact_for(self, org_id: str, payload: bytes) -> str:
        if not self.has_operator:
            raise LookupError(f"{org_id} has no active signing key")
        if self.operator_key is not None:
            raise self.operator_key
        return "signed"

    def seal_plaintext(self) -> int:
        sealed, self.plaintext = self.plaintext, 0
        return sealed

    def plaintext_count(self) -> int:
        return self.plaintext


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


def with_file(tmp_path: Path, store: FakeStore, private: FakePrivateKeys | None = None
              ) -> tuple[KeyService, FakeKeyFile]:
    key_file = FakeKeyFile(tmp_path / "master-keys.json")
    envelopes = Envelopes(key_file, store, MovableClock())
    for org in ("GOV/HMRC", "GOV/DWP"):
        envelopes.encrypt(org, b"secret", CONTEXT)
    return KeyService(key_file, key_file, envelopes, private or FakePrivateKeys(),
                      OPERATOR), key_file


def test_rotating_a_key_file_makes_a_new_current_key_and_old_data_keys_wait(tmp_path, store):
    keys, key_file = with_file(tmp_path, store, FakePrivateKeys(plaintext=2))

    new = keys.rotate_master(rewrap_now=False)
    done = keys.reseal(new.id, rewrap_now=False)

    assert (new.id, new.key_file, new.held) == ("mk-2", key_file.path, 2)
    assert key_file.current == "mk-2"
    assert (done.sealed, done.rewrapped, done.failed, done.waiting) == (2, None, [], 2)
    status = keys.status()
    assert (status.current, status.in_use, status.plaintext) == ("mk-2", {"mk-1": 2}, 0)
    assert [key.id for key in status.held] == ["mk-1", "mk-2"]


def test_rewrapping_now_leaves_no_data_key_waiting(tmp_path, store):
    keys, _ = with_file(tmp_path, store)

    new = keys.rotate_master(rewrap_now=True)
    done = keys.reseal(new.id, rewrap_now=True)

    assert (done.rewrapped, done.waiting) == (2, 0)
    assert keys.status().in_use == {"mk-2": 2}


def test_a_key_file_lacking_the_keys_in_use_is_not_added_to(tmp_path, store):
    keys, key_file = with_file(tmp_path, store)
    del key_file.keys["mk-1"]
    key_file.keys["mk-9"] = b"\0" * 32

    with pytest.raises(DomainError) as refused:
        keys.rotate_master(rewrap_now=False)

    assert refused.value.code == "wrong_key_file"
    assert "lacks mk-1, which wrap 2 data keys" in refused.value.detail
    assert set(key_file.keys) == {"mk-9"}


def test_a_missing_key_file_is_not_replaced_while_data_keys_need_it(tmp_path, store):
    keys, key_file = with_file(tmp_path, store)
    key_file.path.unlink()

    for action in (keys.status, lambda: keys.rotate_master(rewrap_now=True)):
        with pytest.raises(DomainError) as refused:
            action()
        assert refused.value.code == "key_file_missing"
        assert "yet 2 data keys of this database are wrapped" in refused.value.detail
    assert key_file.current == "mk-1"


def test_a_kms_rotates_its_own_keys_and_is_only_asked_to_rewrap(store):
    kms = FakeMasterKeys()
    envelopes = Envelopes(kms, store, MovableClock())
    envelopes.encrypt("GOV/HMRC", b"secret", CONTEXT)
    keys = KeyService(kms, None, envelopes, FakePrivateKeys(), OPERATOR)

    with pytest.raises(DomainError) as refused:
        keys.rotate_master(rewrap_now=False)
    assert refused.value.code == "kms_rotates_itself"

    kms.rotate()  # made primary in the KMS
    new = keys.rotate_master(rewrap_now=True)
    assert (new.id, new.key_file) == ("mk-2", None)
    assert keys.reseal(new.id, rewrap_now=True).rewrapped == 1
    status = keys.status()
    assert (status.key_file, list(status.held), status.in_use) == (None, [], {"mk-2": 1})


def test_the_start_up_check_fails_only_on_a_private_key_that_does_not_decrypt(tmp_path, store):
    with_file(tmp_path, store)[0].check_private_keys()
    KeyService(FakeMasterKeys(), None, Envelopes(FakeMasterKeys(), store, MovableClock()),
               FakePrivateKeys(has_operator=False), OPERATOR).check_private_keys()
    broken, _ = with_file(tmp_path, FakeStore(), FakePrivateKeys(
        operator_key=EnvelopeInvalid("the private key cannot be used")))
    with pytest.raises(EnvelopeInvalid):
        broken.check_private_keys()
