"""Micro-benchmark of the exchange's in-process policy decision against Cedar and Casbin.

What it measures
    The latency of one authorisation decision for a data query: may this organisation, acting
    in this role, query these fields for this purpose under this agreement, right now?
    The decision under test is ``onceonly.domain.policy.decide(request, agreement, facts)``.
    The same rules are then expressed as Cedar policies (``cedarpy``) and as a Casbin model
    (``pycasbin``), every engine answers the same requests, and each engine's permit/deny
    answers are checked against ``decide``'s before any figure is printed.

    Engines and modes:
      * onceonly ``decide``: the agreement has already been loaded; one pure function call.
      * Cedar, whole set: one pre-parsed ``PolicySet`` holding one ``permit`` per approved
        agreement (10,000 agreements), evaluated for every request.
      * Cedar, best case: one pre-parsed ``PolicySet`` per agreement holding only that
        agreement's policy (an empty set for an agreement that is not approved); the request
        is evaluated against its own agreement's set.
      * Casbin, all lines: a plain ``casbin.Enforcer`` with one policy line per approved
        agreement; it scans the lines with its expression evaluator.
      * Casbin, indexed: ``casbin.FastEnforcer`` with its policy cache keyed on the agreement
        id, so only that agreement's line is evaluated (Casbin's best case).

    Each call is timed on its own with ``time.perf_counter_ns()`` after a warm-up, and the
    engines take turns (ten rounds, a tenth of each engine's requests per round) so that
    background noise on the machine falls on all of them alike; the garbage collector is off
    while timing, as in ``timeit``. Request
    objects in each engine's own format are built before timing; what is timed is the call a
    caller would make (for Cedar that includes cedarpy's JSON encoding of the context and
    decoding of the answer, which its public API always does). The "empty call" row is the
    floor: the timer and a call to a function that does nothing.

    The two modes that scan every agreement's policy (whole-set Cedar, scanning Casbin) take
    milliseconds a call at 10,000 agreements, so they answer an evenly spaced sample of the
    requests (2,000 and 500 by default), which keeps the workload's mix of outcomes.

    The data is synthetic and seeded, so a run is reproducible apart from machine noise.

How to run
    uv run --group bench python benchmarks/bench_policy.py            # full, about a minute
    uv run --group bench python benchmarks/bench_policy.py --quick    # smoke run, a few seconds
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import math
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import casbin
import cedarpy
from casbin.model import FastModel

from onceonly.domain.agreements import Agreement, AgreementStatus, FieldGrant, LegalBasis
from onceonly.domain.organisations import Role
from onceonly.domain.policy import Circumstances, QueryRequest, Reason, decide

# The clock every generated request is made at, unless it probes a validity boundary.
NOW = datetime(2025, 6, 2, 10, 0, 0, tzinfo=UTC)

ORGANISATIONS = (
    "GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HOMEOFFICE", "GOV/ONS", "GOV/MOJ", "GOV/DFE",
    "GOV/DHSC", "GOV/MHCLG", "GOV/CABINETOFFICE", "GOV/HMPO", "GOV/LANDREGISTRY",
    "LA/NORTHSHIRE", "LA/SOUTHSHIRE", "LA/EASTMOOR", "LA/WESTDALE", "LA/RIVERTON",
    "LA/HIGHFORD", "LA/LOWBRIDGE", "LA/OAKHAM-VALE", "LA/ASHCOMBE", "LA/BRACKENFIELD",
    "LA/CLAYMOUTH", "LA/DUNMERE", "LA/ELMSWICK", "LA/FERNLEIGH", "LA/GREYSTONE",
    "LA/HOLLOWAY-EAST", "LA/IVYBRIDGE-NORTH", "LA/KINGSMERE", "LA/LARKHILL", "LA/MILLBROOK",
    "LA/NETHERTON", "LA/ORCHARD-COAST", "LA/PENWORTH", "LA/QUARRYBANK", "LA/REDCLIFFE",
    "NHS/NORTHSHIRE-ICB", "NHS/SOUTHSHIRE-ICB", "NHS/RIVERTON-TRUST", "NHS/HIGHFORD-TRUST",
    "NHS/SPINE", "POL/NORTHSHIRE", "POL/SOUTHSHIRE", "EDU/UCAS", "EDU/STUDENTFINANCE",
    "COM/ACME", "COM/CREDITREF", "COM/HOUSINGCO", "NGO/CITIZENSADVICE",
)

PURPOSES = (
    "benefit-eligibility", "fraud-detection", "council-tax-reduction", "school-admissions",
    "housing-allocation", "blue-badge", "electoral-registration", "social-care-assessment",
    "student-finance", "tax-credit-check", "safeguarding", "licensing", "free-school-meals",
    "debt-recovery", "public-health-screening", "bereavement-notification",
)

FIELD_NAMES = (
    "full_name", "date_of_birth", "address", "postcode", "nino", "income_band",
    "annual_income", "employer", "benefit_status", "household_size", "disability_flag",
    "vehicle_reg", "licence_status", "school_urn", "gp_practice", "nhs_number",
    "marital_status", "date_of_death", "tenancy_status", "council_tax_band", "carer_flag",
    "pension_status", "immigration_status", "passport_valid", "age_over_18", "email",
    "phone", "student_loan_status", "property_title", "electoral_ward",
)

ROUNDS = 10  # engines take turns, a tenth of their requests at a time

NON_OFFICER_ROLES = tuple(role for role in Role if role is not Role.OFFICER)

OUTCOME_WEIGHTS: dict[Reason | None, float] = {
    None: 0.70,  # permit
    Reason.NOT_AGREEMENT_PARTY: 0.04,
    Reason.ROLE_NOT_ALLOWED: 0.03,
    Reason.AGREEMENT_NOT_ACTIVE: 0.04,
    Reason.OUTSIDE_VALIDITY: 0.04,
    Reason.PURPOSE_MISMATCH: 0.03,
    Reason.FIELD_NOT_IN_AGREEMENT: 0.04,
    Reason.SUBJECT_UNKNOWN: 0.03,
    Reason.CONSENT_MISSING: 0.03,
    Reason.QUOTA_EXCEEDED: 0.02,
}


@dataclass(frozen=True, slots=True)
class Case:
    """One request of the workload, with the outcome `decide` was built to reach."""

    agreement: Agreement
    request: QueryRequest
    facts: Circumstances
    expected: Reason | None  # None: permit


# --------------------------------------------------------------------------- data


def build_agreements(rng: random.Random, count: int) -> list[Agreement]:
    """`count` agreements: mostly approved and in force; some suspended, expired, consent-based."""
    agreements = []
    for agreement_id in range(1, count + 1):
        provider, consumer = rng.sample(ORGANISATIONS, 2)
        names = rng.sample(FIELD_NAMES, rng.randint(1, 6))
        status = rng.choices(
            (AgreementStatus.APPROVED, AgreementStatus.SUSPENDED, AgreementStatus.REVOKED,
             AgreementStatus.SUBMITTED),
            weights=(0.88, 0.06, 0.04, 0.02),
        )[0]
        window = rng.random()
        if window < 0.08:  # expired
            valid_until = NOW - timedelta(days=rng.randint(1, 400), seconds=rng.randint(0, 86399))
            valid_from = valid_until - timedelta(days=rng.randint(30, 1000))
        elif window < 0.11:  # not yet in force
            valid_from = NOW + timedelta(days=rng.randint(1, 90), seconds=rng.randint(0, 86399))
            valid_until = valid_from + timedelta(days=rng.randint(30, 1000))
        else:
            valid_from = NOW - timedelta(days=rng.randint(0, 700), seconds=rng.randint(1, 86399))
            valid_until = NOW + timedelta(days=rng.randint(1, 1000), seconds=rng.randint(0, 86399))
        legal_basis = rng.choices(
            (LegalBasis.CONSENT, LegalBasis.STATUTORY_DUTY, LegalBasis.PUBLIC_TASK,
             LegalBasis.VITAL_INTERESTS),
            weights=(0.2, 0.35, 0.4, 0.05),
        )[0]
        agreements.append(
            Agreement(
                id=agreement_id,
                provider_id=provider,
                consumer_id=consumer,
                dataset_id=f"{provider.lower()}/dataset-{rng.randint(1, 5)}",
                grants=tuple(FieldGrant(name=name, source=name) for name in names),
                purpose_code=rng.choice(PURPOSES),
                purpose_text="synthetic agreement for benchmarking",
                legal_basis=legal_basis,
                valid_from=valid_from,
                valid_until=valid_until,
                max_queries_per_day=rng.choice((10, 50, 100, 500, 1000, 5000, 100_000)),
                retention_days=rng.choice((0, 30, 365)),
                assessment=None,
                status=status,
            )
        )
    return agreements


def in_force(agreement: Agreement, now: datetime) -> bool:
    return agreement.valid_from <= now < agreement.valid_until


def build_workload(rng: random.Random, agreements: list[Agreement], count: int) -> list[Case]:
    """`count` requests: ~70% permits, the rest spread over every reason `decide` can deny."""
    approved = [a for a in agreements if a.status is AgreementStatus.APPROVED]
    usable = [a for a in approved if in_force(a, NOW)]
    usable_consent = [a for a in usable if a.legal_basis is LegalBasis.CONSENT]
    not_approved = [a for a in agreements if a.status is not AgreementStatus.APPROVED]
    out_of_window = [a for a in approved if not in_force(a, NOW)]
    outcomes = list(OUTCOME_WEIGHTS)
    weights = list(OUTCOME_WEIGHTS.values())

    cases = []
    for _ in range(count):
        expected = rng.choices(outcomes, weights=weights)[0]
        case = make_case(rng, expected, usable, usable_consent, not_approved, out_of_window)
        decision = decide(case.request, case.agreement, case.facts)
        reached = None if decision.permitted else decision.reason
        if reached is not expected:
            raise AssertionError(f"workload bug: built for {expected}, decide gave {reached}")
        cases.append(case)
    return cases


def make_case(
    rng: random.Random,
    expected: Reason | None,
    usable: list[Agreement],
    usable_consent: list[Agreement],
    not_approved: list[Agreement],
    out_of_window: list[Agreement],
) -> Case:
    """A request that `decide` permits, then broken in exactly the way `expected` names."""
    probe = rng.random()
    if expected is Reason.AGREEMENT_NOT_ACTIVE:
        agreement = rng.choice(not_approved)
    elif expected is Reason.CONSENT_MISSING:
        agreement = rng.choice(usable_consent)
    elif expected is Reason.OUTSIDE_VALIDITY and probe < 0.6:
        agreement = rng.choice(out_of_window)  # expired or not yet in force
    else:
        agreement = rng.choice(usable)

    granted = [g.name for g in agreement.grants]
    org_id = agreement.consumer_id
    role = Role.OFFICER
    purpose = agreement.purpose_code
    fields = rng.sample(granted, rng.randint(1, len(granted)))
    now = NOW if in_force(agreement, NOW) else agreement.valid_from
    if expected is None and rng.random() < 0.02:
        now = agreement.valid_from  # the first instant of the window is inside it
    subject_known = True
    consent_given = agreement.legal_basis is LegalBasis.CONSENT or rng.random() < 0.5
    queries_today = rng.randrange(agreement.max_queries_per_day)

    if expected is Reason.NOT_AGREEMENT_PARTY:
        org_id = rng.choice([o for o in ORGANISATIONS if o != agreement.consumer_id])
    elif expected is Reason.ROLE_NOT_ALLOWED:
        role = rng.choice(NON_OFFICER_ROLES)
    elif expected is Reason.OUTSIDE_VALIDITY:
        if probe < 0.6:
            now = NOW
        elif probe < 0.8:
            now = agreement.valid_until  # the window is half-open: its end is outside
        else:
            now = agreement.valid_from - timedelta(seconds=1)
    elif expected is Reason.PURPOSE_MISMATCH:
        purpose = rng.choice([p for p in PURPOSES if p != agreement.purpose_code])
    elif expected is Reason.FIELD_NOT_IN_AGREEMENT:
        extra = rng.choice([f for f in FIELD_NAMES if f not in granted])
        fields.insert(rng.randint(0, len(fields)), extra)
    elif expected is Reason.SUBJECT_UNKNOWN:
        subject_known = False
    elif expected is Reason.CONSENT_MISSING:
        consent_given = False
    elif expected is Reason.QUOTA_EXCEEDED:
        queries_today = agreement.max_queries_per_day + rng.randrange(3)

    return Case(
        agreement=agreement,
        request=QueryRequest(org_id=org_id, role=role, purpose=purpose, fields=tuple(fields)),
        facts=Circumstances(
            now=now,
            subject_known=subject_known,
            consent_given=consent_given,
            queries_today=queries_today,
        ),
        expected=expected,
    )


# --------------------------------------------------------------------------- Cedar


def epoch_seconds(moment: datetime) -> int:
    seconds = moment.timestamp()
    if seconds != int(seconds):
        raise ValueError("the Cedar encoding compares whole seconds")
    return int(seconds)


def cedar_string(value: str) -> str:
    if '"' in value or "\\" in value:
        raise ValueError(f"{value!r} would need escaping in Cedar")
    return f'"{value}"'


def cedar_policy(agreement: Agreement) -> str:
    """One `permit` for an approved agreement: exactly the conditions `decide` checks."""
    granted = ", ".join(cedar_string(g.name) for g in agreement.grants)
    conditions = [
        'context.role == "officer"',
        f"context.now >= {epoch_seconds(agreement.valid_from)}",
        f"context.now < {epoch_seconds(agreement.valid_until)}",
        f"context.purpose == {cedar_string(agreement.purpose_code)}",
        f"[{granted}].containsAll(context.fields)",
        "context.subject_known",
    ]
    if agreement.legal_basis is LegalBasis.CONSENT:
        conditions.append("context.consent_given")
    conditions.append(f"context.queries_today < {agreement.max_queries_per_day}")
    body = " &&\n    ".join(conditions)
    return (
        f"permit (\n"
        f"  principal == Org::{cedar_string(agreement.consumer_id)},\n"
        f'  action == Action::"query",\n'
        f'  resource == Agreement::"{agreement.id}"\n'
        f") when {{\n    {body}\n}};\n"
    )


def cedar_policies(agreement: Agreement) -> str:
    """Status is modelled by presence: only an approved agreement has a policy."""
    return cedar_policy(agreement) if agreement.status is AgreementStatus.APPROVED else ""


def cedar_request(case: Case) -> dict:
    """The requesting organisation is the principal; the person-level facts are context."""
    return {
        "principal": {"type": "Org", "id": case.request.org_id},
        "action": {"type": "Action", "id": "query"},
        "resource": {"type": "Agreement", "id": str(case.agreement.id)},
        "context": {
            "role": case.request.role.value,
            "purpose": case.request.purpose,
            "fields": list(case.request.fields),
            "now": epoch_seconds(case.facts.now),
            "subject_known": case.facts.subject_known,
            "consent_given": case.facts.consent_given,
            "queries_today": case.facts.queries_today,
        },
    }


# --------------------------------------------------------------------------- Casbin

CASBIN_MODEL = """
[request_definition]
r = agreement, org, role, purpose, now, fields, subject_known, consent_given, queries_today

