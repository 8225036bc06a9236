"""The master key file (the demo's KMS): made 0600, versioned, rotated atomically without
losing a key, re-read by other processes when it changes; bad files give clear errors."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

import pytest

from onceonly.adapters.kms_file import FileMasterKeys, create_key_file
from onceonly.config import master_key_file
from onceonly.crypto.envelope import EnvelopeInvalid, MasterKeyUnavailable, new_key

CONTEXT = {"purpose": "onceonly-data-key", "data_key": "dk-1", "org": "GOV/HMRC"}


def test_a_new_key_file_is_private_and_holds_one_current_key(tmp_path):
    path = tmp_path / "keys" / "master-keys.json"
    key_id = create_key_file(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["current"] == key_id
    assert [k["id"] for k in document["keys"]] == [key_id]
    assert FileMasterKeys(path).current_id() == key_id
    assert [p.name for p in path.parent.iterdir()] == ["master-keys.json"]  # no temporaries


def test_an_existing_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "master-keys.json"
    create_key_file(path)
    before = path.read_bytes()
    with pytest.raises(MasterKeyUnavailable, match="already exists"):
        create_key_file(path)
    assert path.read_bytes() == before


def test_wrap_and_unwrap_bind_the_master_key_id(tmp_path):
    path = tmp_path / "master-keys.json"
    create_key_file(path)
    keys = FileMasterKeys(path)
    first = keys.current_id()
    data_key = new_key()
    wrapped = keys.wrap(first, data_key, CONTEXT)
    assert keys.unwrap(first, wrapped, CONTEXT) == data_key
    second = keys.rotate()
    with pytest.raises(EnvelopeInvalid):
        keys.unwrap(second, wrapped, CONTEXT)
    with pytest.raises(EnvelopeInvalid):
        keys.unwrap(first, wrapped, {**CONTEXT, "org": "GOV/DWP"})


def test_rotation_adds_a_current_key_and_keeps_the_old_ones(tmp_path):
    path = tmp_path / "master-keys.json"
    first = create_key_file(path)
    keys = FileMasterKeys(path)
    wrapped = keys.wrap(first, data_key := new_key(), CONTEXT)

    second = keys.rotate()
    third = keys.rotate()

    assert len({first, second, third}) == 3
    assert keys.current_id() == third
    assert [k.id for k in keys.held()] == [first, second, third]
    assert keys.unwrap(first, wrapped, CONTEXT) == data_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master-keys.json",
                                                         "master-keys.json.lock"]


def test_another_process_sees_the_rotation_both_by_current_id_and_by_an_unknown_id(tmp_path):
    path = tmp_path / "master-keys.json"
    create_key_file(path)
    server, other_server, operator = (FileMasterKeys(path), FileMasterKeys(path),
                                      FileMasterKeys(path))
    before = server.current_id()
    other_server.current_id()

    new = operator.rotate()

    # Asking for the current key notices the file changed.
    assert server.current_id() == new != before
    # Meeting a key id it does not know makes it look again, without being asked first.
    wrapped = operator.wrap(new, data_key := new_key(), CONTEXT)
    assert other_server.unwrap(new, wrapped, CONTEXT) == data_key


def test_an_id_in_no_version_of_the_file_is_a_clear_error(tmp_path):
    path = tmp_path / "master-keys.json"
    create_key_file(path)
    with pytest.raises(MasterKeyUnavailable, match=r"mk-nowhere is not in the master key file"):
        FileMasterKeys(path).unwrap("mk-nowhere", bytes(60), CONTEXT)


def _rotate(path: str) -> str:
    return FileMasterKeys(Path(path)).rotate()


def test_concurrent_rotations_lose_no_key(tmp_path):
    path = tmp_path / "master-keys.json"
    first = create_key_file(path)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        made = pool.map(_rotate, [str(path)] * 12)

    held = [k.id for k in FileMasterKeys(path).held()]
    assert sorted(held) == sorted([first, *made])
    assert FileMasterKeys(path).current_id() == held[-1]


def _create(path: str) -> str:
    return FileMasterKeys(Path(path), create=True).current_id()


def test_processes_making_the_default_file_at_once_agree_on_one_key(tmp_path):
    path = tmp_path / "data" / "master-keys.json"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        seen = pool.map(_create, [str(path)] * 8)
    assert len(set(seen)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_file_that_is_missing_is_an_error_and_is_not_made(tmp_path):
    path = tmp_path / "nowhere" / "master-keys.json"
    keys = FileMasterKeys(path)
    with pytest.raises(MasterKeyUnavailable, match="does not exist.*keys init"):
        keys.current_id()
    with pytest.raises(MasterKeyUnavailable, match="does not exist"):
        keys.rotate()
    assert not path.parent.exists()


def test_the_default_file_is_made_when_first_needed(tmp_path):
    path = tmp_path / "master-keys.json"
    keys = FileMasterKeys(path, create=True)
    assert not path.exists()
    key_id = keys.current_id()
    assert json.loads(path.read_text())["current"] == key_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


VALID = {"format": "onceonly-master-keys/1", "current": "mk-a",
         "keys": [{"id": "mk-a", "created_at": "2026-11-25T00:00:00Z",
                   "key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}]}


@pytest.mark.parametrize(("content", "message"), [
    ("", "not JSON"),
    ("{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    ("[]", "format"),
    (json.dumps({**VALID, "format": "something-else"}), "format"),
    (json.dumps({**VALID, "keys": []}), "non-empty list"),
    (json.dumps({**VALID, "keys": [{"id": "mk-a"}]}), "needs"),
    (json.dumps({**VALID, "current": "mk-b"}), "names none of its keys"),
    (json.dumps({**VALID, "keys": VALID["keys"] * 2}), "appears twice"),
    (json.dumps({**VALID, "keys": [{**VALID["keys"][0], "key": "c2hvcnQ="}]}), "5 bytes"),
    (json.dumps({**VALID, "keys": [{**VALID["keys"][0], "key": "!!"}]}), "not base64"),
], ids=["empty", "broken", "binary", "list", "format", "no-keys", "incomplete",
        "current", "duplicate", "short-key", "not-base64"])
def test_a_corrupt_key_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "master-keys.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(MasterKeyUnavailable, match=f"{path} is not valid: .*{message}"):
        FileMasterKeys(path, create=True).current_id()
    with pytest.raises(MasterKeyUnavailable):
        FileMasterKeys(path).rotate()
    assert path.read_bytes() == (content if isinstance(content, bytes) else content.encode())


def test_the_valid_example_is_valid(tmp_path):
    """The corrupt cases above differ from this one only where they say."""
    path = tmp_path / "master-keys.json"
    path.write_text(json.dumps(VALID))
    assert FileMasterKeys(path).current_id() == "mk-a"


def test_an_unreadable_key_file_is_a_clear_error(tmp_path):
    path = tmp_path / "master-keys.json"
    path.mkdir()  # (permissions would not stop root, who runs some test machines)
    with pytest.raises(MasterKeyUnavailable, match="cannot read the master key file"):
        FileMasterKeys(path).current_id()


def test_where_the_key_file_is(tmp_path, monkeypatch):
    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", str(tmp_path / "k.json"))
    assert master_key_file("sqlite:////somewhere/exchange.sqlite") == (tmp_path / "k.json", True)
    monkeypatch.delenv("ONCEONLY_MASTER_KEY_FILE")
    # Named after its database: two exchanges in one folder have a key file each.
    assert master_key_file(f"sqlite:///{tmp_path}/db/exchange.sqlite") \
        == (tmp_path / "db" / "exchange.master-keys.json", False)
    assert master_key_file(f"sqlite:///{tmp_path}/db/other.db") \
        == (tmp_path / "db" / "other.master-keys.json", False)
    monkeypatch.chdir(tmp_path)
    assert master_key_file("postgresql+psycopg://postgres@127.0.0.1/test") \
        == (tmp_path / "onceonly-data" / "master-keys.json", False)


def test_a_folder_keeps_the_one_key_file_an_earlier_version_made(tmp_path, monkeypatch):
    """Before key files were named after their database, one `master-keys.json` served
    every SQLite database in its folder: those databases' data keys are wrapped by it."""
    monkeypatch.delenv("ONCEONLY_MASTER_KEY_FILE")
    create_key_file(tmp_path / "master-keys.json")
    url = f"sqlite:///{tmp_path}/exchange.sqlite"

    assert master_key_file(url) == (tmp_path / "master-keys.json", False)

    create_key_file(tmp_path / "exchange.master-keys.json")  # one of its own wins
    assert master_key_file(url) == (tmp_path / "exchange.master-keys.json", False)


def test_unwrapping_never_makes_a_key_file(tmp_path):
    """A new file cannot hold the key that wrapped what is stored: a missing default file
    is an error when unwrapping (it is made only to wrap a new data key)."""
    keys = FileMasterKeys(tmp_path / "exchange.master-keys.json", create=True)

    with pytest.raises(MasterKeyUnavailable, match="does not exist"):
        keys.unwrap("mk-0123456789abcdef", b"\0" * 60, CONTEXT)

    assert list(tmp_path.iterdir()) == []
    keys.current_id()  # wrapping: made now
    assert [p.name for p in tmp_path.iterdir()] == ["exchange.master-keys.json"]
