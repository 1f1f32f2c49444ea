"""Competitions over HTTP: organisers (union staff) publish and register entrants, freeze and
reopen stages; judges put their score sheets; everyone signed in reads the results."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select

from gonghui_contracts.values import Line
from servicekit import Unit, UnitOfWork
from servicekit.clock import Clock
from servicekit.http import answers
from servicekit.identity import Caller, Role, require_scope, requires, staff_covers
from skills import competitions
from skills.api import Limit, Offset, Staff, own_member
from skills.competitions import NewCompetition, NewEntrant
from skills.errors import NotFound
from skills.models import Competition, CompetitionStage, Entrant, StageResult

COMPETITION_RULES = (
    "a Guangdong city or county code of GB/T 2260; each rubric's weights add up to 100 with "
    "names of their own; every stage but the last says how many advance; a judge sits once; "
    "valid unified social credit codes"
)
ENTRANT_RULES = "a valid unified social credit code; a worker is one member, a team has members"
Judge = Annotated[Caller, Depends(requires(Role.JUDGE))]
Anyone = Annotated[Caller, Depends(requires(Role.MEMBER, Role.STAFF, Role.JUDGE))]
StageNumber = Annotated[int, Path(ge=1, le=5)]
StaffOrMember = Annotated[Caller, Depends(requires(Role.STAFF, Role.MEMBER))]


class StageView(BaseModel):
    number: int
    name: str
    status: str
    advance: int | None
    results_version: int


class CompetitionView(BaseModel):
    competition_id: uuid.UUID
    title: str
    organiser: str
    region_code: str
    year: int
    award: str
    stages: list[StageView]


class EntrantView(BaseModel):
    entrant_id: uuid.UUID
    kind: str
    name: str
    reached_stage: int
    registered_at: datetime


class SheetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: dict[Annotated[str, Line(50)], StrictInt] = Field(
        max_length=20, description="Points by criterion of the stage's rubric"
    )


class Reopening(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Line(200)]


class PlacingView(BaseModel):
    entrant_id: uuid.UUID
    name: str
    rank: int
    score: Decimal
    medal: str | None


class ResultsView(BaseModel):
    stage: int
    version: int
    latest: bool
    reason: str | None
    computed_at: datetime
    standings: list[PlacingView]


def router(uow: UnitOfWork, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/v1/competitions", tags=["competitions"])

    async def organised(unit: Unit, competition_id: uuid.UUID, caller: Caller) -> Competition:
        competition = await competitions.find_competition(unit, competition_id)
        require_scope(staff_covers(caller, competition.region_code))
        return competition

    @api.post(
        "",
        response_model=CompetitionView,
        status_code=201,
        responses=answers(404, rules=COMPETITION_RULES),
    )
    async def publish(body: NewCompetition, caller: Staff) -> CompetitionView:
        require_scope(staff_covers(caller, body.region_code))
        async with uow() as unit:
            row = await competitions.publish(unit, body, by=caller.subject, now=clock.now())
            await unit.session.flush()
            return await _view(unit, row)

    @api.get("/{competition_id}", response_model=CompetitionView, responses=answers(404))
    async def one(competition_id: uuid.UUID, caller: Anyone) -> CompetitionView:
        async with uow() as unit:
            return await _view(unit, await competitions.find_competition(unit, competition_id))

    @api.post(
        "/{competition_id}/entrants",
        response_model=EntrantView,
        status_code=201,
        responses=answers(403, 404, 409, rules=ENTRANT_RULES),
    )
    async def register(
        competition_id: uuid.UUID, body: NewEntrant, caller: StaffOrMember
    ) -> EntrantView:
        """The organiser registers any entrant; a member registers themself as a worker."""
        async with uow() as unit:
            competition = await competitions.find_competition(unit, competition_id)
            if not staff_covers(caller, competition.region_code):
                require_scope(body.kind == "worker" and body.members == [own_member(caller)])
            row = await competitions.register(unit, competition, body, clock.now())
            return EntrantView.model_validate(row, from_attributes=True)

    @api.get("/{competition_id}/entrants", response_model=list[EntrantView])
    async def entrants(
        competition_id: uuid.UUID, caller: Anyone, limit: Limit = 100, offset: Offset = 0
    ) -> list[EntrantView]:
        async with uow() as unit:
            rows = await unit.session.scalars(
                select(Entrant)
                .where(Entrant.competition_id == competition_id)
                .order_by(Entrant.registered_at, Entrant.entrant_id)
                .limit(limit)
                .offset(offset)
            )
            return [EntrantView.model_validate(row, from_attributes=True) for row in rows]

    @api.put(
        "/{competition_id}/stages/{number}/sheets/{entrant_id}",
        status_code=204,
        responses=answers(404, 409, rules="every criterion of the rubric, within its scale"),
    )
    async def put_sheet(
        competition_id: uuid.UUID,
        number: StageNumber,
        entrant_id: uuid.UUID,
        body: SheetIn,
        caller: Judge,
    ) -> None:
        """The calling judge's points for the entrant at this stage (replacing earlier ones),
        while the stage is open."""
        async with uow() as unit:
            competition = await competitions.find_competition(unit, competition_id)
            await competitions.score(
                unit,
                competition,
                number,
                judge_id=caller.subject,
                entrant_id=entrant_id,
                points=body.points,
                now=clock.now(),
            )

    @api.post(
        "/{competition_id}/stages/{number}/freeze",
        response_model=ResultsView,
        responses=answers(404, 409),
    )
    async def freeze(competition_id: uuid.UUID, number: StageNumber, caller: Staff) -> ResultsView:
        """No more sheets: the results are computed, the best advance (or, at the last stage,
        medals, nominations and the award recommendation)."""
        async with uow() as unit:
            competition = await organised(unit, competition_id, caller)
            await competitions.freeze(unit, competition, number, clock.now())
        return await results(competition_id, number, caller)

    @api.post(
        "/{competition_id}/stages/{number}/reopen",
        response_model=StageView,
        responses=answers(404, 409),
    )
    async def reopen(
        competition_id: uuid.UUID, number: StageNumber, body: Reopening, caller: Staff
    ) -> StageView:
        """Score the last stage again; its next results supersede the ones before."""
        async with uow() as unit:
            competition = await organised(unit, competition_id, caller)
            stage = await competitions.reopen(unit, competition, number, body.reason)
            return StageView.model_validate(stage, from_attributes=True)

    @api.get(
        "/{competition_id}/stages/{number}/results",
        response_model=ResultsView,
        responses=answers(404),
    )
    async def results(
        competition_id: uuid.UUID,
        number: StageNumber,
        caller: Anyone,
        version: Annotated[int | None, Query(ge=1, description="Default: the latest")] = None,
    ) -> ResultsView:
        async with uow() as unit:
            stage = await competitions.stage_of(unit, competition_id, number)
            chosen = version or stage.results_version
            found = await unit.session.get(StageResult, (competition_id, number, chosen))
            if found is None:
                raise NotFound("no results of this stage (yet)")
            names = dict(
                (
                    await unit.session.execute(
                        select(Entrant.entrant_id, Entrant.name).where(
                            Entrant.competition_id == competition_id
                        )
                    )
                )
                .tuples()
                .all()
            )
            medals = json.loads(found.medals)
            return ResultsView(
                stage=number,
                version=found.version,
                latest=found.version == stage.results_version,
                reason=found.reason,
                computed_at=found.computed_at,
                standings=[
                    PlacingView(
                        entrant_id=uuid.UUID(p["entrant_id"]),
                        name=names.get(uuid.UUID(p["entrant_id"]), ""),
                        rank=p["rank"],
                        score=Decimal(p["score"]),
                        medal=medals.get(p["entrant_id"]),
                    )
                    for p in json.loads(found.standings)
                ],
            )

    return api


async def _view(unit: Unit, row: Competition) -> CompetitionView:
    stages = await unit.session.scalars(
        select(CompetitionStage)
        .where(CompetitionStage.competition_id == row.competition_id)
        .order_by(CompetitionStage.number)
    )
    return CompetitionView(
        competition_id=row.competition_id,
        title=row.title,
        organiser=row.organiser,
        region_code=row.region_code,
        year=row.year,
        award=row.award,
        stages=[StageView.model_validate(s, from_attributes=True) for s in stages],
    )
