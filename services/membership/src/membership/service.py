"""membership's use cases, shared by the Kafka handlers and the HTTP API.

Each takes a Unit (an open transaction plus the outbox) and changes state through the rules in
`domain`; the events they emit are published only if the transaction commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import func, select

from gonghui_contracts import EnvelopeHead, RejectionReason
from gonghui_contracts.events.membership import (
    JoinRequested,
    MemberIdentified,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
)
from gonghui_contracts.values import Industry, region
from membership import domain
from membership.models import (
    MEMBER_NAME,
    MEMBER_PHONE,
    MEMBER_RESIDENT_ID,
    Member,
    MemberHistory,
)
from servicekit import Unit
from servicekit.pii import PiiVault


@dataclass(frozen=True)
class JoinResult:
    outcome: Literal["joined", "already_member", "rejected"]
    member_id: uuid.UUID | None = None
    union: domain.Union | None = None
    reasons: tuple[RejectionReason, ...] = ()


class MemberNotFound(LookupError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


async def join(
    unit: Unit,
    vault: PiiVault,
    request: JoinRequested,
    today: date,
    cause: EnvelopeHead | None = None,
) -> JoinResult:
    """Make the applicant a member, once. Repeats return the existing membership."""
    problems = domain.eligibility_problems(request.resident_id, today)
    if problems:
        return JoinResult("rejected", reasons=tuple(problems))
    member = await find_person(unit, vault, request.resident_id)
    if member is not None and member.status == domain.MemberStatus.ACTIVE:
        return JoinResult("already_member", member.member_id, _union_of(member))
    union = domain.union_for(request.region_code, request.industry)
    if member is None:
        member = Member(member_id=uuid.uuid4(), person_key=vault.fingerprint(request.resident_id))
        unit.session.add(member)
    _fill(member, vault, request, union, today)
    unit.session.add(
        MemberHistory(
            member_id=member.member_id, at=_now(), change="joined", to_union_id=union.union_id
        )
    )
    await unit.session.flush()  # the unique person_key decides a race between two replicas here
    unit.emit(
        MemberJoined(
            member_id=member.member_id,
            union_id=union.union_id,
            union_name=union.name,
            region_code=request.region_code,
            city_code=member.city_code,
            industry=request.industry,
            new_employment_form=member.new_employment_form,
            channel=request.channel,
            joined_on=today,
            partner_id=request.partner_id,
        ),
        key=str(member.member_id),
        cause=cause,
    )
    unit.emit(
        MemberIdentified(
            member_id=member.member_id,
            resident_id=request.resident_id,
            union_id=union.union_id,
            region_code=request.region_code,
            city_code=member.city_code,
        ),
        key=str(member.member_id),
        cause=cause,
    )
    return JoinResult("joined", member.member_id, union)


async def find_person(unit: Unit, vault: PiiVault, resident_id: str) -> Member | None:
    """The member with this resident ID, whichever key of the ring made its fingerprint."""
    fingerprints = vault.fingerprints(resident_id)
    member: Member | None = await unit.session.scalar(
        select(Member).where(Member.person_key.in_(fingerprints))
    )
    return member


def _fill(
    member: Member, vault: PiiVault, request: JoinRequested, union: domain.Union, today: date
) -> None:
    member_id = member.member_id
    member.resident_id_enc = vault.encrypt(request.resident_id, MEMBER_RESIDENT_ID.at(member_id))
    member.phone_enc = vault.encrypt(request.phone, MEMBER_PHONE.at(member_id))
    member.name_enc = vault.encrypt(request.name, MEMBER_NAME.at(member_id))
    member.union_id = union.union_id
    member.region_code = request.region_code
    member.city_code = region(request.region_code).city_code
    member.industry = request.industry.value
    member.new_employment_form = domain.is_new_employment_form(request.industry)
    member.channel = request.channel.value
    member.partner_id = request.partner_id
    member.status = domain.MemberStatus.ACTIVE.value
    member.joined_on = today
    member.left_on = None


def _union_of(member: Member) -> domain.Union:
    return domain.union_for(member.region_code, Industry(member.industry))


async def get_member(unit: Unit, member_id: uuid.UUID) -> Member:
    member = await unit.session.get(Member, member_id)
    if member is None:
        raise MemberNotFound(f"no member {member_id}")
    return member


async def transfer(
    unit: Unit,
    member_id: uuid.UUID,
    *,
    region_code: str,
    industry: Industry,
    reason: str,
    today: date,
) -> domain.Union:
    member = await get_member(unit, member_id)
    target = domain.union_for(region_code, industry)
    domain.check_transfer(domain.MemberStatus(member.status), member.union_id, target)
    previous = member.union_id
    member.union_id, member.region_code = target.union_id, region_code
    member.city_code, member.industry = region(region_code).city_code, industry.value
    member.new_employment_form = domain.is_new_employment_form(industry)
    unit.session.add(
        MemberHistory(
            member_id=member_id,
            at=_now(),
            change="transferred",
            from_union_id=previous,
            to_union_id=target.union_id,
            reason=reason,
        )
    )
    unit.emit(
        MemberTransferred(
            member_id=member_id,
            from_union_id=previous,
            to_union_id=target.union_id,
            reason=reason,
            transferred_on=today,
        ),
        key=str(member_id),
    )
    return target


async def leave(unit: Unit, member_id: uuid.UUID, reason: str, today: date) -> None:
    member = await get_member(unit, member_id)
    domain.check_leave(domain.MemberStatus(member.status))
    member.status, member.left_on = domain.MemberStatus.LEFT.value, today
    unit.session.add(
        MemberHistory(
            member_id=member_id,
            at=_now(),
            change="left",
            from_union_id=member.union_id,
            reason=reason,
        )
    )
    unit.emit(
        MemberLeft(member_id=member_id, union_id=member.union_id, reason=reason, left_on=today),
        key=str(member_id),
    )


async def history(unit: Unit, member_id: uuid.UUID) -> list[MemberHistory]:
    rows = await unit.session.scalars(
        select(MemberHistory).where(MemberHistory.member_id == member_id).order_by(MemberHistory.id)
    )
    return list(rows)


COVERAGE_DIMENSIONS = {
    "city": Member.city_code,
    "county": Member.region_code,
    "industry": Member.industry,
    "new_employment_form": Member.new_employment_form,
}


async def coverage(unit: Unit, by: str) -> dict[str, dict[str, int]]:
    """Active and former members counted by one dimension."""
    column = COVERAGE_DIMENSIONS[by]
    rows = await unit.session.execute(
        select(column, Member.status, func.count()).group_by(column, Member.status)
    )
    counts: dict[str, dict[str, int]] = {}
    for value, status, count in rows:
        counts.setdefault(str(value), {"active": 0, "left": 0})[status] = count
    return counts
