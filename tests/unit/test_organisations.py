"""X-Road style identifiers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import (
    STAFF_ROLES,
    MemberClass,
    MemberStatus,
    Principal,
    Role,
    TokenHolder,
    Training,
    member_moved,
    parse_member_id,
    parse_org_id,
    parse_scheme_pattern,
    parse_system_id,
    training_lapsed,
)


@pytest.mark.parametrize("good", ["GOV/HMRC", "LA/NORTHSHIRE", "NHS/NHSE", "COM/ACME"])
def test_good_org_ids(good):
    assert parse_org_id(good) == good


@pytest.mark.parametrize("bad", ["gov/hmrc", "GOV", "GOV/HMRC/income", "GOV//X", "", "G/X",
                                 "GOV/HMRC; DROP"])
def test_bad_org_ids(bad):
    with pytest.raises(DomainError) as error:
        parse_org_id(bad)
    assert error.value.code == "invalid_org_id"


def test_system_ids():
    assert parse_system_id("GOV/HMRC/income") == "GOV/HMRC/income"
    with pytest.raises(DomainError):
        parse_system_id("GOV/HMRC")


@pytest.mark.parametrize("bad", ["GOV/HMRC", "GOV/HMRC/Income", "gov/HMRC/income",
                                 "GOV/HMRC/income/x", "GOV/HMRC/"])
def test_bad_system_ids(bad):
    with pytest.raises(DomainError) as error:
        parse_system_id(bad)
    assert (error.value.kind, error.value.code) == ("invalid", "invalid_system_id")
    assert repr(bad) in error.value.detail


def test_an_org_id_refusal_names_the_value():
    with pytest.raises(DomainError) as error:
        parse_org_id("gov")
    assert (error.value.kind, error.value.detail) == (
        "invalid", "'gov' is not an organisation id; expected CLASS/CODE such as GOV/HMRC")


# -- members ---------------------------------------------------------------------------------

def test_the_member_classes_are_a_fixed_list():
    assert [c.value for c in MemberClass] == ["GOV", "LA", "NHS", "POL", "EDU", "CHA", "COM"]


@pytest.mark.parametrize("good", ["GOV/HMRC", "LA/EASTSHIRE", "NHS/X", "POL/MET", "EDU/OXF",
                                  "CHA/RNLI", "COM/ACME"])
def test_members_of_each_class_are_accepted(good):
    assert parse_member_id(good) == good


@pytest.mark.parametrize("bad", ["XX/FOO", "GOVT/HMRC", "LAA/X", "COMS/ACME"])
def test_an_unknown_member_class_is_refused_naming_it_and_the_list(bad):
    with pytest.raises(DomainError) as error:
        parse_member_id(bad)
    assert (error.value.kind, error.value.code) == (ErrorKind.INVALID, "unknown_member_class")
    assert error.value.detail == (f"{bad.split('/')[0]!r} is not a member class; one of "
                                  "GOV, LA, NHS, POL, EDU, CHA, COM")


@pytest.mark.parametrize("bad", ["gov/hmrc", "GOV", "GOV/HMRC/income", ""])
def test_a_malformed_member_id_is_refused_as_an_org_id(bad):
    with pytest.raises(DomainError) as error:
        parse_member_id(bad)
    assert error.value.code == "invalid_org_id"


@pytest.mark.parametrize("good", ["^[0-9]{10}$", "[A-Z]{2}\\d{6}[A-D]", ""])
def test_a_scheme_pattern_that_compiles_is_kept(good):
    assert parse_scheme_pattern(good) == good


@pytest.mark.parametrize("bad", ["([", "a{2,1}", "*x", "(?P<a>x)(?P<a>y)"])
def test_a_scheme_pattern_that_does_not_compile_is_refused(bad):
    with pytest.raises(DomainError) as error:
        parse_scheme_pattern(bad)
    assert (error.value.kind, error.value.code) == (ErrorKind.INVALID, "invalid_pattern")
    assert error.value.detail.startswith(f"the format {bad!r} is not a regular expression: ")


A, S, D = MemberStatus.ACTIVE, MemberStatus.SUSPENDED, MemberStatus.DEREGISTERED


@pytest.mark.parametrize(("status", "action", "after"), [
    (A, "suspend", S), (S, "resume", A), (A, "deregister", D), (S, "deregister", D)])
def test_a_member_moves(status, action, after):
    assert member_moved("LA/X", status, action) is after


@pytest.mark.parametrize(("status", "action"), [
    (S, "suspend"), (D, "suspend"), (A, "resume"), (D, "resume"), (D, "deregister")])
def test_a_member_move_from_the_wrong_status_is_a_conflict(status, action):
    with pytest.raises(DomainError) as error:
        member_moved("LA/X", status, action)
    assert (error.value.kind, error.value.code) == (ErrorKind.CONFLICT, "member_state")
    assert error.value.detail == f"LA/X is {status.value}; it cannot {action}"


def test_an_org_admin_keeps_officers_guardians_and_managers_only():
    assert {Role.OFFICER, Role.GUARDIAN, Role.MANAGER} == STAFF_ROLES
    assert Role.ORG_ADMIN.value == "org_admin"


DAY = date(2026, 12, 5)


def test_training_is_valid_through_its_last_day():
    training = Training(date(2026, 1, 1), DAY)
    assert not training.lapsed(DAY)
    assert training.lapsed(date(2026, 12, 6))
    assert not training_lapsed(training, DAY)
    assert training_lapsed(training, date(2026, 12, 6))


def test_no_training_record_counts_as_lapsed():
    assert training_lapsed(None, DAY)


def test_training_lapsing_soon_is_within_the_days_asked_and_not_yet_lapsed():
    training = Training(date(2026, 1, 1), DAY)
    assert training.lapses_within(date(2026, 11, 6), 30)  # lapses after 29 days
    assert not training.lapses_within(date(2026, 11, 5), 30)  # 30 days: not within
    assert training.lapses_within(DAY, 1)
    assert not training.lapses_within(date(2026, 12, 6), 30)  # lapsed already


def test_training_cannot_end_before_it_was_completed():
    assert Training(DAY, DAY).valid_until == DAY
    with pytest.raises(DomainError) as error:
        Training(DAY, date(2026, 12, 4))
    assert (error.value.kind, error.value.code) == (ErrorKind.INVALID, "invalid_training")
    assert error.value.detail == "training is valid until a day on or after it was completed"


@pytest.mark.parametrize(("disabled", "member", "revoked", "ends_in", "state"), [
    (True, MemberStatus.SUSPENDED, True, -1, "disabled"),  # the holder first
    (False, MemberStatus.SUSPENDED, True, -1, "member_suspended"),  # then the organisation
    (False, MemberStatus.DEREGISTERED, False, 1, "member_deregistered"),
    (False, MemberStatus.ACTIVE, True, -1, "revoked"),  # then the token
    (False, MemberStatus.ACTIVE, False, 0, "expired"),  # its end is the end
    (False, MemberStatus.ACTIVE, False, 1, "live")])
def test_a_tokens_state_names_what_stands_in_its_way_first(disabled, member, revoked, ends_in,
                                                            state):
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    holder = TokenHolder(Principal("officer-1", "An officer", "GOV/DWP", Role.OFFICER),
                         now + timedelta(seconds=ends_in), revoked, disabled, member)
    assert holder.state(now) == state