[policy_definition]
p = agreement, consumer, purpose, valid_from, valid_until, granted, consent_required, max_queries

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.agreement == p.agreement && r.org == p.consumer && r.role == "officer" \
&& inWindow(r.now, p.valid_from, p.valid_until) && r.purpose == p.purpose \
&& allGranted(r.fields, p.granted) && r.subject_known \
&& (p.consent_required == "no" || r.consent_given) && belowLimit(r.queries_today, p.max_queries)
"""


def in_window(now: int, valid_from: str, valid_until: str) -> bool:
    return int(valid_from) <= now < int(valid_until)


def all_granted(fields: tuple[str, ...], granted: str) -> bool:
    return set(fields).issubset(granted.split(" "))


def below_limit(queries_today: int, max_queries: str) -> bool:
    return queries_today < int(max_queries)


def casbin_policy_line(agreement: Agreement) -> list[str]:
    """Casbin policy values are strings; the custom functions parse them back."""
    return [
        str(agreement.id),
        agreement.consumer_id,
        agreement.purpose_code,
        str(epoch_seconds(agreement.valid_from)),
        str(epoch_seconds(agreement.valid_until)),
        " ".join(g.name for g in agreement.grants),
        "yes" if agreement.legal_basis is LegalBasis.CONSENT else "no",
        str(agreement.max_queries_per_day),
    ]


def build_casbin_enforcer(agreements: list[Agreement], indexed: bool) -> casbin.Enforcer:
    """A plain Enforcer, or a FastEnforcer whose policy cache is keyed on (agreement, consumer).

    FastEnforcer reads the cache keys from the same positions in the request as in a policy
    line, which is why the agreement id and the organisation come first in both. Its cache
    (FastPolicy in pycasbin 2.8) only works with exactly two keys, so it is keyed on both.
    """
    lines = [casbin_policy_line(a) for a in agreements if a.status is AgreementStatus.APPROVED]
    adapter = PolicyLinesAdapter(lines)
    if indexed:
        model = FastModel(cache_key_order=[0, 1])
        model.load_model_from_text(CASBIN_MODEL)
        enforcer: casbin.Enforcer = casbin.FastEnforcer(model, adapter, cache_key_order=[0, 1])
    else:
        enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=CASBIN_MODEL), adapter)
    enforcer.add_function("inWindow", in_window)
    enforcer.add_function("allGranted", all_granted)
    enforcer.add_function("belowLimit", below_limit)
    return enforcer


class PolicyLinesAdapter(casbin.persist.Adapter):
    """Loads policy lines held in memory, as the file adapter loads the lines of a CSV file.

    (Adding 10,000 lines with `add_policies` instead is quadratic for a FastEnforcer: each
    insertion takes `len()` of its policy cache, which pycasbin 2.8 computes by listing it.)
    """

    def __init__(self, lines: list[list[str]]) -> None:
        self.lines = lines

    def load_policy(self, model) -> None:
        for line in self.lines:
            model.model["p"]["p"].policy.append(line)


def casbin_request(case: Case) -> tuple:
    return (
        str(case.agreement.id),
        case.request.org_id,
        case.request.role.value,
        case.request.purpose,
        epoch_seconds(case.facts.now),
        case.request.fields,
        case.facts.subject_known,
        case.facts.consent_given,
        case.facts.queries_today,
    )


# --------------------------------------------------------------------------- engines


@dataclass(slots=True)
class Engine:
    """One way of deciding: the call to time, its arguments per request, what it answered."""

    name: str
    call: Callable
    arguments: list[tuple]
    cases: list[Case]  # the requests it answers: the whole workload or an even sample of it
    permitted: Callable[[object], bool]  # reads permit/deny from one of its answers
    note: str = ""
    explain: Callable[[list], str] | None = None  # a note drawn from its answers, if any
    samples_ns: list[int] = field(default_factory=list)
    results: list = field(default_factory=list)

    def answers(self) -> list[bool]:
        return [self.permitted(result) for result in self.results]


def empty_call_engine(cases: list[Case]) -> Engine:
    def nothing(request, agreement, facts):
        return None

    return Engine(
        "(empty call: timer floor)", nothing, [(c.request, c.agreement, c.facts) for c in cases],
        cases, lambda _: None,
    )


def onceonly_engine(cases: list[Case]) -> Engine:
    return Engine(
        "onceonly decide", decide, [(c.request, c.agreement, c.facts) for c in cases],
        cases, lambda decision: decision.permitted,
    )


def cedar_engine(
    cases: list[Case], agreements: list[Agreement], whole_set: bool, note: str = ""
) -> Engine:
    """Whole set: every agreement's policy in one PolicySet. Otherwise one PolicySet each."""
    started = time.perf_counter()
    if whole_set:
        policy_set = cedarpy.PolicySet.from_str("".join(cedar_policies(a) for a in agreements))
        sets_for = dict.fromkeys((a.id for a in agreements), policy_set)
        print(f"  parsed the whole Cedar policy set in {time.perf_counter() - started:.2f} s")
    else:
        sets_for = {a.id: cedarpy.PolicySet.from_str(cedar_policies(a)) for a in agreements}
        print(f"  parsed {len(sets_for):,} one-agreement Cedar policy sets in "
              f"{time.perf_counter() - started:.2f} s")
    entities = cedarpy.Entities.from_json_str("[]")
    return Engine(
        "Cedar, whole set" if whole_set else "Cedar, best case (1 policy)",
        cedarpy.is_authorized,
        [(cedar_request(c), sets_for[c.agreement.id], entities) for c in cases],
        cases,
        lambda result: result.allowed,
        note,
        cedar_self_reported,
    )


