"""The walkthrough's audit chapter: the citizen's access log with a hidden lookup
revealed, the log checked from outside and verified, and a tampered copy caught."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, select, text, update

from onceonly.adapters.clock import MovableClock
from onceonly.adapters.db import tables as t
from onceonly.adapters.db.migrate import upgrade
from onceonly.audit import merkle
from onceonly.audit.heads import unb64
from onceonly.bootstrap import Exchange, bootstrap
from onceonly.client import OnceonlyClient
from onceonly.entrypoints.demo.walkthrough.steps import Step, StepFailed
from onceonly.services.audit_verification import verify_log


# long: one chapter of the story, its steps told in order
def audit_story(step: Step, world, client: OnceonlyClient, exchange: Exchange,
                 clock: MovableClock) -> None:
    citizen = client.with_token(world.token("citizen"))
    met = client.with_token(world.token("officer:POL/MET"))
    ids = world.citizen_ids

    def police_lookup() -> str:
        release = met.query(5, "driver", ids["driver"], ["full_name", "address"],
                            "crime-prevention")
        return f"the Met received {sorted(release.data)}; this lookup stays out of the " \
               "citizen's view for 90 days"

    step("The Met asks DVLA who keeps the citizen's vehicle (agreement 5, hidden 90 days)",
         police_lookup)

    def access_log() -> str:
        exchange.audit.integrate()
        accesses = citizen.access_log()["accesses"]
        seen = {(a["organisation"], a["outcome"]) for a in accesses}
        expected = {("GOV/DWP", "released"), ("COM/NORTHBANK", "refused"),
                    ("LA/NORTHSHIRE", "released")}
        if not expected <= seen:
            raise StepFailed(f"the access log lacks {sorted(expected - seen)}")
        if any(a["organisation"] == "POL/MET" for a in accesses):
            raise StepFailed("the police lookup shows before its reveal date")
        newest = accesses[0]
        proof = client.inclusion_proof(newest["index"])
        head = citizen.tree_head()
        if not merkle.verify_inclusion(unb64(proof["leaf_hash"]), newest["index"],
                                       proof["tree_size"],
                                       [unb64(h) for h in proof["audit_path"]],
                                       head.head.root_hash):
            raise StepFailed(f"entry {newest['index']} is not in the signed tree")
        lines = "; ".join(f"{a['organisation']} {a['outcome']} {a['fields']} for "
                          f"{a['purpose']} by {a['officer']}" for a in accesses)
        return f"{len(accesses)} accesses: {lines}. Entry {newest['index']}'s inclusion " \
               f"proof checks against the signed tree head of {head.head.tree_size} entries"

    step("The citizen reads who accessed their data, and checks an entry is in the log",
         access_log)

    def revealed() -> str:
        clock.advance(timedelta(days=91))
        try:
            accesses = citizen.access_log()["accesses"]
        finally:
            clock.advance(timedelta(days=-91))
        police = [a for a in accesses if a["organisation"] == "POL/MET"]
        if not police:
            raise StepFailed("the police lookup is still hidden after its reveal date")
        return f"after 90 days the Met's lookup appears: {police[0]['fields']} for " \
               f"{police[0]['purpose']} (entry {police[0]['index']}, in the tree all along)"

    step("91 days on, the police lookup appears in the citizen's access log", revealed)

    def outside_check() -> str:
        result = client.check_log(samples=8)
        if not result.ok:
            raise StepFailed("; ".join(result.problems))
        return f"with only the public keys: tree head of {result.head.head.tree_size} " \
               f"entries verified, inclusion proven for {len(result.sampled)} sampled entries"

    step("An outsider checks the live log (onceonly audit check)", outside_check)

    def verify() -> str:
        exchange.audit.integrate()
        result = verify_log(exchange.uows, exchange.key_store.jwks(),
                            log_org=exchange.audit.operator_org)
        if not result.ok:
            raise StepFailed(f"audit verify failed at {result.bad_index}: {result.problem}")
        return f"onceonly audit verify: verified {result.entries} entries, root " \
               f"{result.root.hex()[:16]}…"

    step("The whole audit log verifies", verify)

    def tampered() -> str:
        with tempfile.TemporaryDirectory(prefix="onceonly-tampered-") as folder:
            url = f"sqlite:///{Path(folder) / 'copy.sqlite'}"
            copy = bootstrap(url)
            try:
                copy_audit_log(exchange.engine, copy.engine)
                target = tamper_with_entry(copy.engine)
                result = verify_log(copy.uows, exchange.key_store.jwks())
            finally:
                copy.close()
        if result.ok or result.bad_index != target:
            raise StepFailed(f"changing entry {target} was not caught at {target}: "
                             f"{result.problem}")
        return f"a copy with entry {target}'s purpose rewritten fails at index " \
               f"{result.bad_index}: {result.problem}"

    step("A tampered copy of the log fails verification at the entry changed", tampered)


def copy_audit_log(source: Engine, target: Engine) -> None:
    """The audit log, its tree and its signed heads, copied into a fresh database."""
    upgrade(target)
    with source.connect() as src, target.begin() as dst:
        for table in (t.audit_log, t.audit_nodes, t.audit_tree_heads):
            rows = [dict(row._mapping) for row in src.execute(select(table))]
            if rows:
                dst.execute(insert(table), rows)
        size = src.execute(select(t.audit_counter.c.next_index)).scalar_one()
        dst.execute(update(t.audit_counter).values(next_index=size))


def tamper_with_entry(engine: Engine) -> int:
    """What someone with the database's keys could do: lift the append-only trigger and
    rewrite the purpose of the middle entry. Returns its index."""
    with engine.begin() as conn:
        size = conn.execute(select(t.audit_counter.c.next_index)).scalar_one()
        index = size // 2
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(update(t.audit_log).where(t.audit_log.c.seq == index)
                     .values(purpose="nothing-to-see"))
    return index
