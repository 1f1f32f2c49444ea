"""skills as a real process on the real stack: a flash sale of scarce seats, skills SIGKILLed in
the middle of it, holds that run out with a moved clock, offers to the waitlist in order, a
leaver's offer ended by membership's event, notices sent once, one trace from app to notice; a
ladder quota never passed by selections made at once."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from gonghui_contracts import Envelope
from gonghui_contracts.events import MemberJoined, MemberLeft
from gonghui_contracts.values import Industry, JoinChannel

from .conftest import (
    Platform,
    StartPlatform,
    as_member,
    as_operator,
    as_staff,
    eventually,
    partner_span,
    publish,
    publish_many,
    trace_holding,
)

pytestmark = pytest.mark.integration
MEMBERS_EVENTS = "membership.events.v1"
WORKERS, CAPACITY, WAITLIST = 600, 50, 30
RETRIES = 100
DISTRICT = "440304"


def joined(member_id: uuid.UUID, district: str = DISTRICT) -> bytes:
    payload = MemberJoined(
        member_id=member_id,
        union_id=f"{district}-county",
        region_code=district,
        city_code=district[:4] + "00",
        industry=Industry.EXPRESS_DELIVERY,
        new_employment_form=True,
        channel=JoinChannel.APP,
        joined_on=date(2026, 11, 1),
    )
    return Envelope.wrap(payload, key=str(member_id), producer="membership").to_bytes()


async def members_known(platform: Platform, count: int) -> None:
    async def known() -> bool:
        rows = await platform.sql("skills", "SELECT count(*) AS n FROM members WHERE active")
        return bool(rows[0]["n"] >= count)

    assert await eventually(known, timeout=90), "skills did not learn the members"


async def publish_session(platform: Platform, capacity: int, waitlist: int) -> str:
    now = datetime.now(UTC)
    course = {
        "provider": "深圳市职工教育和交流中心",
        "title": "深工夜校·无人机驾驶",
        "region_code": DISTRICT,
        "sessions": [
            {
                "campus": "福田校区",
                "opens_at": (now - timedelta(seconds=5)).isoformat(),
                "starts_at": (now + timedelta(days=3)).isoformat(),
                "ends_at": (now + timedelta(days=3, hours=2)).isoformat(),
                "capacity": capacity,
                "waitlist_cap": waitlist,
            }
        ],
    }
    published = await platform.call("skills", "POST", "/v1/courses", course, as_=as_staff(DISTRICT))
    assert published.status_code == 201, published.text
    return str(published.json()["sessions"][0])


@pytest.fixture
async def platform(start_platform: StartPlatform) -> Platform:
    return await start_platform(
        ("skills", "notify"), {"CLOCK_ADJUSTABLE": "true", "SEAT_SWEEP_SECONDS": "0.5"}
    )


async def ask_until_answered(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    """As the app does: the same request (same key) again until skills answers it."""
    for _ in range(200):
        try:
            response = await client.post(path, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.25)  # skills is down: it is restarting
            continue
        if response.status_code >= 500:
            await asyncio.sleep(0.25)
            continue
        assert response.status_code == 200, response.text
        return dict(response.json())
    raise AssertionError("never answered")


async def test_a_flash_sale_with_a_crash_oversells_nothing_and_answers_every_request_once(
    platform: Platform,
) -> None:
    workers = [uuid.uuid4() for _ in range(WORKERS)]
    await publish_many(
        platform.topic(MEMBERS_EVENTS), [(str(w).encode(), joined(w)) for w in workers]
    )
    await members_known(platform, WORKERS)
    session_id = await publish_session(platform, CAPACITY, WAITLIST)
    path = f"/v1/sessions/{session_id}/holds"
    tokens = {w: as_member(str(w)) for w in workers}
    requests = [(w, f"flash-{w.hex[:16]}") for w in workers]
    retried = random.Random(7).sample(requests, RETRIES)  # the app sends these twice
    answered: dict[str, list[dict[str, Any]]] = {}
    gate = asyncio.Semaphore(40)
    killed = asyncio.Event()

    async def ask(client: httpx.AsyncClient, worker: uuid.UUID, key: str) -> None:
        async with gate:
            answer = await ask_until_answered(
                client, path, {**tokens[worker], "Idempotency-Key": key}
            )
        answered.setdefault(key, []).append(answer)
        if sum(map(len, answered.values())) == 200 and not killed.is_set():
            killed.set()
            platform.services["skills"].kill()  # SIGKILL: mid-burst, requests in flight
            await asyncio.to_thread(platform.services["skills"].start)

    async with httpx.AsyncClient(base_url=platform.url("skills"), timeout=30) as client:
        await asyncio.gather(*(ask(client, w, k) for w, k in [*requests, *retried]))
    assert killed.is_set()

    assert len(answered) == WORKERS
    for key, answers in answered.items():  # a retry, across the crash too, is told the same
        assert all(a == answers[0] for a in answers), key
    outcomes = Counter(answers[0]["outcome"] for answers in answered.values())
    assert outcomes == {"held": CAPACITY, "waitlisted": WAITLIST, "sold_out": WORKERS - 80}
    positions = sorted(a[0]["position"] for a in answered.values() if a[0]["position"])
    assert positions == list(range(1, WAITLIST + 1))

    session = await platform.call(
        "skills", "GET", f"/v1/sessions/{session_id}", as_=as_staff(DISTRICT)
    )
    view = session.json()
    assert (view["seats_left"], view["waitlist"]) == (0, WAITLIST)
    assert view["bookings"] == {"held": CAPACITY, "waiting": WAITLIST}
    live = await platform.sql(
        "skills",
        "SELECT member_id, count(*) AS n FROM bookings WHERE state IN "
        "('held', 'confirmed', 'offered', 'waiting') GROUP BY member_id HAVING count(*) > 1",
    )
    assert live == []

    # Ten confirm; the other holds run out; their seats go to the waitlist, in order.
    held = [(w, k) for w, k in requests if answered[k][0]["outcome"] == "held"]
    for worker, key in held[:10]:
        seat = answered[key][0]["seat_id"]
        confirmed = await platform.call(
            "skills", "POST", f"/v1/bookings/{seat}/confirm", as_=tokens[worker]
        )
        assert confirmed.json()["state"] == "confirmed", confirmed.text
    await platform.call(
        "skills", "POST", "/admin/clock/advance", {"seconds": 121}, as_=as_operator()
    )

    async def offered() -> list[Any]:
        rows = await platform.sql("skills", "SELECT member_id, position, state FROM bookings")
        if any(r["state"] == "held" for r in rows):
            return []  # the sweep is still at it
        return [r for r in rows if r["state"] == "offered"]

    offers = await eventually(offered, timeout=30)
    assert sorted(r["position"] for r in offers) == list(range(1, WAITLIST + 1))
    view = (
        await platform.call("skills", "GET", f"/v1/sessions/{session_id}", as_=as_staff(DISTRICT))
    ).json()
    assert view["bookings"] == {"confirmed": 10, "expired": CAPACITY - 10, "offered": WAITLIST}
    assert view["seats_left"] == CAPACITY - 10 - WAITLIST  # no one left waiting: back on sale

    # A member who leaves the union loses their offer; the seat goes back on sale.
    leaver = offers[0]["member_id"]
    left = MemberLeft(
        member_id=leaver, union_id=f"{DISTRICT}-county", reason="离职", left_on=date(2026, 12, 6)
    )
    await publish(
        platform.topic(MEMBERS_EVENTS),
        Envelope.wrap(left, key=str(leaver), producer="membership").to_bytes(),
        key=str(leaver).encode(),
    )

    async def released() -> bool:
        rows = await platform.sql(
            "skills", "SELECT state FROM bookings WHERE member_id = $1", leaver
        )
        return [r["state"] for r in rows] == ["released"]

    assert await eventually(released, timeout=30)

    # Everyone told once: ten confirmations, thirty offers, forty holds run out, one sell-out.
    def told() -> Counter[str]:  # (the members were welcomed too: notify reads their joins)
        return Counter(n["template"] for n in platform.notices() if n["template"] != "welcome")

    expected = {
        "seat_confirmed": 10,
        "seat_offered": WAITLIST,
        "seat_hold_expired": CAPACITY - 10,
        "session_sold_out": 1,
    }
    assert await eventually(lambda: told() == expected, timeout=60), told()


async def test_a_booking_is_one_trace_from_the_app_through_skills_to_the_notice(
    platform: Platform,
) -> None:
    worker = uuid.uuid4()
    await publish(platform.topic(MEMBERS_EVENTS), joined(worker), key=str(worker).encode())
    await members_known(platform, 1)
    session_id = await publish_session(platform, 5, 0)
    token = as_member(str(worker))
    answer = await platform.call(
        "skills",
        "POST",
        f"/v1/sessions/{session_id}/holds",
        as_={**token, "Idempotency-Key": "trace-0001"},
    )
    seat = answer.json()["seat_id"]
    with partner_span("confirm seat", service_name="it-app") as (trace_id, headers):
        confirmed = await platform.call(
            "skills", "POST", f"/v1/bookings/{seat}/confirm", as_={**token, **headers}
        )
    assert confirmed.status_code == 200
    await trace_holding(
        trace_id,
        {
            "it-app": ["confirm seat"],
            "skills": [
                "post /v1/bookings/{seat_id}/confirm",
                f"send {platform.topic('skills.seats.v1')}",
            ],
            "notify": [f"process {platform.topic('skills.seats.v1')}", "notify sink"],
        },
    )


async def test_candidates_selected_at_once_never_pass_the_quota(platform: Platform) -> None:
    workers = [uuid.uuid4() for _ in range(30)]
    await publish_many(
        platform.topic(MEMBERS_EVENTS), [(str(w).encode(), joined(w, "440106")) for w in workers]
    )
    await members_known(platform, len(workers))
    staff = as_staff("440100")
    quota = {"region_code": "440100", "tier": "city", "year": 2025, "quota": 10}
    assert (await platform.call("skills", "PUT", "/v1/ladder/quotas", quota, as_=staff)).is_success
    nominations = []
    for worker in workers:
        body = {
            "member_id": str(worker),
            "region_code": "440100",
            "tier": "city",
            "year": 2025,
            "reason": "羊城工匠培育推荐",
        }
        made = await platform.call("skills", "POST", "/v1/ladder/nominations", body, as_=staff)
        assert made.status_code == 201, made.text
        nominations.append(made.json()["nomination_id"])
    answers = await asyncio.gather(
        *(
            platform.call("skills", "POST", f"/v1/ladder/nominations/{n}/selection", as_=staff)
            for n in nominations
        )
    )
    assert Counter(a.status_code for a in answers) == {200: 10, 409: 20}
    [used] = (await platform.call("skills", "GET", "/v1/ladder/quotas?year=2025", as_=staff)).json()
    assert (used["used"], used["quota"]) == (10, 10)

    def told() -> int:
        return sum(n["template"] == "ladder_quota_exhausted" for n in platform.notices())

    assert await eventually(lambda: told() == 1, timeout=30)
