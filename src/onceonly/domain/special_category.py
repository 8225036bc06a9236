"""Special-category data (UK GDPR Article 9: health, ethnicity, beliefs, ...) may be shared
only under one of Article 9(2)'s conditions, which the Data Protection Act 2018 Schedule 1
fills in for the UK. An agreement releasing such data names its condition before it goes to
the provider's guardian."""

from __future__ import annotations

from enum import StrEnum

from onceonly.domain.errors import invalid


class ProcessingCondition(StrEnum):
    """Article 9(2)'s conditions an exchange of data can rest on, with their Schedule 1
    paragraph where the UK needs one."""

    EXPLICIT_CONSENT = "explicit-consent"  # Art. 9(2)(a)
    EMPLOYMENT_SOCIAL_SECURITY = "employment-social-security"  # 9(2)(b); Sch. 1 para 1
    VITAL_INTERESTS = "vital-interests"  # 9(2)(c)
    LEGAL_CLAIMS = "legal-claims"  # 9(2)(f)
    SUBSTANTIAL_PUBLIC_INTEREST = "substantial-public-interest"  # 9(2)(g); Sch. 1 Part 2
    HEALTH_SOCIAL_CARE = "health-social-care"  # 9(2)(h); Sch. 1 para 2
    PUBLIC_HEALTH = "public-health"  # 9(2)(i); Sch. 1 para 3
    ARCHIVING_RESEARCH = "archiving-research"  # 9(2)(j); Sch. 1 para 4


# Where each condition is in the law, as a guardian and the public register cite it.
LEGAL_REFERENCE: dict[ProcessingCondition, str] = {
    ProcessingCondition.EXPLICIT_CONSENT: "UK GDPR Article 9(2)(a)",
    ProcessingCondition.EMPLOYMENT_SOCIAL_SECURITY:
        "UK GDPR Article 9(2)(b); DPA 2018 Schedule 1 paragraph 1",
    ProcessingCondition.VITAL_INTERESTS: "UK GDPR Article 9(2)(c)",
    ProcessingCondition.LEGAL_CLAIMS: "UK GDPR Article 9(2)(f)",
    ProcessingCondition.SUBSTANTIAL_PUBLIC_INTEREST:
        "UK GDPR Article 9(2)(g); DPA 2018 Schedule 1 Part 2",
    ProcessingCondition.HEALTH_SOCIAL_CARE:
        "UK GDPR Article 9(2)(h); DPA 2018 Schedule 1 paragraph 2",
    ProcessingCondition.PUBLIC_HEALTH: "UK GDPR Article 9(2)(i); DPA 2018 Schedule 1 paragraph 3",
    ProcessingCondition.ARCHIVING_RESEARCH:
        "UK GDPR Article 9(2)(j); DPA 2018 Schedule 1 paragraph 4",
}


def require_condition(special_category: bool,
                      condition: ProcessingCondition | None) -> None:
    """Refuse an agreement that releases special-category data without naming the
    Article 9 condition it rests on."""
    if special_category and condition is None:
        raise invalid("special_category_condition_missing",
                      "the agreement releases special-category data: name the UK GDPR "
                      "Article 9 condition (with its DPA 2018 Schedule 1 condition) it rests on")
