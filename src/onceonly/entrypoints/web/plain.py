"""Plain language, in its one place: what each reason code, legal basis and state means, as
a sentence a person can read (both languages through the catalogue). Pages show the
sentence and keep the code in small print."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from onceonly.entrypoints.web.common import sentence
from onceonly.entrypoints.web.i18n import DEFAULT, N_, translations
from onceonly.entrypoints.web.refusals import explain

LEGAL_BASES: dict[str, str] = {
    "consent": N_("your consent"),
    "statutory-duty": N_("a duty set by law"),
    "public-task": N_("a task in the public interest set by law"),
    "vital-interests": N_("protecting someone's life"),
}

# An anomaly alert's rule (domain.anomaly.RuleKind) as staff read it.
ALERT_RULES: dict[str, str] = {
    "many_persons": N_("Many people asked about in a short time"),
    "sequential_ids": N_("Identifiers asked for one after another, in order"),
    "off_hours": N_("A burst of requests outside working hours"),
    "refusal_storm": N_("Refused again and again"),
}

DELIVERY_STATES: dict[str, str] = {
    "pending": N_("Not told yet: it is on its way"),
    "delivered": N_("Told"),
    "failed": N_("Not told: sending failed, and its data guardian has been alerted"),
}


# A grant's transform (domain.transforms) as a guardian reads it: what the consumer receives.
TRANSFORMS: dict[str, str] = {
    "as_is": N_("the value itself"),
    "mask_last4": N_("only its last 4 characters"),
    "year_only": N_("only the year"),
    "age_over_18": N_("only whether the person is over 18"),
    "is_present": N_("only whether there is a value"),
    "income_band": N_("only the income band"),
    "receives_universal_credit": N_("only whether the person receives Universal Credit"),
    "fit_to_drive": N_("only whether the person is fit to drive"),
}

# A link's compared fields (domain.identity) and how well each agreed (adapters' levels).
COMPARED_FIELDS: dict[str, str] = {
    "identifiers": N_("Identifiers"), "full_name": N_("Name"),
    "date_of_birth": N_("Date of birth"), "postcode": N_("Postcode"),
}
COMPARISON_LEVELS: dict[str, str] = {
    "exact": N_("the same"), "agree": N_("an identifier is the same"),
    "similar": N_("nearly the same"), "one_digit": N_("one digit different"),
    "district": N_("the same postcode district"), "different": N_("different"),
    "disagree": N_("no identifier the same"), "missing": N_("not known on one side"),
}

# An alert's evidence (domain.anomaly._evidence) by its keys.
ALERT_EVIDENCE: dict[str, str] = {
    "rule": N_("Rule"), "count": N_("How many"), "threshold": N_("Alert at"),
    "window_seconds": N_("Within (seconds)"), "first": N_("First"), "last": N_("Last"),
}

# An agreement's state at a moment (domain.agreements.AgreementState).
AGREEMENT_STATES: dict[str, str] = {
    "draft": N_("draft"), "submitted": N_("waiting for a decision"),
    "pending": N_("approved, not yet in force"), "active": N_("in force"),
    "expired": N_("expired"), "rejected": N_("rejected"), "suspended": N_("suspended"),
    "revoked": N_("revoked"),
}

@dataclass(frozen=True, slots=True)
class Words:
    """A whole sentence with named placeholders (`%(number)s`), marked with N_ where it is
    written, and the values that fill them: translated as one sentence, then filled."""

    text: str
    values: Mapping[str, Any]


def words(text: str, **values: Any) -> Words:
    return Words(text, values)


@pass_context
def said(context: Context, what: Any) -> str:
    """What a page says beside a field or in a banner, as a sentence in the page's language:
    a refusal by its code's sentence (`explain`), a page's own words through the catalogue."""
    if isinstance(what, Words):
        text = context["_"](what.text) % what.values
    elif isinstance(what, str):
        text = context["_"](what)
    else:
        text = explain(context, what)
    return sentence(text)


@pass_context
def in_words(context: Context, code: str, table: dict[str, str]) -> str:
    """A code of `table` in words, in the page's language (the code itself if unknown)."""
    words = table.get(str(code))
    return context["_"](words) if words else str(code)

