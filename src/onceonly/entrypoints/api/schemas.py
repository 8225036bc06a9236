"""The API's request and response bodies (OpenAPI 3.1 comes from these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from onceonly.domain.agreements import MAX_HIDDEN_DAYS, Agreement, LegalBasis, Risk
from onceonly.domain.anomaly import Alert
from onceonly.domain.bulk import BulkExtract
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.organisations import ORG_ID_PATTERN


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# Last in a StrictInt's annotations (after its constraints, or the document loses them): a
# JSON number with no fractional part (79.0) is the integer it equals, as JSON Schema's
# `integer` says; strings and booleans stay refused.
AsWhole = BeforeValidator(_whole)
FieldName = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
# Free text: anything printable; a NUL byte is refused (PostgreSQL cannot store one).
Text = Annotated[StrictStr, Field(pattern=r"^[^\x00]*$")]


def _space_class() -> str:
    """The characters Python's str.strip() removes, as a regular-expression class body."""
    spaces = [c for c in range(0x110000) if chr(c).isspace()]
    runs: list[tuple[int, int]] = []
    for c in spaces:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)


# What someone must say (a reason, what is wrong): the domain refuses it blank
# (`reason_required`, audited), so the document asks for one character that is not a space.
Said = Annotated[Text, Field(min_length=1, max_length=2000, json_schema_extra={
    "pattern": f"^[^\\x00]*[^\\x00{_space_class()}][^\\x00]*$"})]
MAX_AGREEMENT_ID = 2**31 - 1  # agreement ids are positive 32-bit integers in the database
MAX_BULK_SUBJECTS = 400
DatasetId = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2,8}/[A-Z0-9_-]{1,32}/[a-z0-9_-]{1,32}$",
                                       examples=["GOV/HMRC/income"])]
PurposeCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9-]{1,63}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    code: str = Field(description="machine-readable reason, e.g. field_not_in_agreement")
    detail: str = Field(description="what went wrong and what to do")


class InternalProblem(Problem):
    request_id: str = Field(description="the request's id (also in X-Request-Id): the server "
                                        "logged the fault under it")


class SubjectIn(Strict):
    scheme: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$",
                                       examples=["nino"])]
    value: Annotated[StrictStr, Field(min_length=1, max_length=64,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$",
                                      examples=["QQ123456C"])]


class QueryIn(Strict):
    agreement_id: Annotated[StrictInt, Field(gt=0, le=MAX_AGREEMENT_ID), AsWhole]
    subject: SubjectIn
    fields: Annotated[list[FieldName], Field(min_length=1, max_length=64)]
    purpose: PurposeCode


class ReleaseOut(BaseModel):
    release_id: str
    agreement_id: int
    subject: SubjectIn
    data: dict[str, Any]
    sources: dict[str, str] = Field(
        description="each field's source label: verified, citizen-supplied or derived")
    released_at: datetime


