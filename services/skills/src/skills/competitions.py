"""Skills competitions: an organiser publishes stages (each with its rubric) and a panel; entrants
(a worker, a team, a firm) register; judges score while a stage is open, never an entrant of
their own employer; a stage freezes (later sheets are refused) and its results are computed once
from the frozen sheets; the best advance. The last stage's medallists are nominated to the
craftsman ladder and the winner is recommended for the organiser's award. A re-scoring reopens
the last stage and its next results supersede the earlier: nominations of medallists who lost
their medal are withdrawn.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from sqlalchemy import func, select, update

from gonghui_contracts.events import (
    AwardRecommended,
    CompetitionPublished,
    EntrantRegistered,
    MedalAwarded,
    Placing,
    StageResultsPublished,
)
from gonghui_contracts.events.skills import LadderTier
from gonghui_contracts.values import CreditCode, Line, RegionCode
from servicekit import Unit
from skills import ladder, scoring
from skills.errors import Invalid, NotEligible, NotFound, Refused, found
from skills.ladder import NewNomination
from skills.models import (
    Competition,
    CompetitionStage,
    Entrant,
    Nomination,
    PanelJudge,
    ScoreSheet,
    StageResult,
)
from skills.scoring import Criterion, Medal, Sheet, Standing
from skills.seats import active_member

MAX_ENTRANTS = 1000


class NewCriterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Line(50)]
    weight: StrictInt = Field(ge=1, le=100, description="Percent; a rubric's weights add up to 100")
    scale: StrictInt = Field(ge=1, le=1000, description="The most points a judge gives")


class NewStage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Line(100)]
    criteria: list[NewCriterion] = Field(min_length=1, max_length=20)
    advance: StrictInt | None = Field(
        default=None, ge=1, description="How many go on to the next stage (not on the last)"
    )

    @model_validator(mode="after")
    def _rubric(self) -> Self:
        problems = scoring.rubric_problems(rubric(self.criteria))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class NewJudge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    judge_id: Annotated[str, Line(64)] = Field(description="The judge's account (token `sub`)")
    name: Annotated[str, Line(50)]
    employer_code: CreditCode


class NewCompetition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, Line(100)]
    organiser: Annotated[str, Line(100)]
    region_code: RegionCode
    year: StrictInt = Field(ge=2000, le=2100)
    stages: list[NewStage] = Field(min_length=1, max_length=5)
    panel: list[NewJudge] = Field(min_length=1, max_length=50)
    medals: dict[Medal, Annotated[StrictInt, Field(ge=0, le=100)]] = Field(
        default={"gold": 1, "silver": 2, "bronze": 3}, description="(design) How many of each"
    )
    nominates: dict[Medal, LadderTier] = Field(
        default={"gold": "city", "silver": "district", "bronze": "district"},
        description="(design) The ladder tier each medal's winners are nominated for",
    )
    award: Annotated[str, Line(50)] = Field(
        default="五一劳动奖章", description="What the winner is recommended for"
    )

    @model_validator(mode="after")
    def _stages_chain(self) -> Self:
        if any(stage.advance is None for stage in self.stages[:-1]):
            raise ValueError("every stage but the last says how many advance")
        if self.stages[-1].advance is not None:
            raise ValueError("the last stage advances nobody")
        if len({j.judge_id for j in self.panel}) != len(self.panel):
            raise ValueError("a judge sits on the panel once")
        return self


class NewEntrant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["worker", "team", "firm"]
    name: Annotated[str, Line(100)]
    employer_code: CreditCode
    members: list[uuid.UUID] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _members_fit(self) -> Self:
        if self.kind == "worker" and len(self.members) != 1:
            raise ValueError("a worker entrant is one member")
        if self.kind == "team" and not self.members:
            raise ValueError("a team has its members")
        return self


def rubric(criteria: list[NewCriterion]) -> list[Criterion]:
    return [Criterion(c.name, c.weight, c.scale) for c in criteria]


async def publish(unit: Unit, new: NewCompetition, *, by: str, now: datetime) -> Competition:
    row = Competition(
        competition_id=uuid.uuid4(),
        title=new.title,
        organiser=new.organiser,
        region_code=new.region_code,
        year=new.year,
        medals=json.dumps(new.medals),
        nominates=json.dumps(new.nominates),
        award=new.award,
        stages=len(new.stages),
        created_by=by,
        created_at=now,
    )
    unit.session.add(row)
    for number, stage in enumerate(new.stages, start=1):
        unit.session.add(
            CompetitionStage(
                competition_id=row.competition_id,
                number=number,
                name=stage.name,
                criteria=json.dumps([c.model_dump() for c in stage.criteria], ensure_ascii=False),
                advance=stage.advance,
                status="open" if number == 1 else "waiting",
                results_version=0,
            )
        )
    for judge in new.panel:
        unit.session.add(
            PanelJudge(
                competition_id=row.competition_id,
                judge_id=judge.judge_id,
                name=judge.name,
                employer_code=judge.employer_code,
            )
        )
    unit.emit(
        CompetitionPublished(
            competition_id=row.competition_id,
            title=row.title,
            region_code=new.region_code,
            stages=len(new.stages),
            judges=len(new.panel),
        ),
        key=str(row.competition_id),
    )
    return row


async def register(unit: Unit, competition: Competition, new: NewEntrant, now: datetime) -> Entrant:
    first = await stage_of(unit, competition.competition_id, 1)
    if first.status != "open":
        raise Refused("registration closed when the first stage froze")
    count = await unit.session.scalar(
        select(func.count()).where(Entrant.competition_id == competition.competition_id)
    )
    if (count or 0) >= MAX_ENTRANTS:
        raise Refused(f"a competition takes at most {MAX_ENTRANTS} entrants")
    for member_id in new.members:
        await active_member(unit, member_id)
    row = Entrant(
        entrant_id=uuid.uuid4(),
        competition_id=competition.competition_id,
        kind=new.kind,
        name=new.name,
        employer_code=new.employer_code,
        members=json.dumps([str(m) for m in new.members]),
        reached_stage=1,
        registered_at=now,
    )
    unit.session.add(row)
    unit.emit(
        EntrantRegistered(
            entrant_id=row.entrant_id,
            competition_id=competition.competition_id,
            kind=new.kind,
            name=new.name,
            members=new.members,
        ),
        key=str(competition.competition_id),
    )
    return row


async def score(
    unit: Unit,
    competition: Competition,
    number: int,
    *,
    judge_id: str,
    entrant_id: uuid.UUID,
    points: dict[str, int],
    now: datetime,
) -> ScoreSheet:
    """A judge's points for an entrant; sent again, they replace the earlier ones until the
    stage freezes."""
    stage = await stage_of(unit, competition.competition_id, number, for_update=True)
    if stage.status != "open":
        raise Refused(f"stage {number} is {stage.status}: it takes no scores")
    judge = await unit.session.get(PanelJudge, (competition.competition_id, judge_id))
    if judge is None:
        raise NotFound("no such judge on this competition's panel")
    entrant = await unit.session.get(Entrant, entrant_id)
    if entrant is None or entrant.competition_id != competition.competition_id:
        raise NotFound("no such entrant")
    if entrant.reached_stage < number:
        raise Refused(f"the entrant did not reach stage {number}")
    if entrant.employer_code == judge.employer_code:
        raise Refused("a judge does not score an entrant of their own employer")
    problems = scoring.sheet_problems(criteria_of(stage), points)
    if problems:
        raise Invalid("; ".join(problems))
    key = (competition.competition_id, number, judge_id, entrant_id)
    sheet = await unit.session.get(ScoreSheet, key)
    if sheet is None:
        sheet = ScoreSheet(
            competition_id=competition.competition_id,
            stage=number,
            judge_id=judge_id,
            entrant_id=entrant_id,
        )
        unit.session.add(sheet)
    sheet.points, sheet.scored_at = json.dumps(points, ensure_ascii=False), now
    return sheet


async def freeze(unit: Unit, competition: Competition, number: int, now: datetime) -> StageResult:
    """Freeze an open stage: its results are computed from its sheets, the best advance; at the
    last stage, medals, nominations and the award recommendation."""
    stage = await stage_of(unit, competition.competition_id, number, for_update=True)
    if stage.status != "open":
        raise Refused(f"stage {number} is {stage.status}")
    sheets = [
        Sheet(s.judge_id, s.entrant_id, json.loads(s.points))
        for s in await unit.session.scalars(
            select(ScoreSheet).where(
                ScoreSheet.competition_id == competition.competition_id,
                ScoreSheet.stage == number,
            )
        )
    ]
    entrants = {
        e.entrant_id: e
        for e in await unit.session.scalars(
            select(Entrant).where(
                Entrant.competition_id == competition.competition_id,
                Entrant.reached_stage >= number,
            )
        )
    }
    standings = scoring.standings(
        criteria_of(stage),
        [s for s in sheets if s.entrant_id in entrants],
        {e.entrant_id: e.registered_at for e in entrants.values()},
    )
    stage.status, stage.results_version = "frozen", stage.results_version + 1
    last = number == competition.stages
    medals = scoring.medals(standings, json.loads(competition.medals)) if last else {}
    advanced = [s.entrant_id for s in standings[: stage.advance or 0]]
    result = StageResult(
        competition_id=competition.competition_id,
        stage=number,
        version=stage.results_version,
        standings=json.dumps(
            [
                {"entrant_id": str(s.entrant_id), "rank": s.rank, "score": str(s.score)}
                for s in standings
            ]
        ),
        medals=json.dumps({str(k): v for k, v in medals.items()}),
        reason=stage.reopen_reason,  # why these results supersede the ones before
        computed_at=now,
    )
    unit.session.add(result)
    unit.emit(
        StageResultsPublished(
            competition_id=competition.competition_id,
            stage=number,
            version=result.version,
            supersedes=result.version - 1 or None,
            standings=[
                Placing(entrant_id=s.entrant_id, rank=s.rank, score=s.score) for s in standings
            ],
            advanced=advanced,
        ),
        key=str(competition.competition_id),
    )
    if not last:
        await _advance(unit, competition, number, advanced)
    else:
        await _honour(
            unit, competition, standings=standings, medals=medals, version=result.version, now=now
        )
    return result


async def reopen(
    unit: Unit, competition: Competition, number: int, reason: str
) -> CompetitionStage:
    """A re-scoring of the last stage: it takes sheets again, and its next freeze publishes a
    version that supersedes the results before."""
    if number != competition.stages:
        raise Refused("only the last stage is scored again (the stages after would be stale)")
    stage = await stage_of(unit, competition.competition_id, number, for_update=True)
    if stage.status != "frozen":
        raise Refused(f"stage {number} is {stage.status}: nothing to score again")
    stage.status, stage.reopen_reason = "open", reason
    return stage


async def _advance(
    unit: Unit, competition: Competition, number: int, advanced: list[uuid.UUID]
) -> None:
    await unit.session.execute(
        update(Entrant)
        .where(Entrant.entrant_id.in_(advanced))
        .values(reached_stage=number + 1)
        .execution_options(synchronize_session=False)
    )
    following = await stage_of(unit, competition.competition_id, number + 1, for_update=True)
    following.status = "open"


async def _honour(
    unit: Unit,
    competition: Competition,
    *,
    standings: list[Standing],
    medals: dict[uuid.UUID, Medal],
    version: int,
    now: datetime,
) -> None:
    """Medals, ladder nominations of the medallists' members, the winner's recommendation; the
    nominations an earlier version made for those who lost their medal are withdrawn."""
    entrants = {
        e.entrant_id: e
        for e in await unit.session.scalars(select(Entrant).where(Entrant.entrant_id.in_(medals)))
    }
    tiers: dict[str, str] = json.loads(competition.nominates)
    source_ref = f"competition:{competition.competition_id}"
    nominated: set[uuid.UUID] = set()
    for entrant_id, medal in medals.items():
        entrant = entrants[entrant_id]
        members = [uuid.UUID(m) for m in json.loads(entrant.members)]
        unit.emit(
            MedalAwarded(
                competition_id=competition.competition_id,
                title=competition.title,
                entrant_id=entrant_id,
                entrant_name=entrant.name,
                medal=medal,
                version=version,
                members=members,
            ),
            key=str(competition.competition_id),
        )
        for member_id in members:
            nominated.add(member_id)
            await _nominate(
                unit,
                competition,
                member_id=member_id,
                tier=tiers[medal],
                source_ref=source_ref,
                now=now,
            )
    await _withdraw_lapsed(unit, source_ref, nominated)
    winner = standings[0] if standings else None
    if winner is not None:
        unit.emit(
            AwardRecommended(
                competition_id=competition.competition_id,
                title=competition.title,
                entrant_id=winner.entrant_id,
                entrant_name=entrants[winner.entrant_id].name,
                region_code=competition.region_code,
                award=competition.award,
                version=version,
            ),
            key=str(competition.competition_id),
        )


async def _nominate(
    unit: Unit,
    competition: Competition,
    *,
    member_id: uuid.UUID,
    tier: str,
    source_ref: str,
    now: datetime,
) -> None:
    """A medallist's nomination, unless they have one for the tier and year already (from an
    earlier version of these results, or from their union)."""
    existing = await unit.session.scalar(
        select(Nomination).where(
            Nomination.member_id == member_id,
            Nomination.tier == tier,
            Nomination.year == competition.year,
        )
    )
    if existing is not None:
        if existing.status == "withdrawn" and existing.source_ref == source_ref:
            existing.status = "nominated"  # a re-scoring gave the medal back
        return
    nomination = NewNomination(
        member_id=member_id,
        region_code=competition.region_code,
        tier=tier,
        year=competition.year,
        reason=f"{competition.title}获奖",
    )
    with contextlib.suppress(NotEligible):  # left the union since: nobody to nominate
        await ladder.nominate(
            unit,
            nomination,
            by=competition.created_by,
            now=now,
            source="competition",
            source_ref=source_ref,
        )


async def _withdraw_lapsed(unit: Unit, source_ref: str, medallists: set[uuid.UUID]) -> None:
    await unit.session.execute(
        update(Nomination)
        .where(
            Nomination.source_ref == source_ref,
            Nomination.status == "nominated",
            Nomination.member_id.not_in(medallists),
        )
        .values(status="withdrawn")
        .execution_options(synchronize_session=False)
    )


def criteria_of(stage: CompetitionStage) -> list[Criterion]:
    return [Criterion(**c) for c in json.loads(stage.criteria)]


async def stage_of(
    unit: Unit, competition_id: uuid.UUID, number: int, *, for_update: bool = False
) -> CompetitionStage:
    return await found(
        unit.session, CompetitionStage, (competition_id, number), "stage", for_update=for_update
    )


async def find_competition(unit: Unit, competition_id: uuid.UUID) -> Competition:
    return await found(unit.session, Competition, competition_id, "competition")
