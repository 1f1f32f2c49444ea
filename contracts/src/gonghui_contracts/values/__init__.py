"""Validated value types used inside events."""

from gonghui_contracts.values.credit_code import CreditCode
from gonghui_contracts.values.enums import (
    NEW_EMPLOYMENT_FORM_INDUSTRIES,
    Admission,
    CaseOutcome,
    CaseStage,
    CompensationProblem,
    DiagnosisCategory,
    DisputeKind,
    EmployerResponse,
    FilingChannel,
    Industry,
    InjuryKind,
    JoinChannel,
    LetterKind,
    PartnerKind,
    PriorityGroup,
    Service,
    Severity,
)
from gonghui_contracts.values.money import Yuan, to_cents, to_yuan, yuan
from gonghui_contracts.values.phone import MobilePhone, mask_mobile
from gonghui_contracts.values.regions import (
    Region,
    RegionCode,
    guangdong_regions,
    local_federation,
    region,
)
from gonghui_contracts.values.resident_id import ResidentId, age_on, birth_date, is_female
from gonghui_contracts.values.text import Identifier, Line, Text

__all__ = [
    "NEW_EMPLOYMENT_FORM_INDUSTRIES",
    "Admission",
    "CaseOutcome",
    "CaseStage",
    "CompensationProblem",
    "CreditCode",
    "DiagnosisCategory",
    "DisputeKind",
    "EmployerResponse",
    "FilingChannel",
    "Identifier",
    "Industry",
    "InjuryKind",
    "JoinChannel",
    "LetterKind",
    "Line",
    "MobilePhone",
    "PartnerKind",
    "PriorityGroup",
    "Region",
    "RegionCode",
    "ResidentId",
    "Service",
    "Severity",
    "Text",
    "Yuan",
    "age_on",
    "birth_date",
    "guangdong_regions",
    "is_female",
    "local_federation",
    "mask_mobile",
    "region",
    "to_cents",
    "to_yuan",
    "yuan",
]
