"""The demo world's fixed parts (docs/demo-world.md): organisations, identifier schemes, datasets
and the agreements the demo starts with. Synthetic: no real person's data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from onceonly.demo.field_labels import FIELD_WORDS
from onceonly.domain.agreements import FieldGrant, LegalBasis, Risk
from onceonly.domain.catalogue import FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.special_category import ProcessingCondition

EXCHANGE_ORG = "GOV/EXCHANGE"

ORGANISATIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (EXCHANGE_ORG, "onceonly exchange operator", [
        ("changes-of-name", "Changes of name told by citizens"),
        ("changes-of-address", "Changes of address told by citizens")]),
    ("GOV/GRO", "General Register Office", [
        ("civil-registration", "Civil registration"), ("deaths", "Deaths registered"),
        ("births", "Births registered"), ("marriages", "Marriages registered")]),
    ("GOV/HMRC", "HM Revenue & Customs", [("income", "Income and tax")]),
    ("GOV/DWP", "Department for Work and Pensions", [("benefits", "Benefits in payment")]),
    ("GOV/DVLA", "Driver and Vehicle Licensing Agency", [("licences", "Driving licences")]),
    ("GOV/HMPO", "HM Passport Office", [("passports", "Passports")]),
    ("LA/NORTHSHIRE", "Northshire County Council", [("council-services", "Council services")]),
    ("NHS/NHSE", "NHS England", [("patient-record", "Patient record")]),
    ("GOV/VETERANS", "Veterans UK", [("armed-forces-pension", "Armed forces pension")]),
    ("COM/ACME", "Acme Assessments Ltd", []),
    ("COM/NORTHBANK", "Northbank plc", []),
    ("POL/MET", "Metropolitan Police", []),
]

# code, name, issuing organisation
SCHEMES: list[tuple[str, str, str]] = [
    ("grn", "GRO registration number", "GOV/GRO"),
    ("nino", "National Insurance number", "GOV/HMRC"),
    ("driver", "Driver number", "GOV/DVLA"),
    ("vrm", "Vehicle registration mark (the keeper)", "GOV/DVLA"),
    ("passport", "Passport number", "GOV/HMPO"),
    ("ctr", "Council tax reference", "LA/NORTHSHIRE"),
    ("nhs", "NHS number", "NHS/NHSE"),
    ("service", "Service number", "GOV/VETERANS"),
    ("northbank", "Northbank customer number", "COM/NORTHBANK"),
    ("pairwise", "Pairwise pseudonym (one per consumer)", EXCHANGE_ORG),
]

# How each organisation names a person when it asks; any other scheme is refused as another
# organisation's identifier. Those with no identifier of their own use the one their work
# arrives with (ACME's referrals come with a NINO, the police have a vehicle's registration
# mark or a driver number, a mortgage applicant gives the bank their NINO, a council tax
# reduction claim a NINO) and are named people back by a pairwise pseudonym, by which they
# may ask again. Northbank has its customer number, which no one else may use.
ORG_SCHEMES: dict[str, list[str]] = {
    "GOV/GRO": ["grn"],
    "GOV/HMRC": ["nino"],
    "GOV/DWP": ["nino"],
    "GOV/DVLA": ["driver", "vrm"],
    "GOV/HMPO": ["passport"],
    "LA/NORTHSHIRE": ["ctr", "nino"],
    "NHS/NHSE": ["nhs"],
    "GOV/VETERANS": ["service"],
    "COM/NORTHBANK": ["northbank", "nino"],
    "COM/ACME": ["nino", "pairwise"],
    "POL/MET": ["vrm", "driver", "pairwise"],
}

S, D, N, B, L = (FieldType.STRING, FieldType.DATE, FieldType.INTEGER, FieldType.BOOLEAN,
                 FieldType.LIST)
PUB, PER, SPE = Sensitivity.PUBLIC, Sensitivity.PERSONAL, Sensitivity.SPECIAL
VER, CIT = SourceLabel.VERIFIED, SourceLabel.CITIZEN_SUPPLIED


def _f(name: str, kind: FieldType, sensitivity: Sensitivity, source: SourceLabel,
       description: str) -> FieldSpec:
    label, label_cy, description_cy = FIELD_WORDS[name]
    return FieldSpec(name, kind, sensitivity, source, description, label, label_cy,
                     description_cy)


@dataclass(frozen=True)
class DemoDataset:
    id: str
    title: str
    table: str
    scheme: str
    fields: tuple[FieldSpec, ...]

    @property
    def provider_id(self) -> str:
        return self.id.rsplit("/", 1)[0]


DATASETS: list[DemoDataset] = [
    DemoDataset("GOV/GRO/civil-registration", "Civil registration", "registrations", "grn", (
        _f("full_name", S, PER, VER, "name as registered"),
        _f("date_of_birth", D, PER, VER, "date of birth"),
        _f("date_of_death", D, PER, VER, "date of death, if registered"),
        _f("place_of_death", S, PER, VER, "place of death, if registered"),
        _f("marital_status", S, PER, VER, "single, married, widowed, divorced"),
    )),
    DemoDataset("GOV/HMRC/income", "Income and tax", "income", "nino", (
        _f("full_name", S, PER, VER, "name"),
        _f("address", S, PER, CIT, "postal address"),
        _f("annual_income", N, PER, VER, "annual income in pounds"),
        _f("tax_code", S, PER, VER, "PAYE tax code"),
        _f("child_benefit_claimant", B, PER, VER, "claims child benefit"),
    )),
    DemoDataset("GOV/DWP/benefits", "Benefits in payment", "benefits", "nino", (
        _f("full_name", S, PER, VER, "name"),
        _f("address", S, PER, CIT, "postal address"),
        _f("benefits_in_payment", L, PER, VER, "benefits currently paid"),
        _f("award_amount", N, PER, VER, "monthly award in pounds"),
        _f("appointee", S, PER, VER, "person appointed to act for the claimant"),
    )),
    DemoDataset("GOV/DVLA/licences", "Driving licences", "licences", "driver", (
        _f("full_name", S, PER, VER, "name"),
        _f("address", S, PER, CIT, "postal address"),
        _f("licence_status", S, PER, VER, "valid, expired, revoked, cancelled"),
        _f("entitlements", L, PER, VER, "licence categories"),
        _f("registered_vehicles", L, PER, VER, "registration marks kept"),
    )),
    DemoDataset("GOV/HMPO/passports", "Passports", "passports", "passport", (
        _f("full_name", S, PER, VER, "name on the passport"),
        _f("nationality", S, PER, VER, "nationality"),
        _f("passport_status", S, PER, VER, "valid, expired, cancelled"),
        _f("passport_expiry", D, PER, VER, "expiry date"),
    )),
    DemoDataset("LA/NORTHSHIRE/council-services", "Council services", "residents", "ctr", (
        _f("address", S, PER, CIT, "address of the property"),
        _f("council_tax_band", S, PUB, VER, "band A to H"),
        _f("single_person_discount", B, PER, CIT, "single-person discount applied"),
        _f("blue_badge", B, PER, VER, "holds a blue badge"),
        _f("electoral_registration", B, PER, CIT, "on the electoral register"),
    )),
    DemoDataset("NHS/NHSE/patient-record", "Patient record", "patients", "nhs", (
        _f("gp_practice", S, PER, VER, "registered GP practice"),
        _f("registered_address", S, PER, CIT, "registered address"),
        _f("conditions", L, SPE, VER, "recorded conditions (special category)"),
    )),
    DemoDataset("GOV/VETERANS/armed-forces-pension", "Armed forces pension", "pensions",
                "service", (
        _f("pension_in_payment", B, PER, VER, "an armed forces pension is paid"),
        _f("pension_amount", N, PER, VER, "monthly pension in pounds"),
    )),
]


@dataclass(frozen=True)
class DemoAgreement:
    number: int
    consumer: str
    dataset: str
    grants: tuple[FieldGrant, ...]
    purpose: str
    purpose_text: str
    basis: LegalBasis
    risk: Risk
    duration: timedelta = timedelta(days=3 * 365)
    per_day: int = 100_000
    retention_days: int = 365
    hidden_days: int = 0
    bulk_max_records: int | None = None
    approvers: tuple[str, ...] = ("guardian",)
    notes: str = field(default="")
    condition: ProcessingCondition | None = None  # for special-category data (Art. 9)


AGREEMENTS: list[DemoAgreement] = [
    DemoAgreement(
        1, "GOV/DWP", "GOV/HMRC/income",
        (FieldGrant("income_band", "annual_income", "income_band"),),
        "benefit-entitlement", "Assess entitlement to means-tested benefits",
        LegalBasis.STATUTORY_DUTY, Risk.MEDIUM,
    ),
    DemoAgreement(
        2, "LA/NORTHSHIRE", "GOV/DWP/benefits",
        (FieldGrant("receives_universal_credit", "benefits_in_payment",
                    "receives_universal_credit"),),
        "council-tax-reduction", "Decide council tax reduction for Universal Credit claimants",
        LegalBasis.PUBLIC_TASK, Risk.LOW,
    ),
    DemoAgreement(
        3, "COM/ACME", "GOV/DWP/benefits",
        (FieldGrant("full_name", "full_name"), FieldGrant("address", "address"),
         FieldGrant("benefits_in_payment", "benefits_in_payment")),
        "disability-assessment", "Carry out disability assessments for referred claimants",
        LegalBasis.PUBLIC_TASK, Risk.MEDIUM, duration=timedelta(days=90), per_day=2_000,
        retention_days=90, bulk_max_records=100,
        notes="private contractor: access ends with the contract; a batch of referrals may "
              "come as a bulk extract, each approved by DWP's guardian",
    ),
    DemoAgreement(
        4, "COM/NORTHBANK", "GOV/HMRC/income",
        (FieldGrant("income_band", "annual_income", "income_band"),),
        "mortgage-affordability", "Check mortgage affordability with the applicant's consent",
        LegalBasis.CONSENT, Risk.MEDIUM, per_day=5_000, retention_days=30,
    ),
    DemoAgreement(
        5, "POL/MET", "GOV/DVLA/licences",
        (FieldGrant("full_name", "full_name"), FieldGrant("address", "address")),
        "crime-prevention", "Identify the keeper of a vehicle in a criminal investigation",
        LegalBasis.STATUTORY_DUTY, Risk.MEDIUM, retention_days=730, hidden_days=90,
        notes="hidden from the citizen's access log for 90 days",
    ),
    DemoAgreement(
        6, "GOV/DVLA", "NHS/NHSE/patient-record",
        (FieldGrant("fit_to_drive", "conditions", "fit_to_drive"),),
        "driver-medical-fitness", "Confirm medical fitness to drive without seeing conditions",
        LegalBasis.CONSENT, Risk.HIGH, approvers=("guardian", "guardian-2"),
        condition=ProcessingCondition.EXPLICIT_CONSENT,
    ),
]


# Tell us once: the registers life events are reported to, and who is told of each.
@dataclass(frozen=True)
class DemoRegister:
    id: str  # a dataset of the register's organisation
    event_type: str
    title: str

    @property
    def provider_id(self) -> str:
        return self.id.rsplit("/", 1)[0]


_T = "gov.onceonly."
REGISTERS: list[DemoRegister] = [
    DemoRegister("GOV/GRO/deaths", _T + "death.registered", "Deaths registered"),
    DemoRegister("GOV/GRO/births", _T + "birth.registered", "Births registered"),
    DemoRegister("GOV/GRO/marriages", _T + "marriage.registered", "Marriages registered"),
    DemoRegister(f"{EXCHANGE_ORG}/changes-of-name", _T + "name.changed",
                 "Changes of name told by citizens"),
    DemoRegister(f"{EXCHANGE_ORG}/changes-of-address", _T + "address.changed",
                 "Changes of address told by citizens"),
]


@dataclass(frozen=True)
class DemoSubscription:
    receiver: str
    register: str
    fields: tuple[str, ...]
    purpose: str
    purpose_text: str
    basis: LegalBasis = LegalBasis.STATUTORY_DUTY  # required: the informant cannot opt out


_DEATH, _NAME, _ADDRESS = "GOV/GRO/deaths", f"{EXCHANGE_ORG}/changes-of-name", \
    f"{EXCHANGE_ORG}/changes-of-address"
_NEW_NAME = ("new_full_name", "effective_date")
_NEW_ADDRESS = ("new_address", "effective_date")
SUBSCRIPTIONS: list[DemoSubscription] = [
    DemoSubscription("GOV/HMRC", _DEATH, ("date_of_death",), "close-tax-affairs",
                     "Settle the deceased's tax affairs and stop tax credits"),
    DemoSubscription("GOV/DWP", _DEATH, ("date_of_death",), "stop-benefits",
                     "Stop benefit payments and settle the estate's overpayments"),
    DemoSubscription("GOV/DVLA", _DEATH, ("full_name", "date_of_death"), "cancel-licence",
                     "Cancel the driving licence of the deceased"),
    DemoSubscription("GOV/HMPO", _DEATH, ("full_name", "date_of_death"), "cancel-passport",
                     "Cancel the passport so it cannot be used by another"),
    DemoSubscription("LA/NORTHSHIRE", _DEATH, ("date_of_death",), "review-council-tax",
                     "Review council tax discounts and the electoral register",
                     LegalBasis.PUBLIC_TASK),
    DemoSubscription("NHS/NHSE", _DEATH, ("date_of_death", "place_of_death"), "close-record",
                     "Close the patient registration"),
    DemoSubscription("GOV/VETERANS", _DEATH, ("date_of_death",), "stop-pension",
                     "Stop the armed forces pension", LegalBasis.PUBLIC_TASK),
    *(DemoSubscription(org, _NAME, _NEW_NAME, "update-name", "Keep the record's name current",
                       LegalBasis.PUBLIC_TASK)
      for org in ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO", "LA/NORTHSHIRE", "NHS/NHSE")),
    *(DemoSubscription(org, _ADDRESS, _NEW_ADDRESS, "update-address",
                       "Keep the record's address current", LegalBasis.PUBLIC_TASK)
      for org in ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "LA/NORTHSHIRE", "NHS/NHSE")),
    DemoSubscription("GOV/HMRC", "GOV/GRO/births", ("child_full_name", "child_date_of_birth"),
                     "child-benefit", "Invite a child benefit claim"),
    DemoSubscription("NHS/NHSE", "GOV/GRO/births", ("child_full_name", "child_date_of_birth",
                                                    "child_registration_number"),
                     "register-newborn", "Register the newborn with a GP"),
    DemoSubscription("GOV/HMRC", "GOV/GRO/marriages", ("date_of_marriage", "new_full_name"),
                     "marriage-allowance", "Update marital status and name for tax"),
    DemoSubscription("GOV/DWP", "GOV/GRO/marriages", ("date_of_marriage", "new_full_name"),
                     "household-benefits", "Reassess household benefits"),
]

# How each receiver takes its notifications in the demo: a webhook, else its inbox.
WEBHOOK_RECEIVERS = ("GOV/HMRC", "GOV/DWP", "GOV/DVLA", "GOV/HMPO")
