"""The craftsman ladder on SQLite: nominations once per tier and year, candidates never past the
quota, the quota's end told once, titles from selection or decided elsewhere, revocation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from servicekit import UnitOfWork
from servicekit.clock import Clock
from servicekit.identity import Caller, Role
from servicekit.testing import outbox_rows
from skills import ladder
from skills.errors import NotEligible, Refused
from skills.ladder import NewNomination, NewTitle, Quota
from skills.models import CraftsmanTitle, LadderQuota

from .conftest import Join, http_client

NOW = datetime(2025, 5, 1, tzinfo=UTC)
GUANGZHOU = "440100"


async def nominate(uow: UnitOfWork, member_id: uuid.UUID, tier: str = "city") -> uuid.UUID:
    async with uow() as unit:
        row = await ladder.nominate(
            unit,
            NewNomination(
                member_id=member_id, region_code=GUANGZHOU, tier=tier, year=2025, reason="技能标兵"
            ),
            by="staff-gz",
            now=NOW,
        )
        return row.nomination_id


async def select(uow: UnitOfWork, nomination_id: uuid.UUID) -> None:
    async with uow() as unit:
        row = await ladder.find_nomination(unit, nomination_id)
        await ladder.select_candidate(unit, row, NOW)


async def set_quota(uow: UnitOfWork, quota: int, tier: str = "city") -> None:
    async with uow() as unit:
        await ladder.set_quota(
            unit, Quota(region_code=GUANGZHOU, tier=tier, year=2025, quota=quota)
        )


async def event_types(uow: UnitOfWork) -> list[str]:
    return [json.loads(row.value)["event_type"] for row in await outbox_rows(uow.sessions)]


async def test_candidates_are_selected_until_the_quota_is_used_and_its_end_is_told_once(
    uow: UnitOfWork, new_member: Join
) -> None:
    await set_quota(uow, 3)
    nominations = [await nominate(uow, await new_member(uow)) for _ in range(5)]
    for nomination_id in nominations[:3]:
        await select(uow, nomination_id)
    for nomination_id in nominations[3:]:
        with pytest.raises(Refused, match="used up"):
            await select(uow, nomination_id)
    async with uow() as unit:
        quota = await unit.session.get(LadderQuota, (GUANGZHOU, "city", 2025))
        assert quota is not None
        assert (quota.used, quota.quota, quota.exhausted_at) == (3, 3, NOW)
    kinds = await event_types(uow)
    assert kinds.count("skills.candidate-selected") == 3
    assert kinds.count("skills.ladder-quota-exhausted") == 1
    with pytest.raises(Refused, match="cannot be lower"):
        await set_quota(uow, 2)
    await set_quota(uow, 4)  # a larger quota: one more place
    await select(uow, nominations[3])


async def test_one_nomination_per_tier_and_year_and_only_members(
    uow: UnitOfWork, new_member: Join
) -> None:
    member = await new_member(uow)
    await nominate(uow, member)
    with pytest.raises(Refused, match="already"):
        await nominate(uow, member)
    await nominate(uow, member, tier="district")
    with pytest.raises(NotEligible):
        await nominate(uow, uuid.uuid4())


async def test_titles_come_from_a_selection_or_are_recorded_as_decided_elsewhere(
    uow: UnitOfWork, new_member: Join
) -> None:
    await set_quota(uow, 10)
    selected, merely_nominated = await new_member(uow), await new_member(uow)
    await select(uow, await nominate(uow, selected))
    await nominate(uow, merely_nominated)

    async def record(member_id: uuid.UUID, tier: str, reference: str) -> CraftsmanTitle:
        async with uow() as unit:
            return await ladder.record_title(
                unit,
                NewTitle(member_id=member_id, tier=tier, year=2025, reference=reference),
                by="staff-gz",
                now=NOW,
            )

    title = await record(selected, "city", "穗工〔2025〕12号")
    assert title.source == "selection"
    with pytest.raises(Refused, match="selected candidate"):
        await record(merely_nominated, "city", "穗工〔2025〕12号")
    with pytest.raises(Refused, match="holds this title"):
        await record(selected, "city", "穗工〔2025〕13号")
    national = await record(merely_nominated, "national", "全总〔2025〕3号")
    assert national.source == "decided_elsewhere"
    with pytest.raises(Refused, match="decided elsewhere"):
        await set_quota(uow, 5, tier="national")
    async with uow() as unit:
        held = await ladder.find_title(unit, title.title_id)
        await ladder.revoke_title(unit, held, "弄虚作假", NOW)
    await record(selected, "city", "穗工〔2025〕20号")  # revoked: it can be granted again


async def test_over_http_staff_of_the_region_run_the_ladder_and_members_see_their_titles(
    uow: UnitOfWork, new_member: Join
) -> None:
    worker = await new_member(uow)  # a member of a Futian (Shenzhen) union
    shenzhen = Caller("staff-sz", frozenset({Role.STAFF}), union="440300")
    guangzhou = Caller("staff-gz", frozenset({Role.STAFF}), union="440100")
    caller = {"as": shenzhen}
    nomination = {
        "member_id": str(worker),
        "region_code": "440300",
        "tier": "city",
        "year": 2025,
        "reason": "鹏城工匠推荐",
    }
    async with http_client(uow, Clock(), caller) as http:
        quota = {"region_code": "440300", "tier": "city", "year": 2025, "quota": 1}
        caller["as"] = guangzhou
        assert (await http.put("/v1/ladder/quotas", json=quota)).status_code == 404
        assert (await http.post("/v1/ladder/nominations", json=nomination)).status_code == 404
        caller["as"] = shenzhen
        assert (await http.put("/v1/ladder/quotas", json=quota)).status_code == 200
        made = await http.post("/v1/ladder/nominations", json=nomination)
        assert made.status_code == 201, made.text
        nomination_id = made.json()["nomination_id"]
        selected = await http.post(f"/v1/ladder/nominations/{nomination_id}/selection")
        assert selected.json()["status"] == "selected"
        used = (await http.get("/v1/ladder/quotas", params={"year": 2025})).json()
        assert [(q["tier"], q["used"], q["quota"]) for q in used] == [("city", 1, 1)]
        title = {
            "member_id": str(worker),
            "tier": "city",
            "year": 2025,
            "reference": "深工〔2025〕8号",
        }
        caller["as"] = guangzhou  # another city's union keeps no title of this worker
        assert (await http.post("/v1/ladder/titles", json=title)).status_code == 404
        caller["as"] = shenzhen
        assert (await http.post("/v1/ladder/titles", json=title)).status_code == 201
        caller["as"] = Caller("app-1", frozenset({Role.MEMBER}), member_id=worker)
        mine = (await http.get(f"/v1/ladder/members/{worker}/titles")).json()
        assert [(t["tier"], t["source"]) for t in mine] == [("city", "selection")]
        assert (await http.post("/v1/ladder/nominations", json=nomination)).status_code == 403
        caller["as"] = Caller("app-2", frozenset({Role.MEMBER}), member_id=uuid.uuid4())
        assert (await http.get(f"/v1/ladder/members/{worker}/titles")).status_code == 404