class GrantIn(Strict):
    name: FieldName
    source: FieldName
    transform: Annotated[StrictStr, Field(default="as_is", pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class PurposeIn(Strict):
    code: PurposeCode
    text: Said


class AssessmentIn(Strict):
    risk: Risk
    summary: Annotated[Text, Field(min_length=1, max_length=4000)]
    assessed_by: Annotated[Text, Field(min_length=1, max_length=200)]
    assessed_on: date


class AgreementIn(Strict):
    dataset_id: DatasetId
    fields: Annotated[list[GrantIn], Field(min_length=1, max_length=64)]
    purpose: PurposeIn
    legal_basis: LegalBasis
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    max_queries_per_day: Annotated[StrictInt, Field(ge=1, le=10_000_000), AsWhole]
    retention_days: Annotated[StrictInt, Field(ge=0, le=36_500), AsWhole]
    hidden_days: Annotated[StrictInt, Field(
        ge=0, le=MAX_HIDDEN_DAYS,
        description="days each access stays out of the citizen's access log (it is in the "
                    "audit tree from the start)"), AsWhole] = 0
    max_persons_per_day: Annotated[StrictInt | None, Field(
        ge=1, le=10_000_000, description="distinct people a day (none if left out)"),
        AsWhole] = None
    max_uses: Annotated[StrictInt | None, Field(
        ge=1, le=10_000_000, description="releases over the agreement's life; 1 for a "
                                         "one-time agreement (none if left out)"), AsWhole] = None
    bulk_max_records: Annotated[StrictInt | None, Field(
        ge=1, le=1_000_000, description="bulk extracts allowed, each approved by the "
                                        "provider's guardian, of at most this many people "
                                        "(none if left out)"), AsWhole] = None
    privacy_assessment: AssessmentIn | None = None


class ReasonIn(Strict):
    reason: Said


class TransitionOut(BaseModel):
    at: datetime
    actor: str
    organisation: str
    action: str
    from_status: str | None
    to_status: str
    reason: str


class AgreementOut(BaseModel):
    id: int
    provider: str
    consumer: str
    dataset_id: str
    fields: list[GrantIn]
    purpose: PurposeIn
    legal_basis: LegalBasis
    valid_from: datetime
    valid_until: datetime
    max_queries_per_day: int
    retention_days: int
    hidden_days: int
    max_persons_per_day: int | None
    max_uses: int | None
    bulk_max_records: int | None
    kind: str = Field(description="query (per-person queries) or notification (life events)")
    privacy_assessment: AssessmentIn | None
    status: str = Field(description="stored lifecycle status")
    state: str = Field(description="what applies now: active, pending, expired, or the status")
    approvals: list[str]
    approvals_required: int
    history: list[TransitionOut]

    @classmethod
    def of(cls, a: Agreement, now: datetime) -> AgreementOut:
        assert a.id is not None
        return cls(
            id=a.id,
            provider=a.provider_id,
            consumer=a.consumer_id,
            dataset_id=a.dataset_id,
            fields=[GrantIn(name=g.name, source=g.source, transform=g.transform)
                    for g in a.grants],
            purpose=PurposeIn(code=a.purpose_code, text=a.purpose_text),
            legal_basis=a.legal_basis,
            valid_from=a.valid_from,
            valid_until=a.valid_until,
            max_queries_per_day=a.max_queries_per_day,
            retention_days=a.retention_days,
            hidden_days=a.hidden_days,
            max_persons_per_day=a.max_persons_per_day,
            max_uses=a.max_uses,
            bulk_max_records=a.bulk_max_records,
            kind=a.kind.value,
            privacy_assessment=None if a.assessment is None else AssessmentIn(
                risk=a.assessment.risk,
                summary=a.assessment.summary,
                assessed_by=a.assessment.assessed_by,
                assessed_on=a.assessment.assessed_on,
            ),
            status=a.status.value,
            state=a.state_at(now),
            approvals=list(a.approvals),
            approvals_required=a.approvals_required,
            history=[
                TransitionOut(
                    at=h.at, actor=h.actor_id, organisation=h.actor_org, action=h.action,
                    from_status=h.from_status.value if h.from_status else None,
                    to_status=h.to_status.value, reason=h.reason,
                )
                for h in a.history
            ],
        )


class FieldOut(BaseModel):
    name: str
    type: str
    sensitivity: str
    source: str
    description: str


class DatasetOut(BaseModel):
    id: str
    provider: str
    title: str
    subject_scheme: str
    fields: list[FieldOut]


class OrganisationOut(BaseModel):
    id: str
    name: str
    systems: list[str]


class TransformOut(BaseModel):
    name: str
    derived: bool
    description: str


class CatalogueOut(BaseModel):
    organisations: list[OrganisationOut]
    datasets: list[DatasetOut]
    transforms: list[TransformOut]


# -- the audit log ------------------------------------------------------------------------

Base64 = Annotated[str, Field(description="base64 (RFC 4648 §4, padded)")]


class HeadRefOut(BaseModel):
    tree_size: int
    root_hash: Base64


class TreeHeadOut(BaseModel):
    tree_size: int
    root_hash: Base64
    timestamp: int = Field(description="milliseconds since the Unix epoch")
    previous: HeadRefOut | None = Field(
        None, description="the head signed just before this one (size 0 and the empty "
                          "tree's root for the first), so a head deleted from the chain is "
                          "missed; null on heads signed before heads named it")
    signature: str = Field(description="compact JWS (Ed25519) whose payload is the RFC 8785 JSON "
                                       "of {tree_size, root_hash, timestamp, previous} "
                                       "(previous left out where null); keys at "
                                       "/.well-known/jwks.json")


class AuditEntryOut(BaseModel):
    index: int
    entry: dict[str, Any] = Field(description="the entry; its RFC 8785 form is the leaf")
    leaf: Base64 = Field(description="the leaf bytes the Merkle tree commits to")


class UnreadableEntryOut(BaseModel):
    """An entry whose stored row does not read as an entry (changed behind the log's back):
    listed in its place, with why, so the rest of the page is still served."""

    index: int
    code: str = Field(description="entry_unreadable")
    detail: str = Field(description="why the row does not read")


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut | UnreadableEntryOut] = Field(
        description="newest first; an entry that does not read is an item with `code` "
                    "`entry_unreadable` in place of `entry` and `leaf`")
    next_before: int | None = Field(description="pass as `before` for the next, older page")


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: Base64
    audit_path: list[Base64] = Field(description="RFC 9162 §2.1.3.1 PATH(leaf_index, "
                                                 "D[tree_size])")


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    consistency_path: list[Base64] = Field(description="RFC 9162 §2.1.4.1 PROOF(first, "
                                                       "D[second])")


class AccessOut(BaseModel):
    index: int = Field(description="the audit entry: check its inclusion proof")
    at: datetime
    organisation: str
    provider: str | None
    purpose: str | None
    officer: str | None = Field(description="a pseudonym, stable per officer")
    fields: list[str]
    outcome: str = Field(description="released or refused")
    reason: str | None


class AccessLogOut(BaseModel):
    accesses: list[AccessOut]
    next_before: int | None


# -- the kill switch -----------------------------------------------------------------------

OrgId = Annotated[StrictStr, Field(pattern=ORG_ID_PATTERN, description="e.g. COM/ACME")]


class KillSwitchIn(Strict):
    consumer: OrgId
    reason: Said


class KillSwitchOut(BaseModel):
    id: int
    provider: str
    consumer: str
    agreements: list[int] = Field(description="the agreements it suspended")
    pulled_by: str
    pulled_at: datetime
    reason: str
    restored_by: str | None
    restored_at: datetime | None
    restore_reason: str | None

    @classmethod
    def of(cls, switch: KillSwitch) -> KillSwitchOut:
        assert switch.id is not None
        return cls(id=switch.id, provider=switch.provider_id, consumer=switch.consumer_id,
                   agreements=list(switch.agreement_ids), pulled_by=switch.pulled_by,
                   pulled_at=switch.pulled_at, reason=switch.reason,
                   restored_by=switch.restored_by, restored_at=switch.restored_at,
                   restore_reason=switch.restore_reason)


class AlertOut(BaseModel):
    id: int
    at: datetime
    provider: str
    consumer: str
    agreement_id: int
    officer: str | None = Field(description="the officer whose pattern fired, if one did")
    suspended: str = Field(description="what was suspended: 'officer' (that officer, from "
                                       "the provider's data) or 'agreement'")
    rule: str
    evidence: dict[str, Any]
    status: str = Field(description="open, resumed or revoked")
    resolved_by: str | None
    resolved_at: datetime | None
    resolution: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(id=alert.id, at=alert.at, provider=alert.provider_id,
                   consumer=alert.consumer_id, agreement_id=alert.agreement_id,
                   officer=alert.officer_id, suspended=alert.suspended, rule=alert.rule,
                   evidence=alert.evidence,
                   status=alert.status, resolved_by=alert.resolved_by,
                   resolved_at=alert.resolved_at, resolution=alert.resolution)


# -- bulk extracts --------------------------------------------------------------------------


_COORDINATE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$",
               "description": "32 bytes, base64url without padding"}
