"""The public register of data-sharing agreements as JSON: each agreement in force, its
parties by name, purpose, legal basis, the fields it releases by label, and its dates, in
English and Welsh (Welsh where the catalogue has it, else English)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from onceonly.services.register import LEGAL_BASIS_WORDS, RegisterEntry

LANGUAGES = ("en", "cy")


class Words(BaseModel):
    en: str
    cy: str


class PartyOut(BaseModel):
    id: str
    name: str


class RegisteredFieldOut(BaseModel):
    name: str = Field(description="the field's name as released")
    label: Words
    description: Words
    derived: bool = Field(description="a derived answer (e.g. a band or a yes/no), not the "
                                      "value itself")


class RegisteredAgreementOut(BaseModel):
    id: int
    provider: PartyOut
    consumer: PartyOut
    dataset: str = Field(description="the dataset's title")
    purpose: str
    legal_basis: str
    legal_basis_words: Words
    fields: list[RegisteredFieldOut]
    valid_from: datetime
    valid_until: datetime
    status: str = Field(description="approved (in force) or suspended (it may resume)")

    @classmethod
    def of(cls, e: RegisterEntry) -> RegisteredAgreementOut:
        a = e.agreement
        assert a.id is not None
        return cls(
            id=a.id, provider=PartyOut(id=a.provider_id, name=e.provider_name),
            consumer=PartyOut(id=a.consumer_id, name=e.consumer_name),
            dataset=e.dataset_title, purpose=a.purpose_text, legal_basis=a.legal_basis.value,
            legal_basis_words=Words(**LEGAL_BASIS_WORDS[a.legal_basis]),
            fields=[RegisteredFieldOut(
                name=f.name, label=Words(**{lang: f.label_in(lang) for lang in LANGUAGES}),
                description=Words(**{lang: f.spec.description_in(lang) if f.spec else ""
                                     for lang in LANGUAGES}),
                derived=f.derived) for f in e.fields],
            valid_from=a.valid_from, valid_until=a.valid_until, status=a.status.value)


class RegisterOut(BaseModel):
    published_at: datetime = Field(description="when this copy of the register was read")
    agreements: list[RegisteredAgreementOut]
