"""membership's use cases, shared by the Kafka handlers and the HTTP API.

Each takes a Unit (an open transaction plus the outbox) and changes state through the rules in
`domain`; the events they emit are published only if the transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal, cast

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
from servicekit.db import insert_rows
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
    [result] = await join_all(unit, vault, [(request, cause)], today)
    return result


async def join_all(
    unit: Unit,
    vault: PiiVault,
    requests: Sequence[tuple[JoinRequested, EnvelopeHead | None]],
    today: date,
) -> list[JoinResult]:
    """Make each applicant a member, once, and say what became of each request (with its
    cause, if any). One lookup finds who is known already, one insert each adds the new members
    and their history. A repeat, in the batch or before it, returns the existing membership;
    the unique person_key decides a race with another replica (the insert fails)."""
    results: list[JoinResult | None] = [None] * len(requests)
    fingerprints: dict[int, list[str]] = {}
    for index, (request, _) in enumerate(requests):
        if problems := domain.eligibility_problems(request.resident_id, today):
            results[index] = JoinResult("rejected", reasons=tuple(problems))
        else:
            fingerprints[index] = vault.fingerprints(request.resident_id)
    known = await _members_by_fingerprint(unit, [f for fs in fingerprints.values() for f in fs])
    joined_now: dict[str, JoinResult] = {}  # by the active key's fingerprint
    members: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    for index, person in fingerprints.items():
        request, cause = requests[index]
        if (earlier := joined_now.get(person[0])) is not None:
            results[index] = JoinResult("already_member", earlier.member_id, earlier.union)
            continue
        member = next((known[f] for f in person if f in known), None)
        if member is not None and member.status == domain.MemberStatus.ACTIVE:
            results[index] = JoinResult("already_member", member.member_id, _union_of(member))
            continue
        union = domain.union_for(request.region_code, request.industry)
        if member is None:  # a newcomer, inserted with the batch
            member_id = uuid.uuid4()
            members.append(
                _member_row(member_id, person[0], request, union, vault=vault, today=today)
            )
        else:  # a former member rejoining
            member_id = member.member_id
            row = _member_row(
                member_id, member.person_key, request, union, vault=vault, today=today
            )
            for column, value in row.items():
                setattr(member, column, value)
        changes.append(
            {
                "member_id": member_id,
                "at": _now(),
                "change": "joined",
                "to_union_id": union.union_id,
            }
        )
        _emit_joined(unit, member_id, request, union, today=today, cause=cause)
        results[index] = joined_now[person[0]] = JoinResult("joined", member_id, union)
    await insert_rows(unit.session, Member, members)
    if changes:
        await unit.session.flush()  # a rejoiner's row before its history
        await insert_rows(unit.session, MemberHistory, changes)
    assert all(result is not None for result in results)
    return cast(list[JoinResult], results)


async def _members_by_fingerprint(unit: Unit, fingerprints: list[str]) -> dict[str, Member]:
    if not fingerprints:
        return {}
    rows = await unit.session.scalars(select(Member).where(Member.person_key.in_(fingerprints)))
    return {member.person_key: member for member in rows}


def _member_row(
    member_id: uuid.UUID,
    person_key: str,
    request: JoinRequested,
    union: domain.Union,
    *,
    vault: PiiVault,
    today: date,
) -> dict[str, object]:
    return {
        "member_id": member_id,
        "person_key": person_key,
        "resident_id_enc": vault.encrypt(request.resident_id, MEMBER_RESIDENT_ID.at(member_id)),
        "phone_enc": vault.encrypt(request.phone, MEMBER_PHONE.at(member_id)),
        "name_enc": vault.encrypt(request.name, MEMBER_NAME.at(member_id)),
        "union_id": union.union_id,
        "region_code": request.region_code,
        "city_code": region(request.region_code).city_code,
        "industry": request.industry.value,
        "new_employment_form": domain.is_new_employment_form(request.industry),
        "channel": request.channel.value,
        "partner_id": request.partner_id,
        "status": domain.MemberStatus.ACTIVE.value,
        "joined_on": today,
        "left_on": None,
    }


def _emit_joined(
    unit: Unit,
    member_id: uuid.UUID,
    request: JoinRequested,
    union: domain.Union,
    *,
    today: date,
    cause: EnvelopeHead | None,
) -> None:
    city_code = region(request.region_code).city_code
    unit.emit(
        MemberJoined(
            member_id=member_id,
            union_id=union.union_id,
            union_name=union.name,
            region_code=request.region_code,
            city_code=city_code,
            industry=request.industry,
            new_employment_form=domain.is_new_employment_form(request.industry),
            channel=request.channel,
            joined_on=today,
            partner_id=request.partner_id,
        ),
        key=str(member_id),
        cause=cause,
    )
    unit.emit(
        MemberIdentified(
            member_id=member_id,
            resident_id=request.resident_id,
            union_id=union.union_id,
            region_code=request.region_code,
            city_code=city_code,
        ),
        key=str(member_id),
        cause=cause,
    )


async def find_person(unit: Unit, vault: PiiVault, resident_id: str) -> Member | None:
    """The member with this resident ID, whichever key of the ring made its fingerprint."""
    fingerprints = vault.fingerprints(resident_id)
    member: Member | None = await unit.session.scalar(
        select(Member).where(Member.person_key.in_(fingerprints))
    )
    return member


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
