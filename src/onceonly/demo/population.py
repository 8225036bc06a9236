"""A synthetic population, deterministic from a seed: person i is the same in every run.

About 1 in 20 has died, about 1 in 10 has changed name, some hold a stale address at one
organisation, and licences, passports, benefits and pensions come in plausible shares.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from faker import Faker

NINO_PREFIXES = [a + b for a in "ABCEGHJKLMNPRSTWXYZ" for b in "ABCEGHJKLMNPRSTWXYZ"]
LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
CONDITIONS = ["asthma", "diabetes", "hypertension", "epilepsy", "severe_visual_impairment",
              "narcolepsy", "dementia", "arthritis"]
PLACES_OF_DEATH = ["Northshire General Hospital", "home address", "St Clare's Hospice",
                   "Riverside Care Home"]


@dataclass(frozen=True)
class Pools:
    """Name and address parts drawn once from Faker, then combined per person: fast enough
    for a million people, and still deterministic."""

    first: list[str]
    last: list[str]
    streets: list[str]
    towns: list[str]
    practices: list[str]

    @classmethod
    @cache
    def make(cls, seed: int) -> Pools:
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        return cls(
            first=sorted({fake.first_name() for _ in range(800)}),
            last=sorted({fake.last_name() for _ in range(1500)}),
            streets=sorted({fake.street_name() for _ in range(600)}),
            towns=sorted({fake.city() for _ in range(60)}),
            practices=sorted({f"{fake.last_name()} Medical Practice" for _ in range(80)}),
        )


@dataclass
class Person:
    index: int
    person_key: str
    full_name: str
    previous_name: str | None
    date_of_birth: date
    date_of_death: date | None
    place_of_death: str | None
    marital_status: str
    address: str
    stale_address: str | None  # an older address one organisation still holds
    ids: dict[str, str] = field(default_factory=dict)
    vehicles: list[str] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def age_on(self, today: date) -> int:
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def person_key(seed: int, index: int) -> str:
    return hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=12).hexdigest()


def _nhs_number(index: int) -> str:
    # Ten digits, the last a modulus-11 check digit; bases never overlap between people.
    for step in range(11):
        base = str(400_000_000 + index * 11 + step)
        total = sum(int(d) * w for d, w in zip(base, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return base + str(check)
    raise AssertionError("unreachable: one of eleven consecutive bases has a valid check")


def _letters(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, len(LETTERS))
        out.append(LETTERS[r])
    return "".join(reversed(out))


def _address(rng: random.Random, pools: Pools) -> str:
    town = rng.choice(pools.towns)
    inward = f"{rng.randint(1, 9)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
    postcode = f"NS{rng.randint(1, 29)} {inward}"
    return f"{rng.randint(1, 220)} {rng.choice(pools.streets)}, {town}, {postcode}"


def make_person(seed: int, index: int, pools: Pools, today: date) -> Person:
    rng = random.Random(seed * 10_000_019 + index)
    first, last = rng.choice(pools.first), rng.choice(pools.last)
    born = today - timedelta(days=rng.randint(0, 95 * 365))
    age = (today - born).days // 365
    died = rng.random() < 0.05 and age >= 1
    previous_name = None
    if age >= 18 and rng.random() < 0.10:
        previous_name = f"{first} {last}"
        last = rng.choice(pools.last)
    marital = "single"
    if age >= 18:
        marital = rng.choices(["single", "married", "divorced", "widowed"], [40, 45, 10, 5])[0]
    if previous_name:
        marital = "married"
    address = _address(rng, pools)
    person = Person(
        index=index,
        person_key=person_key(seed, index),
        full_name=f"{first} {last}",
        previous_name=previous_name,
        date_of_birth=born,
        date_of_death=today - timedelta(days=rng.randint(1, 700)) if died else None,
        place_of_death=rng.choice(PLACES_OF_DEATH) if died else None,
        marital_status=marital,
        address=address,
        stale_address=_address(rng, pools) if rng.random() < 0.03 else None,
        rng=rng,
    )
    ids = person.ids
    ids["grn"] = f"RN{born.year}{index:08d}"
    ids["nhs"] = _nhs_number(index)
    if age >= 16:
        prefix, number = divmod(index, 1_000_000)
        letters = NINO_PREFIXES[prefix % len(NINO_PREFIXES)]
        ids["nino"] = f"{letters}{number:06d}{'ABCD'[index % 4]}"
    if age >= 17 and rng.random() < 0.72:
        surname = (last.upper().replace("'", "") + "99999")[:5]
        ids["driver"] = f"{surname}{born:%y%m%d}{first[0]}{_letters(index, 5)}"
        for slot in range(rng.choices([0, 1, 2], [35, 55, 10])[0]):
            mark = _letters(index * 2 + slot, 5)
            person.vehicles.append(f"{mark[:2]}{10 + (index * 2 + slot) % 60:02d} {mark[2:]}")
    if rng.random() < 0.75:
        ids["passport"] = f"{500_000_000 + index}"
    if rng.random() < 0.5:
        ids["ctr"] = f"NS{index:09d}"
    if age >= 20 and rng.random() < 0.04:
        ids["service"] = f"{24_000_000 + index}"
    if age >= 18 and rng.random() < 0.15:
        ids["northbank"] = f"NB{index:09d}"
    return person


def _income(person: Person, age: int) -> int:
    rng = person.rng
    if age < 16:
        return 0
    if age >= 67:
        return int(rng.lognormvariate(9.6, 0.5))
    return 0 if rng.random() < 0.08 else int(rng.lognormvariate(10.25, 0.6))


# long: one draw sequence: the order of its draws fixes the demo world, so it reads top down
def store_rows(person: Person, today: date) -> dict[str, dict[str, object]]:
    """Each provider's own record of the person, keyed by the provider's own identifier.
    Draws from the person's generator in a fixed order, so the rows are deterministic."""
    rng, ids = person.rng, person.ids
    age = person.age_on(today)
    alive = person.date_of_death is None
    rows: dict[str, dict[str, object]] = {
        "GOV/GRO/civil-registration": {
            "grn": ids["grn"], "full_name": person.full_name,
            "date_of_birth": person.date_of_birth, "date_of_death": person.date_of_death,
            "place_of_death": person.place_of_death, "marital_status": person.marital_status,
        },
        "NHS/NHSE/patient-record": {
            "nhs": ids["nhs"], "gp_practice": f"Practice {rng.randint(1, 80):02d}",
            "registered_address": person.address,
            "conditions": sorted(rng.sample(CONDITIONS, rng.choices([0, 1, 2], [70, 24, 6])[0])),
        },
    }
    if "nino" in ids:
        rows["GOV/HMRC/income"] = {
            "nino": ids["nino"], "full_name": person.full_name, "address": person.address,
            "annual_income": _income(person, age), "tax_code": "1257L",
            "child_benefit_claimant": 20 <= age <= 50 and rng.random() < 0.25,
        }
        benefits = []
        if age >= 66:
            benefits.append("state_pension")
            if rng.random() < 0.10:
                benefits.append("attendance_allowance")
        elif age >= 18:
            for name, share in (("universal_credit", 0.12), ("pip", 0.06), ("esa", 0.03),
                                ("carers_allowance", 0.02)):
                if rng.random() < share:
                    benefits.append(name)
        rows["GOV/DWP/benefits"] = {
            "nino": ids["nino"], "full_name": person.full_name, "address": person.address,
            "benefits_in_payment": benefits,
            "award_amount": sum(rng.randint(300, 900) for _ in benefits),
            "appointee": f"appointee of {person.full_name}" if rng.random() < 0.02 else None,
        }
    if "driver" in ids:
        rows["GOV/DVLA/licences"] = {
            "driver": ids["driver"],
            "full_name": _mistyped(person.full_name) if _mistyped_at_dvla(person.index)
            else person.full_name,
            "address": person.stale_address or person.address,  # DVLA is where addresses go stale
            "licence_status": rng.choices(["valid", "expired", "revoked"], [96, 3, 1])[0],
            "entitlements": ["AM", "B"] + (["A"] if rng.random() < 0.2 else [])
            + (["C1"] if rng.random() < 0.1 else []),
            "registered_vehicles": person.vehicles,
        }
    if "passport" in ids:
        expiry = today + timedelta(days=rng.randint(-900, 3650))
        stale_name = person.previous_name and person.index % 3 == 0
        rows["GOV/HMPO/passports"] = {
            "passport": ids["passport"],
            "full_name": person.previous_name if stale_name else person.full_name,
            "nationality": "British" if rng.random() < 0.92 else rng.choice(
                ["Irish", "Polish", "Indian", "Nigerian", "French"]),
            "passport_status": "valid" if expiry > today else "expired",
            "passport_expiry": expiry,
        }
    if "ctr" in ids:
        lives_alone = person.marital_status in ("single", "widowed", "divorced") and age >= 18
        rows["LA/NORTHSHIRE/council-services"] = {
            "ctr": ids["ctr"], "address": person.address,
            "council_tax_band": rng.choice("ABCDEFGH"),
            "single_person_discount": lives_alone and rng.random() < 0.6,
            "blue_badge": rng.random() < 0.04,
            "electoral_registration": alive and age >= 18,
        }
    if "service" in ids:
        paid = age >= 55 or rng.random() < 0.3
        rows["GOV/VETERANS/armed-forces-pension"] = {
            "service": ids["service"], "pension_in_payment": paid,
            "pension_amount": rng.randint(400, 2500) if paid else 0,
        }
    return rows


def unlinked_at_dvla(index: int) -> bool:
    """Planted for matching: about 1 in 15 people's driver number never reached the person
    index (their licence came from DVLA's old system), so the matcher has links to find."""
    return index % 15 == 4


def _mistyped_at_dvla(index: int) -> bool:
    """Half of those have their name mistyped at DVLA, to make the matcher work for it."""
    return index % 30 == 4


def _mistyped(name: str) -> str:
    """Two letters of the surname swapped: Ashton -> Ahston."""
    first, _, last = name.rpartition(" ")
    if len(last) < 3:
        return name
    return f"{first} {last[0]}{last[2]}{last[1]}{last[3:]}".strip()


def links(person: Person) -> list[tuple[str, str]]:
    """The person index's rows for this person: identifiers only."""
    ids = [(scheme, value) for scheme, value in person.ids.items()
           if not (scheme == "driver" and unlinked_at_dvla(person.index))]
    return [*ids, *(("vrm", mark) for mark in person.vehicles)]


def planted_links(person: Person) -> list[tuple[str, str]]:
    """The links this person's records should have and the index lacks: the truth the
    matcher is measured against."""
    if "driver" in person.ids and unlinked_at_dvla(person.index):
        return [("driver", person.ids["driver"])]
    return []
