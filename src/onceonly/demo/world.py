"""The demo world's fixed parts (docs/demo-world.md) are declared in exchange.yaml beside
this module, as any exchange's are (`onceonly apply`): its organisations, schemes, people,
datasets and agreements. What the demo's own programs need to know of it is read from
there; only how each receiver takes its notifications is the demo's own choice."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEMO_FILE = Path(__file__).with_name("exchange.yaml")
EXCHANGE_ORG = "GOV/EXCHANGE"

# How each receiver takes its notifications in the demo: a webhook, else its inbox.
WEBHOOK_RECEIVERS = ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO")


@cache
def declared() -> dict[str, Any]:
    """The demo file as data (checked against the schema when the world is built)."""
    loaded: dict[str, Any] = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    return loaded


def registers() -> set[str]:
    """The registers of life events: datasets that emit an event type."""
    return {d["system"] for d in declared()["datasets"] if d.get("event_types")}


def notification_receivers() -> set[str]:
    """The organisations told of life events: the consumers of a register."""
    return {a["consumer"] for a in declared()["agreements"] if a["dataset"] in registers()}


def organisation_names() -> dict[str, str]:
    return {o["id"]: o["name"] for o in declared()["organisations"]}


def schemes() -> list[tuple[str, str, str]]:
    """Each identifier scheme: code, name and issuing organisation."""
    return [(s["code"], s["name"], s["issuer"]) for s in declared()["schemes"]]


def org_schemes() -> dict[str, list[str]]:
    """The schemes each organisation names people by: its own, and others' it uses."""
    own: dict[str, list[str]] = {}
    for code, _, issuer in schemes():
        own.setdefault(issuer, []).append(code)
    return {o["id"]: own.get(o["id"], []) + list(o.get("names_people_by") or [])
            for o in declared()["organisations"]
            if own.get(o["id"]) or o.get("names_people_by")}
