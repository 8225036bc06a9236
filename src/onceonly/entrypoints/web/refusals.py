"""A refusal as the person reading the page is told it: its code's sentence (`REFUSALS`, one
table for every page) in the page's language, naming what the problem carries where the
sentence has room for it (the organisation, how long to wait), as the API's detail does."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from onceonly.entrypoints.web.i18n import N_

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
    "scheme_not_yours": N_("The organisation named the person by another organisation's "
                           "identifier."),
    "not_a_query_agreement": N_("That agreement is for notifications, not for asking "
                                "questions."),
    "system_not_yours": N_("The request came from a system of another organisation."),
    "sign_in_failed": N_("The login or password is not right."),
    "code_required": N_("Enter the 6-digit code from your authenticator app."),
    "code_invalid": N_("That code is not right. Check that your phone's clock is right, then try "
                       "the code the app shows now."),
    "no_enrolment": N_("Start setting up two-step sign-in first."),
    "sign_in_slowed": N_("There have been too many failed sign-ins. Wait a little, then try "
                         "again. If you set up two-step sign-in, you can sign in now with your "
                         "password and the code from your authenticator app."),
    "sign_in_locked": N_("There have been too many failed sign-ins, so signing in with a password"
                         " alone is locked for now. If you set up two-step sign-in, you can sign "
                         "in with your password and the code from your authenticator app."),
    "password_sign_in_off": N_("Citizens sign in with GOV.UK One Login. Signing in with a "
                               "password is for the demonstration only."),
    "session_missing": N_("Sign in first."),
    "session_unknown": N_("You are not signed in. Sign in again."),
    "session_expired": N_("Your session has expired. Sign in again."),
    "session_ended": N_("You signed out of this session. Sign in again."),
    "session_token_revoked": N_("The API token you signed in with is no longer valid."),
    "principal_disabled": N_("Your access to this exchange has been turned off by your "
                             "organisation's administrator. Ask them if you think this is wrong."),
    "member_suspended": N_("Your organisation is suspended from the exchange."),
    "member_deregistered": N_("Your organisation has left the exchange."),
    "csrf_missing": N_("This form could not be checked. Reload the page and try again."),
    "csrf_invalid": N_("This form has expired or was not sent from this page. Reload the page and"
                       " try again."),
    "sign_in_attempt_unknown": N_("This sign-in was not started here, or took too long. Nobody "
                                  "was signed in. Start again from the sign-in page."),
    "state_mismatch": N_("The sign-in service's answer did not match the sign-in started here. "
                         "Nobody was signed in. Start again from the sign-in page."),
    "provider_refused": N_("The sign-in service did not sign you in. Start again from the sign-in"
                           " page."),
    "issuer_mismatch": N_("The answer came from another sign-in service than the one you chose. "
                          "Nobody was signed in. Start again from the sign-in page."),
    "no_identity_provider": N_("Your organisation does not sign in through this service."),
    "other_organisation": N_("You signed in as someone of another organisation than the one you "
                             "chose. Choose your own organisation on the sign-in page."),
    "no_person_claim": N_("Your organisation's sign-in service did not say who you are. Nobody "
                          "was signed in. Ask your organisation's administrator."),
    "no_mapped_role": N_("You signed in, but your organisation has not given you a role in this "
                         "exchange. Ask your organisation's administrator to add you to one of "
                         "its groups for this service."),
    "one_login_not_configured": N_("Signing in with GOV.UK One Login is not set up on this "
                                   "service."),
    "userinfo_subject": N_("GOV.UK One Login described someone other than the person who signed "
                           "in. Nobody was signed in. Try again."),
    "identity_missing": N_("GOV.UK One Login did not send proof of who you are. Nobody was signed"
                           " in. Try again, and prove who you are when you are asked."),
    "identity_unreadable": N_("The proof of who you are could not be read. Nobody was signed in. "
                              "Try again."),
    "identity_not_found": N_("GOV.UK One Login proved who you are, but no record of yours was "
                             "found here. Nobody was signed in. If you think you should have a "
                             "record, contact the service that holds it."),
    "identity_rejected": N_("GOV.UK One Login proved who you are, but a member of staff could not"
                            " confirm that the record found here is yours, so you have not been "
                            "signed in. Contact the service that holds your record to have it "
                            "checked."),
    "identity_pending": N_("GOV.UK One Login proved who you are, and a member of staff now needs "
                           "to confirm which record is yours. This usually takes up to 5 working "
                           "days. You have not been signed in yet: sign in with GOV.UK One Login "
                           "again after that."),
    "consent_unknown": N_("There is no such consent."),
    "already_withdrawn": N_("That consent was withdrawn already."),
    "consent_not_needed": N_("This organisation does not need your consent for this: the law lets"
                             " it ask without it."),
    "expiry_in_past": N_("The date a consent ends must be in the future."),
    "expiry_too_far": N_("A consent lasts at most a year. You can give it again then."),
    "purpose_unknown": N_("There is no such purpose."),
    "consumer_not_in_purpose": N_("That organisation has no agreement for this purpose."),
    "field_not_in_purpose": N_("No agreement for this purpose includes everything the consent "
                               "names."),
    "dataset_unknown": N_("There is no such set of data."),
    "dataset_not_challengeable": N_("This is a register of life events, not a record held about "
                                    "you: report the event again to put it right."),
    "field_not_visible": N_("That value cannot be challenged here. Only what an organisation "
                            "holds about you can be, apart from special category data."),
    "challenge_open": N_("You have already challenged this value and the organisation has not "
                         "answered yet."),
    "challenge_unknown": N_("There is no such challenge."),
    "reason_required": N_("Say why."),
    "value_type_mismatch": N_("The value given is not the right kind of value, such as a date or "
                              "a number."),
    "provider_takes_no_corrections": N_("The organisation's own system takes no corrections from "
                                        "the exchange."),
    "audit_entry_unknown": N_("There is no such entry in the log."),
    "no_tree_head": N_("The log has not been signed yet. Try again in a minute."),
    "beyond_tree_head": N_("That entry is newer than the log's latest signed summary. Try again "
                           "in a minute."),
    "event_type_unknown": N_("That is not a change this service takes."),
    "event_type_not_offered": N_("That change cannot be reported on this exchange yet."),
    "event_invalid": N_("The report is not complete or not in the right form."),
    "event_data_invalid": N_("Some of the details are missing or not in the right form."),
    "reporter_not_allowed": N_("You cannot report this change here."),
    "not_your_record": N_("You can report changes about yourself only."),
    "recipient_not_subscribed": N_("One of the organisations chosen cannot be told of this "
                                   "change."),
    "recipient_required": N_("The law requires some of these organisations to be told: they "
                             "cannot be left out."),
    "report_unknown": N_("There is no such report."),
    "informant_unknown": N_("The person who reported it is not known here."),
    "event_id_reused": N_("A different report was already sent with this reference."),
    "already_decided": N_("This has already been decided."),
    "not_provider_guardian": N_("Only a data guardian of the organisation that holds the data can"
                                " do this."),
    "special_category_condition_missing": N_("This agreement releases special category data, so "
                                             "it needs a condition from UK GDPR Article 9 and the"
                                             " Data Protection Act 2018, Schedule 1. Choose one."),
    "self_kill_switch": N_("A kill switch stops another organisation's access, not your own."),
    "kill_switch_unknown": N_("There is no such kill switch."),
    "alert_unknown": N_("There is no such alert."),
    "alert_resolved": N_("That alert has already been dealt with."),
    "link_candidate_unknown": N_("There is no such link waiting."),
    "not_your_identifier": N_("Only a data guardian of the organisation whose identifier it is "
                              "can decide this link."),
    "delivery_unknown": N_("There is no such delivery."),
    "concurrent_update": N_("Someone else changed this at the same moment. Reload the page and "
                            "try again."),
    "organisation_unknown": N_("There is no such organisation."),
    "language_unsupported": N_("The service is in English and Welsh only."),
    "metadata_issuer": N_("Your sign-in could not be trusted: the sign-in service named another "
                          "issuer. Nobody was signed in. Try signing in again."),
    "provider_keys": N_("Your sign-in could not be trusted: the sign-in service's keys could not "
                        "be read. Nobody was signed in. Try signing in again."),
    "code_rejected": N_("Your sign-in could not be trusted: the sign-in service did not accept "
                        "this sign-in (it may have been used already). Nobody was signed in. Try "
                        "signing in again."),
    "id_token_missing": N_("Your sign-in could not be trusted: the sign-in service sent no ID "
                           "token. Nobody was signed in. Try signing in again."),
    "id_token_algorithm": N_("Your sign-in could not be trusted: it was not signed in a way this "
                             "exchange accepts. Nobody was signed in. Try signing in again."),
    "id_token_signature": N_("Your sign-in could not be trusted: it was not signed by a key the "
                             "sign-in service publishes. Nobody was signed in. Try signing in "
                             "again."),
    "id_token_malformed": N_("Your sign-in could not be trusted: it could not be read. Nobody was"
                             " signed in. Try signing in again."),
    "id_token_issuer": N_("Your sign-in could not be trusted: it was issued by another service "
                          "than the one you chose. Nobody was signed in. Try signing in again."),
    "id_token_audience": N_("Your sign-in could not be trusted: it was meant for another service "
                            "than this exchange. Nobody was signed in. Try signing in again."),
    "id_token_nonce": N_("Your sign-in could not be trusted: it answers another sign-in than this"
                         " one. Nobody was signed in. Try signing in again."),
    "id_token_expired": N_("Your sign-in could not be trusted: it has expired. Nobody was signed "
                           "in. Try signing in again."),
    "id_token_claims": N_("Your sign-in could not be trusted: one of its claims is missing or not"
                          " right. Nobody was signed in. Try signing in again."),
    "no_userinfo": N_("Your sign-in could not be trusted: the sign-in service offers no user "
                      "information. Nobody was signed in. Try signing in again."),
    "userinfo_malformed": N_("Your sign-in could not be trusted: the user information could not "
                             "be read. Nobody was signed in. Try signing in again."),
    "identity_key_missing": N_("Your sign-in could not be trusted: this exchange has no key to "
                               "check GOV.UK One Login's proof of identity with. Nobody was "
                               "signed in. Try signing in again."),
    "identity_algorithm": N_("Your sign-in could not be trusted: its proof of identity was not "
                             "signed in a way this exchange accepts. Nobody was signed in. Try "
                             "signing in again."),
    "identity_signature": N_("Your sign-in could not be trusted: its proof of identity was not "
                             "signed by GOV.UK One Login. Nobody was signed in. Try signing in "
                             "again."),
    "identity_claims": N_("Your sign-in could not be trusted: its proof of identity is not for "
                          "you, or not for this exchange, or has expired. Nobody was signed in. "
                          "Try signing in again."),
    "identity_malformed": N_("Your sign-in could not be trusted: its proof of identity could not "
                             "be read. Nobody was signed in. Try signing in again."),
}

# A refusal's sentence when its problem names the organisation (DomainError.org_id).
ORGANISATION_REFUSALS: dict[str, str] = {
    "record_unknown": N_("%(org)s holds no record of the person."),
    "consumer_not_in_purpose": N_("%(org)s has no agreement for this purpose."),
}
# A daily limit as the refusal itself tells it (not a past one in a log): when asking opens
# again. Limits count the day by the exchange's clock, in UTC (domain/limits.py).
DAILY_LIMIT_REFUSALS: dict[str, str] = {
    "quota_exceeded": N_("The organisation has made as many requests today as its agreement "
                         "allows. It can ask again after midnight UTC, when the day's count "
                         "starts again."),
    "person_limit_reached": N_("The organisation has asked about as many people today as its "
                               "agreement allows. It can ask about someone new after midnight "
                               "UTC, when the day's count starts again."),
}
# Up to two minutes a wait is said in seconds, past it in minutes (as the API's detail).
SECONDS_SAID = 120
SECOND_FACTOR_OPEN = N_("If you set up two-step sign-in, you can sign in now with your "
                        "password and the code from your authenticator app.")


@pass_context
def explain(context: Context, error: Any) -> str:
    """A refusal as a sentence in the page's language; its own detail when its code has no
    sentence yet."""
    code = getattr(error, "code", "")
    specific = _with_wait(context, error) \
        or _with_organisation(context, code, getattr(error, "org_id", None))
    if specific:
        return specific
    sentence = DAILY_LIMIT_REFUSALS.get(code) or REFUSALS.get(code)
    return context["_"](sentence) if sentence else error.detail


def _with_wait(context: Context, error: Any) -> str | None:
    """A sign-in closed for a while (slowed or locked) says how long (its Retry-After): one
    sentence, its plural chosen by the number as the page's language counts; and, where the
    second factor is still open, a sentence saying so."""
    code, seconds = getattr(error, "code", ""), getattr(error, "retry_after", None)
    ngettext = context.get("ngettext")
    saying = _WAITS.get(code)
    if saying is None or not seconds or ngettext is None:
        return None
    said = saying(ngettext, seconds)
    if getattr(error, "second_factor_open", False):
        said += " " + context["_"](SECOND_FACTOR_OPEN)
    return str(said)


def _slowed_for(ngettext: Any, seconds: int) -> str:
    if seconds < SECONDS_SAID:
        return str(ngettext(
            "There have been too many failed sign-ins. Try again in %(num)d second.",
            "There have been too many failed sign-ins. Try again in %(num)d seconds.",
            seconds) % {"num": seconds})
    minutes = math.ceil(seconds / 60)
    return str(ngettext(
        "There have been too many failed sign-ins. Try again in %(num)d minute.",
        "There have been too many failed sign-ins. Try again in %(num)d minutes.",
        minutes) % {"num": minutes})


def _locked_for(ngettext: Any, seconds: int) -> str:
    if seconds < SECONDS_SAID:
        return str(ngettext(
            "There have been too many failed sign-ins, so signing in with a password alone is "
            "locked for %(num)d second.",
            "There have been too many failed sign-ins, so signing in with a password alone is "
            "locked for %(num)d seconds.", seconds) % {"num": seconds})
    minutes = math.ceil(seconds / 60)
    return str(ngettext(
        "There have been too many failed sign-ins, so signing in with a password alone is "
        "locked for %(num)d minute.",
        "There have been too many failed sign-ins, so signing in with a password alone is "
        "locked for %(num)d minutes.", minutes) % {"num": minutes})


_WAITS = {"sign_in_slowed": _slowed_for, "sign_in_locked": _locked_for}


def _with_organisation(context: Context, code: str, org_id: str | None) -> str | None:
    sentence = ORGANISATION_REFUSALS.get(code)
    name = context.get("organisation_name")
    if sentence is None or not org_id or name is None:
        return None
    return str(context["_"](sentence) % {"org": name(org_id)})
