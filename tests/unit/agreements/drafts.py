"""What the agreement tests share: the parties, a draft made with sound terms unless
told otherwise, and a refusal caught."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain import agreements as lc
from onceonly.domain.agreements import FieldGrant, LegalBasis
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Role
from onceonly.domain.special_category import ProcessingCondition
from tests.unit.factories import INCOME, NOW, assessment, principal

EXPLICIT_CONSENT = ProcessingCondition.EXPLICIT_CONSENT

CONSUMER = principal("GOV/DWP", Role.OFFICER)
GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g1")
SECOND_GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g2")


def draft(**changes):
    args = dict(
        actor=CONSUMER, dataset=INCOME, consumer_id="GOV/DWP",
        grants=[FieldGrant("income_band", "annual_income", "income_band")],
        purpose_code="benefit-entitlement", purpose_text="entitlement",
        legal_basis=LegalBasis.STATUTORY_DUTY, valid_from=NOW,
        valid_until=NOW + timedelta(days=30), max_queries_per_day=10, retention_days=30,
        assessment=assessment(), now=NOW,
    )
    args.update(changes)
    return lc.draft_agreement(**args)


def refused(fn, *args):
    with pytest.raises(DomainError) as error:
        fn(*args)
    return error.value