def cedar_self_reported(results: list[cedarpy.AuthzResult]) -> str:
    """Cedar's own per-request metrics: where the time inside the Rust call went."""

    def median_of(key: str) -> float:
        values = sorted(r.metrics[key] for r in results)
        return values[len(values) // 2]

    return (
        "Cedar's own metrics, median µs: build_request "
        f"{median_of('build_request_duration_micros'):g}, authz "
        f"{median_of('authz_duration_micros'):g}"
    )


def casbin_engine(
    cases: list[Case], agreements: list[Agreement], indexed: bool, note: str = ""
) -> Engine:
    started = time.perf_counter()
    enforcer = build_casbin_enforcer(agreements, indexed)
    print(f"  loaded the Casbin {'FastEnforcer' if indexed else 'Enforcer'} in "
          f"{time.perf_counter() - started:.2f} s")
    return Engine(
        "Casbin, indexed (FastEnforcer)" if indexed else "Casbin, all lines (Enforcer)",
        enforcer.enforce,
        [casbin_request(c) for c in cases],
        cases,
        bool,
        note,
    )


# --------------------------------------------------------------------------- timing


def warm_up(engine: Engine, count: int) -> None:
    for arguments in engine.arguments[:count]:
        engine.call(*arguments)


def time_calls(engine: Engine, first: int, stop: int) -> None:
    """Time each of the engine's calls in [first, stop) on its own, keeping what it answered."""
    call = engine.call
    clock = time.perf_counter_ns
    samples = engine.samples_ns
    results = engine.results
    for arguments in engine.arguments[first:stop]:
        start = clock()
        result = call(*arguments)
        samples.append(clock() - start)
        results.append(result)


def time_in_rounds(engines: list[Engine], rounds: int) -> None:
    """Each engine takes the next slice of its requests in turn, `rounds` times over.

    On a noisy machine this spreads every engine across the whole run, so a burst of
    background load falls on all of them rather than on whichever ran at that moment.
    The garbage collector is off meanwhile, as in `timeit`: otherwise a collection caused by
    one engine's garbage is charged to whichever call happens to trigger it.
    """
    gc.collect()
    gc.disable()
    try:
        for round_number in range(rounds):
            for engine in engines:
                count = len(engine.arguments)
                time_calls(
                    engine, count * round_number // rounds, count * (round_number + 1) // rounds
                )
    finally:
        gc.enable()
    for engine in engines:
        if engine.explain is not None:
            engine.note = "; ".join(p for p in (engine.note, engine.explain(engine.results)) if p)


def evenly_spaced(items: list, count: int) -> list:
    """Every k-th item, so a sample keeps the workload's mix of outcomes."""
    if count >= len(items):
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def percentile(sorted_samples: list[int], fraction: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, math.ceil(fraction * len(sorted_samples)))
    return sorted_samples[rank - 1]


def summarise(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {
        "p50": percentile(ordered, 0.50) / 1000,
        "p90": percentile(ordered, 0.90) / 1000,
        "p99": percentile(ordered, 0.99) / 1000,
        "mean": sum(ordered) / len(ordered) / 1000,
    }


def check_against_decide(engine: Engine) -> int:
    """Count disagreements with `decide` on permit/deny, printing the first few."""
    mismatches = [
        (case, answer)
        for case, answer in zip(engine.cases, engine.answers(), strict=True)
        if answer != (case.expected is None)
    ]
    for case, answer in mismatches[:10]:
        print(
            f"  MISMATCH {engine.name}: agreement {case.agreement.id} expected "
            f"{case.expected.value if case.expected else 'permit'}, "
            f"engine said {'permit' if answer else 'deny'}: "
            f"{case.request} {case.facts}"
        )
    return len(mismatches)


# --------------------------------------------------------------------------- report


def cpu_model_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def print_environment() -> None:
    print(f"Python     {platform.python_version()} ({platform.python_implementation()}) "
          f"on {platform.system()} {platform.machine()}")
    print(f"CPU        platform.processor() = {platform.processor()!r}, "
          f"os.cpu_count() = {os.cpu_count()}, model: {cpu_model_name()}")
    print(f"cedarpy    {importlib.metadata.version('cedarpy')}")
    print(f"pycasbin   {importlib.metadata.version('pycasbin')}")


def print_table(engines: list[Engine]) -> None:
    header = (
        f"{'engine':<32} {'calls':>7} {'p50 µs':>10} {'p90 µs':>10} {'p99 µs':>10} "
        f"{'mean µs':>10}"
    )
    print(header)
    print("-" * len(header))
    for engine in engines:
        s = summarise(engine.samples_ns)
        print(
            f"{engine.name:<32} {len(engine.samples_ns):>7,} {s['p50']:>10.2f} "
            f"{s['p90']:>10.2f} {s['p99']:>10.2f} {s['mean']:>10.2f}"
        )
    notes = [f"  {e.name}: {e.note}" for e in engines if e.note]
    if notes:
        print("notes:")
        print("\n".join(notes))


def print_ratios(baseline: Engine, others: list[Engine]) -> None:
    base = summarise(baseline.samples_ns)
    print(f"{'ratio to onceonly decide':<44} {'p50':>9} {'p99':>9} {'mean':>9}")
    for other in others:
        s = summarise(other.samples_ns)
        print(
            f"{other.name + ' / onceonly':<44} {s['p50'] / base['p50']:>8.1f}x "
            f"{s['p99'] / base['p99']:>8.1f}x {s['mean'] / base['mean']:>8.1f}x"
        )


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 500 agreements, 1,000 requests")
    parser.add_argument("--seed", type=int, default=20250602)
    parser.add_argument("--agreements", type=int, help="default 10,000 (500 with --quick)")
    parser.add_argument("--requests", type=int, help="default 20,000 (1,000 with --quick)")
    parser.add_argument("--cedar-whole-sample", type=int,
                        help="requests for whole-set Cedar; default 2,000 (all with --quick)")
    parser.add_argument("--casbin-scan-sample", type=int,
                        help="requests for the scanning Casbin Enforcer; default 500 (100 quick)")
    return parser.parse_args()


def sample_note(sample: list[Case], cases: list[Case], what: str) -> str:
    if len(sample) < len(cases):
        return f"sampled {len(sample):,} of {len(cases):,} requests (every k-th); {what}"
    return what


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unavailable"


def main() -> int:
    args = parse_arguments()
    agreement_count = args.agreements or (500 if args.quick else 10_000)
    request_count = args.requests or (1_000 if args.quick else 20_000)
    cedar_whole_count = args.cedar_whole_sample or (request_count if args.quick else 2_000)
    casbin_scan_count = args.casbin_scan_sample or (100 if args.quick else 500)

    print(__doc__.split("\n\n")[0].strip())
    print_environment()
    rng = random.Random(args.seed)
    agreements = build_agreements(rng, agreement_count)
    cases = build_workload(rng, agreements, request_count)
    statuses = Counter(a.status.value for a in agreements)
    outcomes = Counter((c.expected.value if c.expected else "permit") for c in cases)
    print(f"seed       {args.seed}")
    print(f"agreements {len(agreements):,}: "
          + ", ".join(f"{k} {v:,}" for k, v in statuses.most_common())
          + f"; {sum(a.legal_basis is LegalBasis.CONSENT for a in agreements):,} consent-based; "
          f"{sum(not in_force(a, NOW) for a in agreements):,} outside their window")
    print(f"requests   {len(cases):,}: "
          + ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common()))
    print()

    cedar_sample = evenly_spaced(cases, cedar_whole_count)
    casbin_scan_sample = evenly_spaced(cases, casbin_scan_count)

    print("building engines ...")
    floor = empty_call_engine(cases)
    onceonly = onceonly_engine(cases)
    cedar_best = cedar_engine(cases, agreements, whole_set=False)
    cedar_whole = cedar_engine(cedar_sample, agreements, whole_set=True, note=sample_note(
        cedar_sample, cases, f"each call evaluates {statuses['approved']:,} policies"))
    casbin_fast = casbin_engine(cases, agreements, indexed=True)
    casbin_scan = casbin_engine(casbin_scan_sample, agreements, indexed=False, note=sample_note(
        casbin_scan_sample, cases, f"each call scans up to {statuses['approved']:,} lines"))
    engines = [floor, onceonly, cedar_best, cedar_whole, casbin_fast, casbin_scan]

    for engine in engines:
        warm_up(engine, max(1, len(engine.arguments) // 20))
    print(f"timing in {ROUNDS} interleaved rounds ... (load average before: "
          f"{load_average()})")
    started = time.perf_counter()
    time_in_rounds(engines, ROUNDS)
    print(f"  took {time.perf_counter() - started:.0f} s (load average after: {load_average()})")

    print()
    print("agreement with decide (permit/deny):")
    total_mismatches = 0
    for engine in engines[1:]:
        mismatches = check_against_decide(engine)
        total_mismatches += mismatches
        checked = len(engine.cases)
        print(f"  {engine.name:<32} {checked - mismatches:>7,} of {checked:>7,} agree")

    print()
    print_table(engines)
    print()
    print_ratios(onceonly, engines[2:])
    if total_mismatches:
        print(f"\nFAILED: {total_mismatches} answers disagree with decide")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