# The public JWKs an extract can be encrypted to (crypto/jwe.py: recipient_key), with the
# RFC 7517 members it reads typed as it checks them.
PUBLIC_JWK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kty": {"enum": ["OKP", "EC"]},
        "crv": {"enum": ["X25519", "P-256"]},
        "x": _COORDINATE,
        "y": _COORDINATE,
        "kid": {"type": "string"},
        "use": {"enum": ["enc", "sig"]},
        "alg": {"type": "string"},
        "key_ops": {"type": "array", "items": {"enum": [
            "sign", "verify", "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey",
            "deriveBits"]}},
    },
    "required": ["kty", "crv", "x"],
    "additionalProperties": False,
    "oneOf": [
        {"properties": {"kty": {"const": "OKP"}, "crv": {"const": "X25519"}},
         "not": {"required": ["y"]}},
        {"properties": {"kty": {"const": "EC"}, "crv": {"const": "P-256"}},
         "required": ["y"]},
    ],
}


class BulkExtractIn(Strict):
    agreement_id: Annotated[StrictInt, Field(gt=0, le=MAX_AGREEMENT_ID), AsWhole]
    purpose: PurposeCode
    # Within the 64 KiB body limit whatever the identifiers: a larger cohort is several asks.
    subjects: Annotated[list[SubjectIn], Field(min_length=1, max_length=MAX_BULK_SUBJECTS)]
    recipient_jwk: Annotated[dict[str, Any], WithJsonSchema(PUBLIC_JWK)] = Field(
        description="the consumer's public key (X25519 or P-256 JWK) the extract is "
                    "encrypted to; never a private key (no `d`). The key is checked on "
                    "intake (a P-256 point must lie on the curve): `recipient_key_invalid`")


class BulkExtractOut(BaseModel):
    id: int
    agreement_id: int
    requested_by: str
    requested_at: datetime
    purpose: str
    cohort_size: int
    status: str = Field(description="requested, approved, rejected or downloaded")
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    records: int | None = Field(description="people in the extract, once built")
    sha256: str | None = Field(description="SHA-256 of the extract's plaintext, as audited")
    expires_at: datetime | None

    @classmethod
    def of(cls, e: BulkExtract) -> BulkExtractOut:
        assert e.id is not None
        return cls(id=e.id, agreement_id=e.agreement_id, requested_by=e.requested_by,
                   requested_at=e.requested_at, purpose=e.purpose, cohort_size=e.cohort_size,
                   status=e.status, decided_by=e.decided_by, decided_at=e.decided_at,
                   reason=e.reason, records=e.records, sha256=e.sha256,
                   expires_at=e.expires_at)


class OperatorAlertOut(BaseModel):
    id: int
    at: datetime
    kind: str = Field(description="e.g. audit_entry_unreadable: integration of the audit log "
                                  "stopped at an entry that does not read")
    audit_index: int | None = Field(description="the audit entry it is about")
    detail: str
    cleared_at: datetime | None = Field(description="when the exchange found the cause gone; "
                                                    "null while open")
