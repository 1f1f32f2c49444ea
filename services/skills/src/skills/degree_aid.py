"""Degree aid (求学圆梦): a cycle with a budget, a fixed grant and a cap; members apply once in the
window; staff screen (初审) with reasons; after the window the ranking is frozen by the verified
exam score (成人高考) and grants go to the top min(cap, budget // amount); a declined grant passes
to the next in the ranking; payments are recorded. The budget is never overspent: every grant
is a conditional update of the cycle in the transaction that makes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from sqlalchemy import func, select, update

from gonghui_contracts.events import (
    DegreeAidDeclined,
    DegreeAidGranted,
    DegreeAidPaid,
    DegreeAidRanked,
    DegreeAidScreened,
)
from gonghui_contracts.values import Line, RegionCode, Yuan, to_cents, to_yuan
from servicekit import Unit
from servicekit.http import Moment
from servicekit.identity import covers
from skills import ranking
from skills.errors import Refused, found
from skills.models import DegreeAidApplication, DegreeAidCycle
from skills.ranking import Ranked
from skills.seats import active_member

EXAM_SCORE = Field(ge=0, le=750, description="成人高考 total score")


class NewCycle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Line(100)]
    region_code: RegionCode = Field(description="The union running it: its members apply")
    budget: Yuan
    amount: Yuan = Field(description="Each grant")
    cap: StrictInt = Field(ge=1, le=100_000, description="Grants at most")
    opens_at: Moment
    closes_at: Moment

    @model_validator(mode="after")
    def _sensible(self) -> Self:
        if self.opens_at >= self.closes_at:
            raise ValueError("a cycle opens before it closes")
        if to_cents(self.amount) <= 0:
            raise ValueError("a grant is a positive amount")
        return self


class Application(BaseModel):
    model_config = ConfigDict(extra="forbid")
    programme: Annotated[str, Line(100)] = Field(description="The degree course applied for")
    exam_score: StrictInt = EXAM_SCORE


class Screening(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passed: StrictBool
    verified_score: StrictInt | None = Field(
        default=None, ge=0, le=750, description="The score as checked (default: as given)"
    )
    reason: Annotated[str, Line(200)] | None = Field(
        default=None, description="Needed when the application fails"
    )

    @model_validator(mode="after")
    def _failing_says_why(self) -> Self:
        if not self.passed and not self.reason:
            raise ValueError("a failed application needs the reason")
        return self


async def open_cycle(unit: Unit, cycle: NewCycle, *, by: str) -> DegreeAidCycle:
    row = DegreeAidCycle(
        cycle_id=uuid.uuid4(),
        name=cycle.name,
        region_code=cycle.region_code,
        budget_cents=to_cents(cycle.budget),
        amount_cents=to_cents(cycle.amount),
        cap=cycle.cap,
        opens_at=cycle.opens_at,
        closes_at=cycle.closes_at,
        status="open",
        granted_cents=0,
        grants=0,
        created_by=by,
    )
    unit.session.add(row)
    return row


async def apply(
    unit: Unit, cycle_id: uuid.UUID, member_id: uuid.UUID, application: Application, now: datetime
) -> DegreeAidApplication:
    """One application per member and cycle, within the window, by members of the union that
    runs the cycle."""
    member = await active_member(unit, member_id)
    cycle = await find_cycle(unit, cycle_id)
    if not covers(cycle.region_code, member.region_code):
        raise Refused("the cycle is for members of the union that runs it")
    if not cycle.opens_at <= now < cycle.closes_at:
        raise Refused("the cycle takes applications only within its window")
    earlier = await unit.session.scalar(
        select(DegreeAidApplication.application_id).where(
            DegreeAidApplication.cycle_id == cycle_id, DegreeAidApplication.member_id == member_id
        )
    )
    if earlier is not None:
        raise Refused(f"already applied to this cycle: application {earlier}")
    row = DegreeAidApplication(
        application_id=uuid.uuid4(),
        cycle_id=cycle_id,
        member_id=member_id,
        programme=application.programme,
        exam_score=application.exam_score,
        status="applied",
        applied_at=now,
    )
    unit.session.add(row)
    return row


async def screen(
    unit: Unit, application: DegreeAidApplication, screening: Screening, now: datetime
) -> DegreeAidApplication:
    cycle = await find_cycle(unit, application.cycle_id)
    if cycle.status != "open":
        raise Refused("the ranking is frozen: screening is over")
    if application.status not in ("applied", "passed", "failed"):
        raise Refused(f"the application is {application.status}")
    application.status = "passed" if screening.passed else "failed"
    application.reason = screening.reason
    application.verified_score = (
        screening.verified_score if screening.verified_score is not None else application.exam_score
    )
    application.decided_at = now
    unit.emit(
        DegreeAidScreened(
            application_id=application.application_id,
            cycle_id=cycle.cycle_id,
            member_id=application.member_id,
            passed=screening.passed,
            reason=screening.reason,
        ),
        key=str(cycle.cycle_id),
    )
    return application


async def freeze_ranking(unit: Unit, cycle_id: uuid.UUID, now: datetime) -> int:
    """Rank those who passed, once, after the window; grant the top. Returns the grants made."""
    cycle = await find_cycle(unit, cycle_id)
    if now < cycle.closes_at:
        raise Refused("the window is still open")
    unscreened = await unit.session.scalar(
        select(func.count()).where(
            DegreeAidApplication.cycle_id == cycle_id, DegreeAidApplication.status == "applied"
        )
    )
    if unscreened:
        raise Refused(f"{unscreened} applications are not screened yet")
    frozen = await unit.session.execute(
        update(DegreeAidCycle)
        .where(DegreeAidCycle.cycle_id == cycle_id, DegreeAidCycle.status == "open")
        .values(status="ranked", ranked_at=now)
        .execution_options(synchronize_session=False)
    )
    if not frozen.rowcount:  # type: ignore[attr-defined]
        raise Refused("the ranking is frozen already")
    passed = list(
        await unit.session.scalars(
            select(DegreeAidApplication).where(
                DegreeAidApplication.cycle_id == cycle_id, DegreeAidApplication.status == "passed"
            )
        )
    )
    by_id = {a.application_id: a for a in passed}
    order = ranking.ranking(
        Ranked(a.application_id, a.verified_score or 0, a.applied_at) for a in passed
    )
    for place, entry in enumerate(order, start=1):
        by_id[entry.entry_id].rank, by_id[entry.entry_id].status = place, "waiting"
    await unit.session.flush()
    places = ranking.grants(cycle.budget_cents, cycle.amount_cents, cycle.cap)
    unit.emit(
        DegreeAidRanked(cycle_id=cycle_id, cycle_name=cycle.name, ranked=len(order), grants=places),
        key=str(cycle_id),
    )
    granted = 0
    for entry in order[:places]:
        granted += await _grant(unit, cycle, by_id[entry.entry_id], now, passed_down=False)
    return granted


async def decline(
    unit: Unit, application: DegreeAidApplication, now: datetime
) -> DegreeAidApplication:
    """The grantee declines: the grant passes to the next one waiting in the ranking."""
    if application.status != "granted":
        raise Refused(f"the application is {application.status}: no grant to decline")
    cycle = await find_cycle(unit, application.cycle_id)
    application.status, application.decided_at = "declined", now
    await unit.session.execute(
        update(DegreeAidCycle)
        .where(DegreeAidCycle.cycle_id == cycle.cycle_id)
        .values(
            granted_cents=DegreeAidCycle.granted_cents - cycle.amount_cents,
            grants=DegreeAidCycle.grants - 1,
        )
        .execution_options(synchronize_session=False)
    )
    assert application.rank is not None
    unit.emit(
        DegreeAidDeclined(
            application_id=application.application_id,
            cycle_id=cycle.cycle_id,
            member_id=application.member_id,
            rank=application.rank,
        ),
        key=str(cycle.cycle_id),
    )
    following = await unit.session.scalar(
        select(DegreeAidApplication)
        .where(
            DegreeAidApplication.cycle_id == cycle.cycle_id,
            DegreeAidApplication.status == "waiting",
        )
        .order_by(DegreeAidApplication.rank)
        .limit(1)
        .with_for_update()
    )
    if following is not None:
        await _grant(unit, cycle, following, now, passed_down=True)
    return application


async def record_payment(
    unit: Unit, application: DegreeAidApplication, reference: str, now: datetime
) -> DegreeAidApplication:
    if application.status == "paid":
        return application
    if application.status != "granted":
        raise Refused(f"the application is {application.status}: nothing to pay")
    cycle = await find_cycle(unit, application.cycle_id)
    application.status, application.paid_at, application.payment_ref = "paid", now, reference
    unit.emit(
        DegreeAidPaid(
            application_id=application.application_id,
            cycle_id=cycle.cycle_id,
            member_id=application.member_id,
            amount=to_yuan(cycle.amount_cents),
        ),
        key=str(cycle.cycle_id),
    )
    return application


async def _grant(
    unit: Unit,
    cycle: DegreeAidCycle,
    application: DegreeAidApplication,
    now: datetime,
    *,
    passed_down: bool,
) -> int:
    """A grant to `application`, if the budget and the cap still allow one (1), else none (0)."""
    taken = await unit.session.execute(
        update(DegreeAidCycle)
        .where(
            DegreeAidCycle.cycle_id == cycle.cycle_id,
            DegreeAidCycle.granted_cents + cycle.amount_cents <= DegreeAidCycle.budget_cents,
            DegreeAidCycle.grants < DegreeAidCycle.cap,
        )
        .values(
            granted_cents=DegreeAidCycle.granted_cents + cycle.amount_cents,
            grants=DegreeAidCycle.grants + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return 0
    application.status, application.decided_at = "granted", now
    assert application.rank is not None
    unit.emit(
        DegreeAidGranted(
            application_id=application.application_id,
            cycle_id=cycle.cycle_id,
            cycle_name=cycle.name,
            member_id=application.member_id,
            rank=application.rank,
            amount=to_yuan(cycle.amount_cents),
            passed_down=passed_down,
        ),
        key=str(cycle.cycle_id),
    )
    return 1


async def find_cycle(unit: Unit, cycle_id: uuid.UUID) -> DegreeAidCycle:
    return await found(unit.session, DegreeAidCycle, cycle_id, "cycle")


async def find_application(
    unit: Unit, application_id: uuid.UUID, *, for_update: bool = False
) -> DegreeAidApplication:
    return await found(
        unit.session, DegreeAidApplication, application_id, "application", for_update=for_update
    )
