"""The web pages' settings: the GOV.UK brand, the privacy notice, password sign-in."""

from __future__ import annotations

from onceonly.config.loading import settings


def govuk_brand() -> bool:
    return settings().govuk_brand


def privacy_policy_url() -> str:
    return settings().privacy_policy_url



def password_sign_in() -> bool:
    return settings().password_sign_in
