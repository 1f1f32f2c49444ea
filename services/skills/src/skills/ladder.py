"""The craftsman ladder (登攀计划): 登榜 (enterprise, district and industry craftsmen), 登塔 (the
city's 羊城工匠), 登峰 (the province's 南粤工匠), 登顶 (the national 大国工匠).

Unions nominate workers (or a competition does, for its medallists); staff select candidates
(培育对象) under each tier's yearly quota, which is never passed: the selection is a conditional
update of the quota in the selecting transaction. Titles are recorded with their source: the
union's own tiers from a selected candidate, the province's and the nation's as decided
elsewhere. A title can be revoked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import ColumnElement, select, update

from gonghui_contracts.events import (
    CandidateSelected,
    CraftsmanNominated,
    CraftsmanTitleRecorded,
    CraftsmanTitleRevoked,
    LadderQuotaExhausted,
)
from gonghui_contracts.events.skills import LadderTier
from gonghui_contracts.values import Line, RegionCode
from servicekit import Unit
from skills.errors import Refused, found
from skills.models import CraftsmanTitle, LadderQuota, Nomination
from skills.seats import active_member

DECIDED_ELSEWHERE = frozenset({"province", "national"})  # the union records, it does not select
Year = Annotated[StrictInt, Field(ge=2000, le=2100)]


class Quota(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_code: RegionCode
    tier: LadderTier
    year: Year
    quota: StrictInt = Field(ge=0, le=100_000)


class NewNomination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: uuid.UUID
    region_code: RegionCode = Field(description="The union that nominates")
    tier: LadderTier
    year: Year
    reason: Annotated[str, Line(200)]


class NewTitle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: uuid.UUID
    tier: LadderTier
    year: Year
    reference: Annotated[str, Line(64)] = Field(description="The decision's document number")


def quota_key(region_code: str, tier: str, year: int) -> str:
    return f"{region_code}:{tier}:{year}"


async def set_quota(unit: Unit, quota: Quota) -> LadderQuota:
    """A tier's quota for a year; never below the candidates already selected."""
    if quota.tier in DECIDED_ELSEWHERE:
        raise Refused(f"{quota.tier} titles are decided elsewhere: no quota here")
    row = await unit.session.get(
        LadderQuota, (quota.region_code, quota.tier, quota.year), with_for_update=True
    )
    if row is None:
        row = LadderQuota(
            region_code=quota.region_code, tier=quota.tier, year=quota.year, used=0, quota=0
        )
        unit.session.add(row)
    if quota.quota < row.used:
        raise Refused(f"{row.used} candidates are selected already: the quota cannot be lower")
    row.quota = quota.quota
    row.exhausted_at = None if row.used < row.quota else row.exhausted_at
    return row


async def nominate(
    unit: Unit,
    nomination: NewNomination,
    *,
    by: str,
    now: datetime,
    source: Literal["union", "competition"] = "union",
    source_ref: str | None = None,
) -> Nomination:
    """One nomination per worker, tier and year."""
    await active_member(unit, nomination.member_id)
    earlier = await unit.session.scalar(
        select(Nomination.nomination_id).where(
            Nomination.member_id == nomination.member_id,
            Nomination.tier == nomination.tier,
            Nomination.year == nomination.year,
        )
    )
    if earlier is not None:
        raise Refused(f"nominated for this tier and year already: nomination {earlier}")
    row = Nomination(
        nomination_id=uuid.uuid4(),
        member_id=nomination.member_id,
        region_code=nomination.region_code,
        tier=nomination.tier,
        year=nomination.year,
        source=source,
        source_ref=source_ref,
        reason=nomination.reason,
        status="nominated",
        nominated_by=by,
        nominated_at=now,
    )
    unit.session.add(row)
    unit.emit(
        CraftsmanNominated(
            nomination_id=row.nomination_id,
            member_id=row.member_id,
            tier=nomination.tier,
            year=row.year,
            region_code=nomination.region_code,
            source=source,
            source_ref=source_ref,
        ),
        key=str(row.member_id),
    )
    return row


