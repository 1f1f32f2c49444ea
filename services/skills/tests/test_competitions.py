"""Competitions on SQLite: stages judged by a panel, a judge of the entrant's own employer
refused, late sheets refused, results frozen once with a deterministic tie-break, the best
advancing, medals, ladder nominations and the award recommendation, and a re-scoring whose
results supersede; the scoring rules with Hypothesis."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from gonghui_contracts import samples
from servicekit import UnitOfWork
from servicekit.clock import Clock
from servicekit.identity import Caller, Role
from servicekit.testing import outbox_rows
from skills import competitions, scoring
from skills.competitions import NewCompetition, NewEntrant
from skills.errors import Invalid, Refused
from skills.models import Competition, CompetitionStage, Nomination
from skills.scoring import Criterion, Sheet

from .conftest import Join, http_client

NOW = datetime(2025, 9, 1, tzinfo=UTC)
RUBRIC = [
    {"name": "理论", "weight": 40, "scale": 100},
    {"name": "实操", "weight": 60, "scale": 100},
]


def credit_code(n: int) -> str:
    return samples.employer_credit_code(random.Random(n))


def new_competition() -> NewCompetition:
    return NewCompetition.model_validate(
        {
            "title": "职业健康技能大赛",
            "organiser": "广州市总工会",
            "region_code": "440100",
            "year": 2025,
            "stages": [
                {"name": "材料初评", "criteria": RUBRIC, "advance": 3},
                {"name": "现场路演", "criteria": RUBRIC},
            ],
            "panel": [
                {"judge_id": f"judge-{n}", "name": f"评委{n}", "employer_code": credit_code(n)}
                for n in range(3)
            ],
            "medals": {"gold": 1, "silver": 1, "bronze": 1},
        }
    )


async def setup(
    uow: UnitOfWork, new_member: Join, teams: int
) -> tuple[Competition, list[tuple[uuid.UUID, list[uuid.UUID]]]]:
    async with uow() as unit:
        competition = await competitions.publish(unit, new_competition(), by="staff-gz", now=NOW)
    entrants = []
    for n in range(teams):
        members = [await new_member(uow), await new_member(uow)]
        async with uow() as unit:
            entrant = await competitions.register(
                unit,
                competition,
                NewEntrant(
                    kind="team",
                    name=f"队伍{n}",
                    employer_code=credit_code(100 + n),
                    members=members,
                ),
                NOW + timedelta(minutes=n),
            )
            entrants.append((entrant.entrant_id, members))
    return competition, entrants


async def put(
    uow: UnitOfWork,
    competition: Competition,
    stage: int,
    judge: int,
    entrant: uuid.UUID,
    theory: int,
    practice: int,
) -> None:
    async with uow() as unit:
        await competitions.score(
            unit,
            competition,
            stage,
            judge_id=f"judge-{judge}",
            entrant_id=entrant,
            points={"理论": theory, "实操": practice},
            now=NOW,
        )


async def freeze(
    uow: UnitOfWork, competition: Competition, stage: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    async with uow() as unit:
        result = await competitions.freeze(unit, competition, stage, NOW)
        return json.loads(result.standings), json.loads(result.medals)


async def test_two_stages_to_medals_nominations_and_a_recommendation_then_a_rescoring(
    uow: UnitOfWork, new_member: Join
) -> None:
    competition, entrants = await setup(uow, new_member, teams=4)
    ids = [e for e, _ in entrants]
    for judge in range(3):
        for n, entrant in enumerate(ids):
            await put(uow, competition, 1, judge, entrant, 60 + 10 * n, 70)
    with pytest.raises(Refused, match="waiting"):
        await put(uow, competition, 2, 0, ids[3], 90, 90)
    standings, _ = await freeze(uow, competition, 1)
    assert [s["entrant_id"] for s in standings] == [str(e) for e in reversed(ids)]
    with pytest.raises(Refused, match="frozen"):
        await put(uow, competition, 1, 0, ids[0], 100, 100)  # late
    with pytest.raises(Refused, match="did not reach"):
        await put(uow, competition, 2, 0, ids[0], 100, 100)  # the fourth did not advance
    # stage 2: ids[1] best, ids[3] and ids[2] level on the total; ids[3] better at 实操
    for judge in range(3):
        await put(uow, competition, 2, judge, ids[1], 90, 90)
        await put(uow, competition, 2, judge, ids[3], 60, 80)
        await put(uow, competition, 2, judge, ids[2], 90, 60)
    standings, medals = await freeze(uow, competition, 2)
    assert [(s["entrant_id"], s["score"]) for s in standings] == [
        (str(ids[1]), "90.00"),
        (str(ids[3]), "72.00"),
        (str(ids[2]), "72.00"),
    ]
    assert medals == {str(ids[1]): "gold", str(ids[3]): "silver", str(ids[2]): "bronze"}
    async with uow() as unit:
        nominated = {
            (n.member_id, n.tier, n.status) for n in await unit.session.scalars(select(Nomination))
        }
    winners = dict(entrants)
    assert {(m, "city", "nominated") for m in winners[ids[1]]} <= nominated
    assert {(m, "district", "nominated") for m in winners[ids[2]]} <= nominated
    kinds = [json.loads(r.value)["event_type"] for r in await outbox_rows(uow.sessions)]
    assert kinds.count("skills.medal-awarded") == 3
    assert kinds.count("skills.award-recommended") == 1

    # re-scoring: judge 0 corrects ids[2]'s 实操; it now passes ids[3]
    async with uow() as unit:
        await competitions.reopen(unit, competition, 2, "评委0录入错误")
    await put(uow, competition, 2, 0, ids[2], 90, 90)
    standings, medals = await freeze(uow, competition, 2)
    assert medals == {str(ids[1]): "gold", str(ids[2]): "silver", str(ids[3]): "bronze"}
    async with uow() as unit:
        versions = await unit.session.scalar(
            select(CompetitionStage.results_version).where(
                CompetitionStage.competition_id == competition.competition_id,
                CompetitionStage.number == 2,
            )
        )
    assert versions == 2


async def test_a_judge_never_scores_their_own_employers_entrant_and_sheets_follow_the_rubric(
    uow: UnitOfWork, new_member: Join
) -> None:
    competition, entrants = await setup(uow, new_member, teams=1)
    member = await new_member(uow)
    async with uow() as unit:
        colleague = await competitions.register(
            unit,
            competition,
            NewEntrant(
                kind="worker", name="评委同事", employer_code=credit_code(0), members=[member]
            ),
            NOW,
        )
    with pytest.raises(Refused, match="own employer"):
        await put(uow, competition, 1, 0, colleague.entrant_id, 80, 80)
    await put(uow, competition, 1, 1, colleague.entrant_id, 80, 80)
    with pytest.raises(Invalid, match="from 0 to 100"):
        await put(uow, competition, 1, 1, entrants[0][0], 101, 80)
    with pytest.raises(Invalid, match="missing"):
        async with uow() as unit:
            await competitions.score(
                unit,
                competition,
                1,
                judge_id="judge-1",
                entrant_id=entrants[0][0],
                points={"理论": 50},
                now=NOW,
            )


def test_a_rubric_adds_up_to_100_and_the_last_stage_advances_nobody() -> None:
    body = new_competition().model_dump()
    body["stages"][0]["criteria"][0]["weight"] = 50
    with pytest.raises(ValueError, match="add up to 100"):
        NewCompetition.model_validate(body)
    body = new_competition().model_dump()
    body["stages"][1]["advance"] = 2
    with pytest.raises(ValueError, match="advances nobody"):
        NewCompetition.model_validate(body)


CRITERIA = [Criterion("a", 30, 10), Criterion("b", 70, 100)]
sheets = st.lists(
    st.builds(
        Sheet,
        st.sampled_from([f"j{n}" for n in range(5)]),
        st.sampled_from([uuid.UUID(int=n) for n in range(8)]),
        st.fixed_dictionaries({"a": st.integers(0, 10), "b": st.integers(0, 100)}),
    ),
    max_size=40,
)


@given(sheets, st.randoms())
def test_standings_are_the_same_whatever_order_the_sheets_come_in(
    found: list[Sheet], rng: random.Random
) -> None:
    registered = {uuid.UUID(int=n): NOW + timedelta(minutes=n % 3) for n in range(8)}
    shuffled = list(found)
    rng.shuffle(shuffled)
    first = scoring.standings(CRITERIA, found, registered)
    assert scoring.standings(CRITERIA, shuffled, registered) == first
    assert [s.rank for s in first] == list(range(1, len(first) + 1))
    assert all(Decimal(0) <= s.score <= Decimal(100) for s in first)
    assert all(a.score >= b.score for a, b in itertools.pairwise(first))
    medals = scoring.medals(first, {"gold": 1, "silver": 2, "bronze": 3})
    assert len(medals) == min(6, len(first))
    assert list(medals.values()).count("gold") == min(1, len(first))


async def test_over_http_organisers_judges_and_members_each_do_only_their_part(
    uow: UnitOfWork, new_member: Join
) -> None:
    guangzhou = Caller("staff-gz", frozenset({Role.STAFF}), union="440100")
    shenzhen = Caller("staff-sz", frozenset({Role.STAFF}), union="440300")
    worker = await new_member(uow)
    caller = {"as": guangzhou}
    body = new_competition().model_dump(mode="json")
    async with http_client(uow, Clock(), caller) as http:
        caller["as"] = shenzhen  # another city's union organises nothing here
        assert (await http.post("/v1/competitions", json=body)).status_code == 404
        caller["as"] = guangzhou
        made = await http.post("/v1/competitions", json=body)
        assert made.status_code == 201, made.text
        path = f"/v1/competitions/{made.json()['competition_id']}"
        team = {
            "kind": "team",
            "name": "队伍A",
            "employer_code": credit_code(100),
            "members": [str(worker)],
        }
        caller["as"] = Caller("app-1", frozenset({Role.MEMBER}), member_id=worker)
        assert (await http.post(f"{path}/entrants", json=team)).status_code == 404
        myself = {**team, "kind": "worker", "name": "个人选手"}
        entered = await http.post(f"{path}/entrants", json=myself)
        assert entered.status_code == 201, entered.text
        sheet = {"points": {"理论": 80, "实操": 90}}
        sheet_path = f"{path}/stages/1/sheets/{entered.json()['entrant_id']}"
        assert (await http.put(sheet_path, json=sheet)).status_code == 403
        assert (await http.post(f"{path}/stages/1/freeze")).status_code == 403
        caller["as"] = Caller("judge-9", frozenset({Role.JUDGE}))  # not on the panel
        assert (await http.put(sheet_path, json=sheet)).status_code == 404
        caller["as"] = Caller("judge-1", frozenset({Role.JUDGE}))
        assert (await http.put(sheet_path, json=sheet)).status_code == 204
        bad = {"points": {"理论": True, "实操": 90}}
        assert (await http.put(sheet_path, json=bad)).status_code == 422
        caller["as"] = shenzhen
        assert (await http.post(f"{path}/stages/1/freeze")).status_code == 404
        caller["as"] = guangzhou
        frozen = await http.post(f"{path}/stages/1/freeze")
        assert [p["name"] for p in frozen.json()["standings"]] == ["个人选手"]
