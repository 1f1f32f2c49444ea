"""Membership rules. Pure: no I/O, no framework; the handlers and the API call these.

- A person is a member once, identified by the resident ID.
- Members are 16 or older (the minimum working age in the PRC Labour Law).
- Every member belongs to one union: a platform worker to the city federation of that industry
  (couriers to the express-delivery federation, riders to the food-delivery one, ...), anyone
  else to the federation of their county.
- A transfer (会籍转接) moves an active member to another union; leaving ends the membership.
  Both are kept in the member's history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from gonghui_contracts import RejectionReason
from gonghui_contracts.values import (
    NEW_EMPLOYMENT_FORM_INDUSTRIES,
    Industry,
    age_on,
    local_federation,
    region,
)
from servicekit.identity import Caller, Role, is_member, staff_covers

MINIMUM_AGE = 16

INDUSTRY_FEDERATION_NAMES = {
    Industry.EXPRESS_DELIVERY: "快递行业工会联合会",
    Industry.FOOD_DELIVERY: "外卖配送行业工会联合会",
    Industry.RIDE_HAILING: "网约车行业工会联合会",
    Industry.FREIGHT: "货车司机行业工会联合会",
}


class MemberStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


@dataclass(frozen=True)
class Union:
    union_id: str
    name: str
    region_code: str


class MembershipError(ValueError):
    """A request the rules refuse; the message says why (and holds no personal data)."""


def union_for(region_code: str, industry: Industry) -> Union:
    """The union a worker of `industry` working in `region_code` belongs to."""
    place = region(region_code)
    if industry in INDUSTRY_FEDERATION_NAMES:
        return Union(
            union_id=f"{place.city_code}-{industry.value}",
            name=place.city_name + INDUSTRY_FEDERATION_NAMES[industry],
            region_code=place.city_code,
        )
    union_id, name = local_federation(place.code)
    return Union(union_id=union_id, name=name, region_code=place.code)


def is_new_employment_form(industry: Industry) -> bool:
    return industry in NEW_EMPLOYMENT_FORM_INDUSTRIES


def eligibility_problems(resident_id: str, today: date) -> list[RejectionReason]:
    """What keeps a (well-formed) applicant from joining; empty if nothing does."""
    if age_on(resident_id, today) < MINIMUM_AGE:
        return [
            RejectionReason(field="resident_id", rule=f"applicant must be {MINIMUM_AGE} or older")
        ]
    return []


def check_transfer(status: MemberStatus, current_union: str, target: Union) -> None:
    if status is not MemberStatus.ACTIVE:
        raise MembershipError("only an active member can transfer")
    if current_union == target.union_id:
        raise MembershipError("the member already belongs to that union")


def check_leave(status: MemberStatus) -> None:
    if status is not MemberStatus.ACTIVE:
        raise MembershipError("the member has already left")


def may_join(caller: Caller, resident_id: str, region_code: str) -> bool:
    """A member joins as the person the identity provider verified (the token's resident ID);
    union staff join a worker of a region their union covers."""
    own = caller.resident_id is not None and caller.resident_id.upper() == resident_id.upper()
    return (Role.MEMBER in caller.roles and own) or staff_covers(caller, region_code)


def in_scope(caller: Caller, member_id: uuid.UUID, region_code: str) -> bool:
    """A member's records: the member themself, or staff of a union covering their region."""
    return is_member(caller, member_id) or staff_covers(caller, region_code)