async def select_candidate(unit: Unit, nomination: Nomination, now: datetime) -> Nomination:
    """The nominee becomes a candidate if the tier's quota of the year has room."""
    if nomination.status == "selected":
        return nomination
    if nomination.status != "nominated":
        raise Refused(f"the nomination is {nomination.status}")
    if nomination.tier in DECIDED_ELSEWHERE:
        raise Refused(f"{nomination.tier} titles are decided elsewhere: record the title")
    used = (
        await unit.session.execute(
            update(LadderQuota)
            .where(*_quota_of(nomination), LadderQuota.used < LadderQuota.quota)
            .values(used=LadderQuota.used + 1)
            .returning(LadderQuota.used, LadderQuota.quota)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if used is None:
        raise Refused(f"the {nomination.tier} quota of {nomination.year} is used up (or not set)")
    nomination.status, nomination.selected_at = "selected", now
    key = quota_key(nomination.region_code, nomination.tier, nomination.year)
    unit.emit(
        CandidateSelected(
            nomination_id=nomination.nomination_id,
            member_id=nomination.member_id,
            tier=nomination.tier,
            year=nomination.year,
            region_code=nomination.region_code,
        ),
        key=str(nomination.member_id),
    )
    if used.used == used.quota:
        await unit.session.execute(
            update(LadderQuota)
            .where(*_quota_of(nomination))
            .values(exhausted_at=now)
            .execution_options(synchronize_session=False)
        )
        unit.emit(
            LadderQuotaExhausted(
                region_code=nomination.region_code,
                tier=nomination.tier,
                year=nomination.year,
                quota=used.quota,
            ),
            key=key,
        )
    return nomination


def _quota_of(nomination: Nomination) -> tuple[ColumnElement[bool], ...]:
    return (
        LadderQuota.region_code == nomination.region_code,
        LadderQuota.tier == nomination.tier,
        LadderQuota.year == nomination.year,
    )


async def record_title(unit: Unit, title: NewTitle, *, by: str, now: datetime) -> CraftsmanTitle:
    """A union's own tier needs the worker selected as its candidate; a tier decided elsewhere
    is recorded as decided."""
    nomination_id: uuid.UUID | None = None
    if title.tier not in DECIDED_ELSEWHERE:
        nomination_id = await unit.session.scalar(
            select(Nomination.nomination_id).where(
                Nomination.member_id == title.member_id,
                Nomination.tier == title.tier,
                Nomination.status == "selected",
            )
        )
        if nomination_id is None:
            raise Refused(f"a {title.tier} title goes to a selected candidate of the tier")
    held = await unit.session.scalar(
        select(CraftsmanTitle.title_id).where(
            CraftsmanTitle.member_id == title.member_id,
            CraftsmanTitle.tier == title.tier,
            CraftsmanTitle.revoked_at.is_(None),
        )
    )
    if held is not None:
        raise Refused(f"the worker holds this title already: title {held}")
    source: Literal["selection", "decided_elsewhere"] = (
        "decided_elsewhere" if title.tier in DECIDED_ELSEWHERE else "selection"
    )
    row = CraftsmanTitle(
        title_id=uuid.uuid4(),
        member_id=title.member_id,
        tier=title.tier,
        year=title.year,
        source=source,
        reference=title.reference,
        nomination_id=nomination_id,
        recorded_by=by,
        recorded_at=now,
    )
    unit.session.add(row)
    unit.emit(
        CraftsmanTitleRecorded(
            title_id=row.title_id,
            member_id=row.member_id,
            tier=title.tier,
            year=row.year,
            source=source,
            reference=row.reference,
        ),
        key=str(row.member_id),
    )
    return row


async def revoke_title(
    unit: Unit, title: CraftsmanTitle, reason: str, now: datetime
) -> CraftsmanTitle:
    if title.revoked_at is not None:
        raise Refused("the title is revoked already")
    title.revoked_at, title.revoke_reason = now, reason
    unit.emit(
        CraftsmanTitleRevoked(
            title_id=title.title_id,
            member_id=title.member_id,
            tier=title.tier,
            reason=reason,
        ),
        key=str(title.member_id),
    )
    return title


async def find_nomination(unit: Unit, nomination_id: uuid.UUID) -> Nomination:
    return await found(unit.session, Nomination, nomination_id, "nomination", for_update=True)


async def find_title(unit: Unit, title_id: uuid.UUID) -> CraftsmanTitle:
    return await found(unit.session, CraftsmanTitle, title_id, "title", for_update=True)