# The life events' titles and their fields' descriptions, as the domain names them (English),
# for the catalogue: pages show them through `_()`.
EVENT_WORDS = (
    N_("Death registered"), N_("Birth registered"), N_("Marriage registered"),
    N_("Change of name"), N_("Change of address"),
    N_("the new name"), N_("the name used before"), N_("from when the new name is used"),
    N_("the new address"), N_("moving date"),
)

# A privacy impact assessment's risk levels, as the domain names them (low, medium, high),
# for the catalogue: pages show them capitalised through `_()`.
RISK_WORDS = (N_("Low"), N_("Medium"), N_("High"))
# The guardians' decisions and the states they lead to (domain and service codes), and a
# provider breaker's states, as staff pages show them capitalised through `_()`.
STAFF_WORDS = (
    N_("Approve"), N_("Reject"), N_("Suspend"), N_("Resume"), N_("Revoke"),
    N_("Open"), N_("Resumed"), N_("Revoked"), N_("Correcting"), N_("Corrected"),
    N_("Rejected"), N_("Closed (calling)"), N_("Open (not calling)"),
    N_("Half-open (trying one request)"),
)

# Dataset fields and derived answers as a person reads them; a field not listed reads as its
# name with spaces.
FIELD_LABELS: dict[str, str] = {
    "new_address": N_("your new address"),
    "effective_date": N_("the date of the change"),
    "new_full_name": N_("your new name"),
    "previous_full_name": N_("your previous name"),
    "full_name": N_("your name"),
    "date_of_birth": N_("your date of birth"),
    "address": N_("your address"),
    "income_band": N_("your income band"),
    "annual_income": N_("your annual income"),
    "receives_universal_credit": N_("whether you receive Universal Credit"),
    "is_over_18": N_("whether you are over 18"),
    "licence_valid": N_("whether your driving licence is valid"),
    "licence_status": N_("the status of your driving licence"),
    "eye_colour": N_("your eye colour"),
}


@pass_context
def field_label(context: Context, name: str) -> str:
    label = FIELD_LABELS.get(name)
    return context["_"](label) if label else name.replace("_", " ")


OFFICER = N_("an officer at %(org)s (reference %(ref)s)")
OFFICER_REFERENCE = 12  # characters of the officer's id: enough to find them, not a name


@pass_context
def officer(context: Context, principal_id: str, org_id: str) -> str:
    """An officer as staff read them: their organisation by name and a short reference,
    never the raw id; in the language of the page's body."""
    language = context.get("body_language") or context.get("lang", DEFAULT)
    return translations(language).gettext(OFFICER) % {
        "org": context["organisation_name"](org_id),
        "ref": principal_id[-OFFICER_REFERENCE:]}


OFFICER_SUSPENDED = N_(
    "%(officer)s is suspended from %(provider)s's data, under the agreement with reference "
    "%(agreement)s and every other; that agreement carries on for %(consumer)s's other "
    "officers. Resume lets the officer back; revoke keeps them out.")
AGREEMENT_SUSPENDED = N_(
    "The agreement with reference %(agreement)s is suspended for every officer of "
    "%(consumer)s. Resume it, or revoke it.")


@pass_context
def alert_words(context: Context, alert: Any) -> str:
    """What an anomaly alert suspended, and what resuming or revoking does, with every
    organisation by name and the officer as `officer` writes them."""
    language = context.get("body_language") or context.get("lang", DEFAULT)
    name = context["organisation_name"]
    words = {"agreement": alert.agreement_id, "consumer": name(alert.consumer_id),
             "provider": name(alert.provider_id)}
    if alert.officer_id:
        return translations(language).gettext(OFFICER_SUSPENDED) % (words | {
            "officer": officer(context, alert.officer_id, alert.consumer_id)})
    return translations(language).gettext(AGREEMENT_SUSPENDED) % words


class OrganisationNames:
    """Organisations by name ("Department for Work and Pensions"), read from the catalogue at
    most once a minute; an id with no name reads as itself."""

    FRESH_FOR = 60.0

    def __init__(self, read: Callable[[], Mapping[str, str]]) -> None:
        self._read = read
        self._names: Mapping[str, str] = {}
        self._read_at = float("-inf")

    def name(self, org_id: str | None) -> str:
        if not org_id:
            return ""
        if time.monotonic() - self._read_at > self.FRESH_FOR:
            self._names = self._read()
            self._read_at = time.monotonic()
        return self._names.get(org_id, org_id)
