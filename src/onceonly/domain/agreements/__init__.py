"""Data-sharing agreements and their lifecycle.

draft -> submitted -> approved | rejected; approved -> suspended -> approved (resume);
approved | suspended | submitted -> revoked. "Active" and "expired" are not stored: they
follow from an approved agreement and the clock, so expiry needs no job to take effect.

An agreement's terms (terms.py), drafting one (drafting.py) and the steps after
(lifecycle.py), gathered here.
"""

from __future__ import annotations

from onceonly.domain.agreements.drafting import (
    FIELD_NAME,
    MAX_HIDDEN_DAYS,
    PURPOSE_CODE,
    draft_agreement,
)
from onceonly.domain.agreements.lifecycle import (
    ANOMALY_DETECTOR,
    TRANSITIONS,
    approve,
    reject,
    require_reason,
    resume,
    resume_for_member,
    revoke,
    submit,
    suspend,
    suspend_for_anomaly,
    suspend_for_member,
)
from onceonly.domain.agreements.terms import (
    Agreement,
    AgreementKind,
    AgreementState,
    AgreementStatus,
    FieldGrant,
    LegalBasis,
    PrivacyAssessment,
    Risk,
    Transition,
    agreements_using,
)

__all__ = [
    "AgreementStatus",
    "AgreementState",
    "LegalBasis",
    "AgreementKind",
    "Risk",
    "FieldGrant",
    "PrivacyAssessment",
    "Transition",
    "Agreement",
    "agreements_using",
    "PURPOSE_CODE",
    "FIELD_NAME",
    "MAX_HIDDEN_DAYS",
    "draft_agreement",
    "require_reason",
    "submit",
    "approve",
    "reject",
    "suspend",
    "ANOMALY_DETECTOR",
    "suspend_for_anomaly",
    "suspend_for_member",
    "resume_for_member",
    "resume",
    "revoke",
    "TRANSITIONS",
]
