"""Validated value types used inside events."""

from gonghui_contracts.values.enums import (
    NEW_EMPLOYMENT_FORM_INDUSTRIES,
    Industry,
    JoinChannel,
    PartnerKind,
    Service,
)
from gonghui_contracts.values.money import Yuan, yuan
from gonghui_contracts.values.phone import MobilePhone, mask_mobile
from gonghui_contracts.values.regions import Region, RegionCode, guangdong_regions, region
from gonghui_contracts.values.resident_id import ResidentId, age_on, birth_date

__all__ = [
    "NEW_EMPLOYMENT_FORM_INDUSTRIES",
    "Industry",
    "JoinChannel",
    "MobilePhone",
    "PartnerKind",
    "Region",
    "RegionCode",
    "ResidentId",
    "Service",
    "Yuan",
    "age_on",
    "birth_date",
    "guangdong_regions",
    "mask_mobile",
    "region",
    "yuan",
]
