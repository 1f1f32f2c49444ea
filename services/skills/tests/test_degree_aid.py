"""Degree aid on SQLite: one application per member, screening, a frozen ranking, grants within
the budget and the cap, a declined grant passed down, payments; and the ranking rules."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from servicekit import UnitOfWork
from servicekit.clock import Clock
from servicekit.identity import Caller, Role
from skills import degree_aid, ranking
from skills.degree_aid import Application, NewCycle, Screening
from skills.errors import NotEligible, Refused
from skills.models import DegreeAidApplication
from skills.ranking import Ranked

from .conftest import Join, http_client

OPENS = datetime(2025, 3, 1, tzinfo=UTC)
CLOSES = datetime(2025, 4, 1, tzinfo=UTC)


async def new_cycle(uow: UnitOfWork, budget: str, cap: int) -> uuid.UUID:
    async with uow() as unit:
        cycle = await degree_aid.open_cycle(
            unit,
            NewCycle(
                name="深圳市求学圆梦·本科班",
                region_code="440300",
                budget=Decimal(budget),
                amount=Decimal("7500.00"),
                cap=cap,
                opens_at=OPENS,
                closes_at=CLOSES,
            ),
            by="staff-heyuan",
        )
        return cycle.cycle_id


async def applied(
    uow: UnitOfWork, cycle_id: uuid.UUID, member_id: uuid.UUID, score: int, day: int = 0
) -> uuid.UUID:
    async with uow() as unit:
        made = await degree_aid.apply(
            unit,
            cycle_id,
            member_id,
            Application(programme="行政管理（专升本）", exam_score=score),
            OPENS + timedelta(days=day),
        )
        return made.application_id


async def screen(uow: UnitOfWork, application_id: uuid.UUID, screening: Screening) -> None:
    async with uow() as unit:
        application = await degree_aid.find_application(unit, application_id)
        await degree_aid.screen(unit, application, screening, OPENS)


async def statuses(uow: UnitOfWork, cycle_id: uuid.UUID) -> list[tuple[int | None, str]]:
    async with uow() as unit:
        rows = await unit.session.scalars(
            select(DegreeAidApplication)
            .where(DegreeAidApplication.cycle_id == cycle_id)
            .order_by(DegreeAidApplication.rank.nulls_last(), DegreeAidApplication.exam_score)
        )
        return [(row.rank, row.status) for row in rows]


async def test_the_top_of_the_frozen_ranking_is_granted_within_budget_and_declines_pass_down(
    uow: UnitOfWork, new_member: Join
) -> None:
    cycle_id = await new_cycle(uow, "22500.00", cap=10)  # the budget pays three grants
    scores = [300, 420, 380, 420, 250, 199]
    people = [await new_member(uow) for _ in scores]
    ids = [
        await applied(uow, cycle_id, p, s, day=i)
        for i, (p, s) in enumerate(zip(people, scores, strict=True))
    ]
    for application_id, score in zip(ids, scores, strict=True):
        fails = score < 200
        await screen(
            uow, application_id, Screening(passed=not fails, reason="未达最低分" if fails else None)
        )
    with pytest.raises(Refused, match="window is still open"):
        async with uow() as unit:
            await degree_aid.freeze_ranking(unit, cycle_id, CLOSES - timedelta(seconds=1))
    async with uow() as unit:
        assert await degree_aid.freeze_ranking(unit, cycle_id, CLOSES) == 3
    # 420 (applied first), 420, 380 granted; 300, 250 wait; 199 failed
    assert await statuses(uow, cycle_id) == [
        (1, "granted"),
        (2, "granted"),
        (3, "granted"),
        (4, "waiting"),
        (5, "waiting"),
        (None, "failed"),
    ]
    with pytest.raises(Refused, match="frozen already"):
        async with uow() as unit:
            await degree_aid.freeze_ranking(unit, cycle_id, CLOSES)
    for declined in (ids[3], ids[1]):  # ranks 2 and 1 decline: ranks 4 and 5 move up
        async with uow() as unit:
            application = await degree_aid.find_application(unit, declined, for_update=True)
            await degree_aid.decline(unit, application, CLOSES)
    assert [s for _, s in await statuses(uow, cycle_id)] == [
        "declined",
        "declined",
        "granted",
        "granted",
        "granted",
        "failed",
    ]
    async with uow() as unit:
        cycle = await degree_aid.find_cycle(unit, cycle_id)
        assert (cycle.grants, cycle.granted_cents) == (3, 3 * 750_000)
        application = await degree_aid.find_application(unit, ids[2])
        await degree_aid.record_payment(unit, application, "HY-2025-0001", CLOSES)
    async with uow() as unit:
        application = await degree_aid.find_application(unit, ids[2], for_update=True)
        with pytest.raises(Refused, match="paid"):
            await degree_aid.decline(unit, application, CLOSES)


async def test_one_application_per_member_within_the_window_and_only_members(
    uow: UnitOfWork, new_member: Join
) -> None:
    cycle_id = await new_cycle(uow, "75000.00", cap=10)
    member = await new_member(uow)
    await applied(uow, cycle_id, member, 400)
    with pytest.raises(Refused, match="already applied"):
        await applied(uow, cycle_id, member, 450)
    with pytest.raises(Refused, match="window"):
        await applied(uow, cycle_id, await new_member(uow), 400, day=31)
    with pytest.raises(NotEligible):
        await applied(uow, cycle_id, uuid.uuid4(), 400)
    async with uow() as unit:
        elsewhere = await degree_aid.open_cycle(
            unit,
            NewCycle(
                name="河源市求学圆梦",
                region_code="441600",
                budget=Decimal("7500.00"),
                amount=Decimal("7500.00"),
                cap=1,
                opens_at=OPENS,
                closes_at=CLOSES,
            ),
            by="staff-heyuan",
        )
    with pytest.raises(Refused, match="members of the union"):
        await applied(uow, elsewhere.cycle_id, member, 400)


async def test_the_cap_limits_grants_when_the_budget_would_pay_more(
    uow: UnitOfWork, new_member: Join
) -> None:
    cycle_id = await new_cycle(uow, "75000.00", cap=2)
    for score in (500, 400, 300):
        application_id = await applied(uow, cycle_id, await new_member(uow), score)
        await screen(uow, application_id, Screening(passed=True, verified_score=score - 10))
    async with uow() as unit:
        assert await degree_aid.freeze_ranking(unit, cycle_id, CLOSES) == 2


def test_a_failed_screening_needs_its_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        Screening(passed=False)


entries = st.lists(
    st.builds(
        Ranked,
        st.uuids(),
        st.integers(0, 750),
        st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2025, 2, 1)),
    ),
    max_size=40,
)


@given(entries, st.randoms())
def test_a_ranking_is_the_same_whatever_order_it_is_computed_from(
    found: list[Ranked], rng: object
) -> None:
    shuffled = list(found)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    ranked = ranking.ranking(found)
    assert ranking.ranking(shuffled) == ranked
    assert all(a.score >= b.score for a, b in itertools.pairwise(ranked))


@given(st.integers(0, 10**9), st.integers(1, 10**7), st.integers(0, 10**5))
def test_grants_never_cost_more_than_the_budget_nor_pass_the_cap(
    budget: int, amount: int, cap: int
) -> None:
    count = ranking.grants(budget, amount, cap)
    assert count * amount <= budget
    assert count <= cap
    assert count == cap or (count + 1) * amount > budget


async def test_over_http_members_apply_and_decline_and_staff_of_the_city_screen_and_rank(
    uow: UnitOfWork, new_member: Join
) -> None:
    own_union = Caller("staff-sz", frozenset({Role.STAFF}), union="440300")
    other_union = Caller("staff-hy", frozenset({Role.STAFF}), union="441600")
    clock = Clock()
    clock.advance(OPENS - clock.now() if clock.now() < OPENS else timedelta(0))
    caller = {"as": own_union}
    now = clock.now()
    cycle = {
        "name": "深圳市求学圆梦",
        "region_code": "440300",
        "budget": "7500.00",
        "amount": "7500.00",
        "cap": 5,
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=1)).isoformat(),
    }
    first, second = await new_member(uow), await new_member(uow)
    async with http_client(uow, clock, caller) as http:
        caller["as"] = other_union
        assert (await http.post("/v1/degree-aid/cycles", json=cycle)).status_code == 404
        caller["as"] = own_union
        opened = await http.post("/v1/degree-aid/cycles", json=cycle)
        assert opened.status_code == 201, opened.text
        cycle_id = opened.json()["cycle_id"]
        ids = []
        for member_id, score in ((first, 420), (second, 380)):
            caller["as"] = Caller(f"app-{score}", frozenset({Role.MEMBER}), member_id=member_id)
            body = {"programme": "会计学（专升本）", "exam_score": score}
            made = await http.post(f"/v1/degree-aid/cycles/{cycle_id}/applications", json=body)
            assert made.status_code == 201, made.text
            ids.append(made.json()["application_id"])
            again = await http.post(f"/v1/degree-aid/cycles/{cycle_id}/applications", json=body)
            assert again.status_code == 409
        assert (
            await http.post(
                f"/v1/degree-aid/applications/{ids[1]}/screening", json={"passed": True}
            )
        ).status_code == 403
        caller["as"] = other_union
        assert (
            await http.post(
                f"/v1/degree-aid/applications/{ids[1]}/screening", json={"passed": True}
            )
        ).status_code == 404
        caller["as"] = own_union
        no_reason = await http.post(
            f"/v1/degree-aid/applications/{ids[1]}/screening", json={"passed": False}
        )
        assert no_reason.status_code == 422
        for application_id in ids:
            await http.post(
                f"/v1/degree-aid/applications/{application_id}/screening", json={"passed": True}
            )
        early = await http.post(f"/v1/degree-aid/cycles/{cycle_id}/ranking")
        assert early.status_code == 409
        clock.advance(timedelta(days=2))
        ranked = (await http.post(f"/v1/degree-aid/cycles/{cycle_id}/ranking")).json()
        assert (ranked["grants"], ranked["applications"]) == (1, {"granted": 1, "waiting": 1})
        caller["as"] = Caller("app-420", frozenset({Role.MEMBER}), member_id=first)
        declined = await http.post(f"/v1/degree-aid/applications/{ids[0]}/decline")
        assert declined.json()["status"] == "declined"
        caller["as"] = own_union
        listed = (await http.get(f"/v1/degree-aid/cycles/{cycle_id}/applications")).json()
        assert [(a["rank"], a["status"]) for a in listed] == [(1, "declined"), (2, "granted")]
        paid = await http.post(
            f"/v1/degree-aid/applications/{ids[1]}/payment", json={"reference": "HY-0001"}
        )
        assert paid.json()["status"] == "paid"
