"""Plain language, in its one place: what each reason code, legal basis and state means, as
a sentence a person can read (both languages through the catalogue). Pages show the
sentence and keep the code in small print."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from onceonly.entrypoints.web.i18n import DEFAULT, N_, translations

# A refusal's code -> what it means for the person reading the page.
REFUSALS: dict[str, str] = {
    "not_agreement_party": N_("The agreement is not with the organisation that asked."),
    "role_not_allowed": N_("This page or action is not open to your role."),
    "agreement_not_active": N_("The agreement is not in force."),
    "outside_validity": N_("The agreement was not in force on that date."),
    "purpose_mismatch": N_("The organisation asked for a purpose its agreement does not "
                           "cover."),
    "field_not_in_agreement": N_("The organisation asked for something its agreement does "
                                 "not include."),
    "subject_unknown": N_("The organisation that holds the data has no record of the "
                          "person."),
    "consent_missing": N_("The organisation needs your consent for this and you have not "
                          "given it."),
    "quota_exceeded": N_("The organisation has made as many requests today as its agreement "
                         "allows."),
    "person_limit_reached": N_("The organisation has asked about as many people today as its "
                               "agreement allows."),
    "uses_exhausted": N_("The agreement's allowance has been used up."),
    "officer_suspended": N_("The officer who asked has been suspended while an unusual "
                            "pattern of requests is looked into."),
    "agreement_unknown": N_("There is no such agreement."),
    "record_unknown": N_("The organisation holds no record of the person."),
    "provider_unavailable": N_("The organisation that holds the data could not be reached."),
    "provider_timeout": N_("The organisation that holds the data took too long to answer."),
    "provider_response_invalid": N_("The organisation that holds the data gave an answer "
                                    "that could not be used."),
    "training_lapsed": N_("The officer's data-protection training is out of date."),
    "token_invalid": N_("That token is not valid."),
    "challenge_closed": N_("That challenge has already been decided."),
    "not_found": N_("There is no such page."),
}

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


@pass_context
def explain(context: Context, error: Any) -> str:
    """A refusal as a sentence in the page's language; its own detail when its code has no
    sentence yet."""
    sentence = REFUSALS.get(getattr(error, "code", ""))
    return context["_"](sentence) if sentence else error.detail


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
