"""Validated value types used inside events."""

from gonghui_contracts.values.credit_code import CreditCode
from gonghui_contracts.values.enums import (
    NEW_EMPLOYMENT_FORM_INDUSTRIES,
    Admission,
    CompensationProblem,
    Industry,
    InjuryKind,
    JoinChannel,
    PartnerKind,
    Service,
    Severity,
)
from gonghui_contracts.values.money import Yuan, yuan
from gonghui_contracts.values.phone import MobilePhone, mask_mobile
from gonghui_contracts.values.regions import (
    Region,
    RegionCode,
    guangdong_regions,
    local_federation,
    region,
)
from gonghui_contracts.values.resident_id import ResidentId, age_on, birth_date

__all__ = [
    "NEW_EMPLOYMENT_FORM_INDUSTRIES",
    "Admission",
    "CompensationProblem",
    "CreditCode",
    "Industry",
    "InjuryKind",
    "JoinChannel",
    "MobilePhone",
    "PartnerKind",
    "Region",
    "RegionCode",
    "ResidentId",
    "Service",
    "Severity",
    "Yuan",
    "age_on",
    "birth_date",
    "guangdong_regions",
    "local_federation",
    "mask_mobile",
    "region",
    "yuan",
]
