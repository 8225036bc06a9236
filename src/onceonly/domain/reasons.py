"""Why a request is refused: one code per reason, the same in every layer."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    NOT_AGREEMENT_PARTY = "not_agreement_party"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    AGREEMENT_NOT_ACTIVE = "agreement_not_active"
    OUTSIDE_VALIDITY = "outside_validity"
    PURPOSE_MISMATCH = "purpose_mismatch"
    FIELD_NOT_IN_AGREEMENT = "field_not_in_agreement"
    SUBJECT_UNKNOWN = "subject_unknown"
    CONSENT_MISSING = "consent_missing"
    QUOTA_EXCEEDED = "quota_exceeded"
    PERSON_LIMIT_REACHED = "person_limit_reached"
    USES_EXHAUSTED = "uses_exhausted"
    OFFICER_SUSPENDED = "officer_suspended"  # by the anomaly detector, from one provider
    AGREEMENT_UNKNOWN = "agreement_unknown"
    SCHEME_NOT_YOURS = "scheme_not_yours"  # an identifier of another organisation
    NOT_A_QUERY_AGREEMENT = "not_a_query_agreement"
    # The provider's own system, read through its connector:
    RECORD_UNKNOWN = "record_unknown"  # it holds no record under its identifier
    PROVIDER_UNAVAILABLE = "provider_unavailable"  # refused, down, failing, or breaker open
    PROVIDER_TIMEOUT = "provider_timeout"
    PROVIDER_RESPONSE_INVALID = "provider_response_invalid"  # a field missing or mistyped
    TRAINING_LAPSED = "training_lapsed"  # the agreement requires training in date
    SYSTEM_NOT_YOURS = "system_not_yours"  # a service account's system of another organisation
