"""`onceonly audit verify|integrate|proof|check` as an operator runs them: real processes on a
real SQLite file (and once on PostgreSQL), real exit codes, and a real server for `check`.

A world with a few queries is built in-process once per module; each test that tampers with
the log does so on a copy of its own. Fast argument-validation cases and further kinds of
tampering run in-process with Typer's CliRunner; the rest are subprocesses.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update
from typer.testing import CliRunner, Result

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.engine import make_engine
from onceonly.adapters.db.migrate import upgrade
from onceonly.audit import merkle
from onceonly.audit.entries import AuditEntry
from onceonly.audit.heads import SignedTreeHead, TreeHead, b64, verify_tree_head
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.crypto.signing import SigningKey, jwks
from onceonly.demo.seed import World, build_world
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.entrypoints.cli import app
from onceonly.entrypoints.demo.walkthrough import tamper_with_entry
from onceonly.services.audit_verification import verify_log
from onceonly.services.queries import QueryCommand

PEOPLE = 60
HEX = re.compile(r"[0-9a-f]{64}")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m onceonly.entrypoints.cli ARGS` in a process of its own, with no database URL
    or token from the environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ONCEONLY_DATABASE_URL", "ONCEONLY_TOKEN")}
    return subprocess.run([sys.executable, "-m", "onceonly.entrypoints.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


def flat(output: str) -> str:
    """Rich wraps long messages at the terminal width: compare with whitespace collapsed."""
    return " ".join(output.split())


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@dataclass
class Log:
    url: str
    path: Path
    exchange: Exchange
    world: World


def some_queries(exchange: Exchange, world: World) -> None:
    """A release, a refusal and a police lookup: entries of every kind a citizen sees."""
    ids = world.citizen_ids
    officer = {a.label: a.principal for a in world.accounts}
    exchange.queries.query(officer["officer:GOV/DWP"], QueryCommand(
        agreement_id=1, scheme="nino", value=ids["nino"], fields=("income_band",),
        purpose="benefit-entitlement"))
    with pytest.raises(Exception, match="consent"):
        exchange.queries.query(officer["officer:COM/NORTHBANK"], QueryCommand(
            agreement_id=4, scheme="nino", value=ids["nino"], fields=("income_band",),
            purpose="mortgage-affordability"))
    exchange.queries.query(officer["officer:POL/MET"], QueryCommand(
        agreement_id=5, scheme="driver", value=ids["driver"], fields=("full_name", "address"),
        purpose="crime-prevention"))


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    """A demo world on a SQLite file, with some queries, every entry under a signed head."""
    folder = tmp_path_factory.mktemp("audit")
    path = folder / "exchange.sqlite"
    url = f"sqlite:///{path}"
    exchange = bootstrap(url, clock=MovableClock())
    upgrade(exchange.engine)
    world = build_world(exchange, url, people=PEOPLE)
    some_queries(exchange, world)
    exchange.audit.integrate()
    yield Log(url, path, exchange, world)
    exchange.close()


def size_of(exchange: Exchange) -> int:
    with exchange.engine.connect() as conn:
        return int(conn.execute(select(t.audit_counter.c.next_index)).scalar_one())


def copy_of(log: Log, folder: Path) -> str:
    """A byte-for-byte copy of the exchange database (SQLite's online backup, WAL and all)."""
    target = folder / "copy.sqlite"
    source = sqlite3.connect(log.path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return f"sqlite:///{target}"


def tampered(url: str, *statements: object) -> None:
    """Run statements as someone with the database's keys: triggers lifted first."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for table in ("audit_log", "audit_nodes", "audit_tree_heads"):
                for verb in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
            for statement in statements:
                conn.execute(statement)
    finally:
        engine.dispose()


def verified_line(output: str) -> tuple[int, str]:
    found = re.search(r"verified (\d+) entries, root ([0-9a-f]{64})", flat(output))
    assert found, output
    return int(found.group(1)), found.group(2)


# --- audit verify -------------------------------------------------------------------------


def test_verify_an_intact_log_prints_its_size_and_root(log: Log, tmp_path: Path) -> None:
    log.exchange.audit.integrate()
    head = log.exchange.audit.tree_head().head

    result = cli("audit", "verify", "--db", log.url, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert verified_line(result.stdout) == (size_of(log.exchange), head.root_hash.hex())
    assert head.tree_size == size_of(log.exchange)
    assert "0 entries not yet under a signed head" in flat(result.stdout)


def test_verify_names_the_entry_that_was_rewritten(log: Log, tmp_path: Path) -> None:
    url = copy_of(log, tmp_path)
    engine = make_engine(url)
    try:
        index = tamper_with_entry(engine)
    finally:
        engine.dispose()

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"verification failed at index {index}:" in flat(result.stderr)
    assert "differs from the entry the tree holds" in flat(result.stderr)
    assert "verified" not in result.stdout.replace("verifying", "")
    assert "Traceback" not in result.stderr


def test_verify_names_an_integrated_entry_that_was_deleted(log: Log, tmp_path: Path) -> None:
    url = copy_of(log, tmp_path)
    index = size_of(log.exchange) // 3
    tampered(url, delete(t.audit_log).where(t.audit_log.c.seq == index))

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"verification failed at index {index}:" in flat(result.stderr)
    assert f"entry {index} is missing" in flat(result.stderr)


@pytest.mark.parametrize("kind", ["last-entry-deleted", "entry-moved", "node-rewritten",
                                  "head-root-rewritten", "entry-slipped-in"])
def test_verify_catches_each_kind_of_tampering(log: Log, tmp_path: Path, kind: str) -> None:
    url = copy_of(log, tmp_path)
    size = size_of(log.exchange)
    last = size - 1
    log_c, heads_c = t.audit_log.c, t.audit_tree_heads.c
    with log.exchange.engine.connect() as conn:
        newest = conn.execute(select(t.audit_log).where(log_c.seq == last)).one()
    if kind == "last-entry-deleted":
        tampered(url, delete(t.audit_log).where(log_c.seq == last))
        expected = last
    elif kind == "entry-moved":  # two entries swapped: each still hashes, at the wrong place
        tampered(url, update(t.audit_log).where(log_c.seq == 2).values(seq=-1),
                 update(t.audit_log).where(log_c.seq == 3).values(seq=2),
                 update(t.audit_log).where(log_c.seq == -1).values(seq=3))
        expected = 2
    elif kind == "node-rewritten":
        tampered(url, update(t.audit_nodes).where(t.audit_nodes.c.level == 0,
                                                  t.audit_nodes.c.idx == 5)
                 .values(hash=bytes(32)))
        expected = 5
    elif kind == "head-root-rewritten":
        tampered(url, update(t.audit_tree_heads).where(heads_c.tree_size == size)
                 .values(root_hash=bytes(32)))
        expected = size
    else:  # an entry inserted past the counter, not through the log (nor its trigger)
        row = dict(newest._mapping, seq=size)
        tampered(url, text("DROP TRIGGER IF EXISTS audit_log_counts"),
                 insert(t.audit_log).values(**row))
        expected = size

    result = invoke("audit", "verify", "--db", url)

    assert result.exit_code == 1, result.output
    assert f"verification failed at index {expected}:" in flat(result.stderr), result.stderr


def test_verify_on_postgresql_passes_then_names_a_rewritten_entry(postgres_url: str,
                                                                  tmp_path: Path) -> None:
    exchange = bootstrap(postgres_url, clock=MovableClock())
    try:
        upgrade(exchange.engine)
        world = build_world(exchange, postgres_url, people=PEOPLE)
        some_queries(exchange, world)
        head = exchange.audit.integrate().head
        index = head.tree_size // 2

        intact = cli("audit", "verify", "--db", postgres_url, cwd=tmp_path)
        with exchange.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(update(t.audit_log).where(t.audit_log.c.seq == index)
                         .values(fields=["annual_income"]))
        broken = invoke("audit", "verify", "--db", postgres_url)
    finally:
        exchange.close()

    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert verified_line(intact.stdout) == (head.tree_size, head.root_hash.hex())
    assert broken.exit_code == 1, broken.output
    assert f"verification failed at index {index}:" in flat(broken.stderr)


# --- audit integrate and audit proof -------------------------------------------------------


def test_integrate_brings_new_entries_under_a_signed_head(log: Log, tmp_path: Path) -> None:
    some_queries(log.exchange, log.world)
    before = log.exchange.audit.tree_head().head
    size = size_of(log.exchange)
    assert before.tree_size < size
    pending = invoke("audit", "verify", "--db", log.url)
    assert pending.exit_code == 0, pending.output
    assert verified_line(pending.stdout)[0] == size
    assert f"{size - before.tree_size} entries not yet under a signed head" \
        in flat(pending.stdout)

    result = cli("audit", "integrate", "--db", log.url, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    head = log.exchange.audit.tree_head()
    assert head.head.tree_size == size
    assert f"tree head: {size} entries, root {head.head.root_hash.hex()}" in flat(result.stdout)
    verify_tree_head(head.as_json(), log.exchange.key_store.jwks())
    checked = verify_log(log.exchange.uows, log.exchange.key_store.jwks())
    assert checked.ok and checked.signed_size == checked.entries == size


def test_proof_prints_a_verified_inclusion_proof(log: Log, tmp_path: Path) -> None:
    head = log.exchange.audit.integrate().head
    index = head.tree_size - 2

    result = cli("audit", "proof", "--index", str(index), "--db", log.url, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    proof = json.loads(result.stdout)
    assert proof["verified"] is True
    assert (proof["leaf_index"], proof["tree_size"]) == (index, head.tree_size)
    assert proof["root_hash"] == b64(head.root_hash)
    with log.exchange.uows() as uow:
        record = uow.audit.entry(index)
    assert record is not None
    assert proof["leaf_hash"] == b64(merkle.leaf_hash(record.leaf()))
    path = [base64.b64decode(h) for h in proof["audit_path"]]
    assert merkle.verify_inclusion(merkle.leaf_hash(record.leaf()), index, head.tree_size,
                                   path, head.root_hash)


def test_proof_in_an_earlier_tree_checks_against_that_trees_root(log: Log) -> None:
    head = log.exchange.audit.integrate().head
    size = head.tree_size - 3

    result = invoke("audit", "proof", "--index", "0", "--tree-size", str(size),
                    "--db", log.url)

    assert result.exit_code == 0, result.output
    proof = json.loads(result.stdout)
    assert proof["verified"] is True and proof["tree_size"] == size
    with log.exchange.uows() as uow:
        leaves = [merkle.leaf_hash(r.leaf()) for r in uow.audit.entries(0, size)]
    assert proof["root_hash"] == b64(merkle.root(leaves))


def test_proof_with_a_negative_index_exits_2_in_a_real_process(log: Log, tmp_path: Path) -> None:
    result = cli("audit", "proof", "--index", "-1", "--db", log.url, cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "--index" in flat(result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--index", "abc"], "--index"),
    (["--index", "0", "--tree-size", "0"], "--tree-size"),
    (["--index", "{size}"], "below tree_size {size}"),
    (["--index", "0", "--tree-size", "{beyond}"], "beyond the latest signed tree head"),
    ([], "Missing option '--index'"),
], ids=["not-a-number", "empty-tree", "index-past-the-head", "size-past-the-head",
        "no-index"])
def test_proof_bad_input_exits_2_with_a_message(log: Log, args: list[str],
                                                message: str) -> None:
    size = log.exchange.audit.integrate().head.tree_size
    fill = {"size": size, "beyond": size + 1}
    entries = size_of(log.exchange)

    result = invoke("audit", "proof", *[a.format(**fill) for a in args], "--db", log.url)

    assert result.exit_code == 2, result.output
    assert message.format(**fill) in flat(result.stderr), result.stderr
    assert result.stdout == ""
    assert size_of(log.exchange) == entries


# --- audit check against a live server ----------------------------------------------------


def test_check_verifies_a_live_server_and_keeps_its_head(log: Log, tmp_path: Path) -> None:
    state = tmp_path / "state" / "head.json"
    with running(create_app(log.exchange, integrate_every=0)) as base:
        first = cli("audit", "check", "--url", base, "--state", str(state), "--samples", "4",
                    cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        kept = json.loads(state.read_text())
        earlier = verify_tree_head(kept, log.exchange.key_store.jwks())
        some_queries(log.exchange, log.world)
        later = log.exchange.audit.integrate().head
        second = cli("audit", "check", "--url", base, "--state", str(state),
                     "--token", log.world.token("admin"), cwd=tmp_path)

    size = earlier.head.tree_size
    assert f"tree head verified: {size} entries, root {earlier.head.root_hash.hex()}" \
        in flat(first.stdout)
    assert "extends" not in first.stdout
    sampled = re.search(r"inclusion proven for (\d+) sampled entries; 0 of them read",
                        flat(first.stdout))
    assert sampled and 2 <= int(sampled.group(1)) <= 4, first.stdout  # first, last, random
    assert second.returncode == 0, second.stdout + second.stderr
    assert later.tree_size > size
    assert f"tree head verified: {later.tree_size} entries" in flat(second.stdout)
    assert f"it extends the {size}-entry head seen before" in flat(second.stdout)
    assert re.search(r"inclusion proven for (\d+) sampled entries; \1 of them read",
                     flat(second.stdout)), second.stdout
    assert json.loads(state.read_text())["tree_size"] == later.tree_size


def test_check_fails_against_keys_that_are_not_the_servers(log: Log, tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(jwks([SigningKey.generate("GOV/EXCHANGE").public_jwk()])))
    state = tmp_path / "head.json"
    with running(create_app(log.exchange, integrate_every=0)) as base:
        result = invoke("audit", "check", "--url", base, "--jwks", str(keys),
                        "--state", str(state))

    assert result.exit_code == 1, result.output
    assert "the tree head does not verify" in flat(result.stderr)
    assert not state.exists()


def test_check_with_an_empty_keys_file_does_not_trust_the_server(log: Log,
                                                                 tmp_path: Path) -> None:
    """Pinned keys are the point of --jwks: a file with no keys in it must not pass as
    'trust whatever the server says'."""
    keys = tmp_path / "jwks.json"
    keys.write_text("{}")
    with running(create_app(log.exchange, integrate_every=0)) as base:
        result = invoke("audit", "check", "--url", base, "--jwks", str(keys))

    assert result.exit_code == 2, result.output
    assert str(keys) in flat(result.stderr)
    assert "tree head verified" not in result.stdout


@pytest.mark.parametrize("change", ["fork", "shrank"])
def test_check_against_a_validly_signed_head_it_does_not_extend_exits_1(
        log: Log, tmp_path: Path, change: str) -> None:
    """The state file holds a head the exchange's own key signed, of the same size with
    another root (a fork), or of a larger size (a log that shrank): proof of misbehaviour,
    so the check fails and the file is kept as it was."""
    head = log.exchange.audit.integrate().head
    other = TreeHead(head.tree_size + (change == "shrank"), bytes(32), head.timestamp)
    kept = SignedTreeHead(other, log.exchange.key_store.sign_compact_for("GOV/EXCHANGE",
                                                                     other.payload()))
    state = tmp_path / "head.json"
    state.write_text(json.dumps(kept.as_json()))
    with running(create_app(log.exchange, integrate_every=0)) as base:
        result = invoke("audit", "check", "--url", base, "--state", str(state))

    assert result.exit_code == 1, result.output
    expected = "a fork" if change == "fork" else "the log shrank"
    assert expected in flat(result.stderr), result.stderr
    assert json.loads(state.read_text()) == kept.as_json()


def test_check_an_unreachable_server_exits_2(tmp_path: Path) -> None:
    result = cli("audit", "check", "--url", "http://127.0.0.1:1", cwd=tmp_path)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot check http://127.0.0.1:1" in flat(result.stderr)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("keys", ["missing", "folder", "not-json"])
def test_check_with_an_unreadable_keys_file_exits_2(tmp_path: Path, keys: str) -> None:
    path = tmp_path / "jwks.json"
    if keys == "folder":
        path.mkdir()
    elif keys == "not-json":
        path.write_text('{"keys": [')

    result = invoke("audit", "check", "--url", "http://127.0.0.1:1", "--jwks", str(path))

    assert result.exit_code == 2, result.output
    assert f"cannot read the keys in {path}" in flat(result.stderr)


def test_check_with_a_state_file_that_does_not_verify_exits_2(log: Log,
                                                              tmp_path: Path) -> None:
    state = tmp_path / "head.json"
    head = log.exchange.audit.integrate().as_json()
    state.write_text(json.dumps({**head, "tree_size": head["tree_size"] + 1}))
    with running(create_app(log.exchange, integrate_every=0)) as base:
        result = invoke("audit", "check", "--url", base, "--state", str(state))

    assert result.exit_code == 2, result.output
    assert f"the tree head kept in {state} does not verify" in flat(result.stderr)
    assert json.loads(state.read_text())["tree_size"] == head["tree_size"] + 1  # untouched


# --- databases that are not ready -----------------------------------------------------------


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "integrate"],
                                     ["audit", "proof", "--index", "0"]],
                         ids=lambda c: c[1])
def test_audit_on_a_database_that_is_not_set_up_exits_2(tmp_path: Path,
                                                         command: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    (tmp_path / "empty.sqlite").touch()  # an empty file is an empty SQLite database

    result = invoke(*command, "--db", url)

    assert result.exit_code == 2, result.output
    assert "is not set up" in flat(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["audit", "integrate"],
                                     ["audit", "proof", "--index", "0"]],
                         ids=lambda c: c[1])
def test_audit_without_the_operators_signing_key_exits_2(tmp_path: Path,
                                                         command: list[str]) -> None:
    """A migrated database with no world in it: nobody can sign a tree head yet."""
    url = f"sqlite:///{tmp_path / 'bare.sqlite'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()

    result = invoke(*command, "--db", url)

    assert result.exit_code == 2, (result.output, result.exception)
    assert "cannot sign tree heads" in flat(result.stderr)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(t.audit_tree_heads)).first() is None
    finally:
        engine.dispose()


# --- rows that do not read, interior nodes, deleted heads --------------------------------------


def grown_copy(log: Log, folder: Path, *sizes: int) -> str:
    """A copy of the log grown to each of `sizes` in turn, each under a signed head of its
    own (so the copy has a chain of heads ending at the last size)."""
    url = copy_of(log, folder)
    exchange = bootstrap(url)
    try:
        for size in sizes:
            with exchange.uows(write=True) as uow:
                assert uow.audit.size() <= size, f"the log already holds more than {size}"
                for n in range(uow.audit.size(), size):
                    uow.audit.record(AuditEntry("token.issue", "done", f"officer-{n}",
                                                "GOV/DWP"), exchange.clock.now())
                uow.commit()
            exchange.audit.integrate()
    finally:
        exchange.close()
    return url


def assert_fails_at(result: subprocess.CompletedProcess[str], index: int, *says: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"verification failed at index {index}:" in flat(result.stderr), result.stderr
    for words in says:
        assert words in flat(result.stderr), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("statement", "says"), [
    ("update audit_log set fields = '[' where seq = 40",
     "entry 40: unreadable (fields is not JSON"),
    ("update audit_log set fields = '' where seq = 40", "entry 40: unreadable (fields is not JSON"),
    ("update audit_log set detail = zeroblob(4) where seq = 40",
     "entry 40: unreadable (detail"),
    ("update audit_log set fields = 5 where seq = 40",
     "entry 40: unreadable (fields is a number, not a list of names)"),
    ("update audit_log set detail = '[1,2]' where seq = 40",
     "entry 40: unreadable (detail is a list, not a JSON object)"),
    ("update audit_log set detail = 'null' where seq = 40",
     "entry 40: unreadable (detail is null, not a JSON object)"),
    ("update audit_log set detail = '{\"n\": NaN}' where seq = 40",
     "entry 40: unreadable (it holds a value JSON cannot carry exactly"),
    ("update audit_log set detail = '{\"n\": 9007199254740993}' where seq = 40",
     "entry 40: unreadable (it holds a value JSON cannot carry exactly"),
    ("update audit_log set at = 'garbage' where seq = 40",
     "entry 40: unreadable (at is not a stored time)"),
    ("update audit_log set hidden_until = 'garbage' where seq = 40",
     "entry 40: unreadable (hidden_until is not a stored time)"),
    ("update audit_log set purpose = cast(x'ff41' as text) where seq = 40",
     "entry 40: unreadable (it holds a value JSON cannot carry exactly"),
], ids=["invalid-json", "empty", "blob", "number", "list", "null", "nan", "beyond-2**53",
        "at", "hidden_until", "not-utf-8"])
def test_verify_names_a_row_that_does_not_read(log: Log, tmp_path: Path, statement: str,
                                               says: str) -> None:
    url = copy_of(log, tmp_path)
    tampered(url, text(statement))

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert_fails_at(result, 40, says)


def test_verify_names_a_deleted_counter(log: Log, tmp_path: Path) -> None:
    url = copy_of(log, tmp_path)
    tampered(url, text("delete from audit_counter"))

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert_fails_at(result, size_of(log.exchange), "the log's counter (audit_counter) is missing")


def test_integrate_stops_at_a_row_that_does_not_read_and_goes_on_once_mended(
        log: Log, tmp_path: Path) -> None:
    size = size_of(log.exchange)
    url = grown_copy(log, tmp_path, size)
    exchange = bootstrap(url)
    try:
        with exchange.uows(write=True) as uow:  # two entries not yet under a signed head
            for n in range(2):
                uow.audit.record(AuditEntry("token.issue", "done", f"x-{n}", "GOV/DWP"),
                                 exchange.clock.now())
            uow.commit()
    finally:
        exchange.close()
    tampered(url, text(f"update audit_log set detail = '[1,2]' where seq = {size + 1}"))

    stopped = cli("audit", "integrate", "--db", url, cwd=tmp_path)
    tampered(url, text(f"update audit_log set detail = '{{}}' where seq = {size + 1}"))
    mended = cli("audit", "integrate", "--db", url, cwd=tmp_path)
    verified = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert f"integration stopped at entry {size + 1}: unreadable (detail is a list" \
        in flat(stopped.stderr)
    assert f"{size + 1} entries are under the latest signed head" in flat(stopped.stderr)
    assert "Traceback" not in stopped.stderr
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_verify_names_a_rewritten_interior_node_that_proofs_go_through(log: Log,
                                                                      tmp_path: Path) -> None:
    url = grown_copy(log, tmp_path, 200)
    tampered(url, text("update audit_nodes set hash = zeroblob(32) where level = 7 and idx = 0"))

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)
    proof = invoke("audit", "proof", "--index", "150", "--db", url)

    assert_fails_at(result, 0, "the tree's node at level 7, index 0 (entries 0 to 127) "
                               "differs from the hash of the entries under it")
    assert proof.exit_code == 1 and json.loads(proof.stdout)["verified"] is False


@pytest.mark.parametrize("heads", ["all", "latest"])
def test_verify_catches_a_rewritten_entry_with_the_heads_deleted(log: Log, tmp_path: Path,
                                                                 heads: str) -> None:
    url = grown_copy(log, tmp_path, 200, 220)
    which = "" if heads == "all" else " where tree_size = 220"
    index = 80 if heads == "all" else 210
    tampered(url, text(f"delete from audit_tree_heads{which}"),
             text(f"update audit_log set purpose = 'forged' where seq = {index}"))

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert_fails_at(result, index, f"entry {index} differs from the entry the tree holds")


def test_verify_names_a_head_missing_from_the_middle_of_the_chain(log: Log,
                                                                  tmp_path: Path) -> None:
    url = grown_copy(log, tmp_path, 200, 220, 240)
    tampered(url, text("delete from audit_tree_heads where tree_size = 220"))

    result = cli("audit", "verify", "--db", url, cwd=tmp_path)

    assert_fails_at(result, 220, "the tree head of size 220 is missing: the head of size 240 "
                                 "names it as the one before it")


def test_verify_and_integrate_on_postgresql_name_a_row_that_does_not_read(
        postgres_url: str, tmp_path: Path) -> None:
    exchange = bootstrap(postgres_url, clock=MovableClock())
    try:
        upgrade(exchange.engine)
        world = build_world(exchange, postgres_url, people=PEOPLE)
        some_queries(exchange, world)
        size = exchange.audit.integrate().head.tree_size
        some_queries(exchange, world)  # three more, not yet under a signed head
        with exchange.engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(text("update audit_log set detail = '[1,2]' where seq = 40"))
            conn.execute(text(f"update audit_log set fields = '5' where seq = {size + 1}"))

        verified = cli("audit", "verify", "--db", postgres_url, cwd=tmp_path)
        integrated = cli("audit", "integrate", "--db", postgres_url, cwd=tmp_path)
    finally:
        exchange.close()

    assert_fails_at(verified, 40, "entry 40: unreadable (detail is a list, not a JSON object)")
    assert integrated.returncode == 1, integrated.stdout + integrated.stderr
    assert f"integration stopped at entry {size + 1}: unreadable (fields is a number" \
        in flat(integrated.stderr)
    assert "Traceback" not in integrated.stderr
