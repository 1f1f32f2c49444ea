"""Scarce seats on SQLite: holds, the waitlist and its offers, expiry, lapses, cancellation, a
leaver, and the invariants under random interleavings of all of it."""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gonghui_contracts import CATALOG, Envelope
from gonghui_contracts.access import Partner
from gonghui_contracts.events import MemberLeft, SeatRequested
from gonghui_contracts.topics import SKILLS_SEAT_REQUESTS
from gonghui_contracts.values import PartnerKind
from servicekit import UnitOfWork
from servicekit.clock import Clock
from servicekit.consumer import BatchProcessor, Settled
from servicekit.identity import Caller, Role
from servicekit.testing import outbox_rows, record, sqlite_sessions
from skills import courses, handlers, lottery, members, rules, seats
from skills.courses import NewCourse, NewSession
from skills.errors import NotEligible, Refused
from skills.models import Base, Booking, CourseSession
from skills.rules import LIVE, SEATED, SeatTerms

from .conftest import http_client, join

TERMS = SeatTerms()
STARTS_IN = timedelta(days=3)


class World:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow, self.clock = uow, clock
        self.keys = iter(range(1, 10**9))

    async def member(self) -> uuid.UUID:
        return await join(self.uow)

    async def course(
        self,
        *capacities: int,
        waitlist_cap: int = 2,
        per: Literal["session", "course"] = "session",
        starts_in: timedelta = STARTS_IN,
    ) -> list[uuid.UUID]:
        now = self.clock.now()
        course = NewCourse(
            provider="深圳市职工教育和交流中心",
            title="深工夜校·短视频运营",
            region_code="440304",
            one_seat_per=per,
            sessions=[
                NewSession(
                    campus="福田校区",
                    opens_at=now - timedelta(minutes=1),
                    starts_at=now + starts_in + timedelta(hours=i),
                    ends_at=now + starts_in + timedelta(hours=i + 2),
                    capacity=capacity,
                    waitlist_cap=waitlist_cap,
                )
                for i, capacity in enumerate(capacities)
            ],
        )
        async with self.uow() as unit:
            row = await courses.publish(unit, TERMS, course, by="staff-1", now=now)
            await unit.session.flush()
            return [
                s.session_id
                for s in await unit.session.scalars(
                    select(CourseSession)
                    .where(CourseSession.course_id == row.course_id)
                    .order_by(CourseSession.starts_at)
                )
            ]

    async def ask(
        self, member_id: uuid.UUID, session_id: uuid.UUID, key: str | None = None
    ) -> seats.Answer:
        request_key = key or f"req-{next(self.keys):08d}"

        async def work(unit):  # type: ignore[no-untyped-def]
            return await seats.request_seat(
                unit,
                TERMS,
                member_id=member_id,
                session_id=session_id,
                request_key=request_key,
                now=self.clock.now(),
            )

        return await self.uow.once_more_on_conflict(work)

    async def confirm(self, member_id: uuid.UUID, seat_id: uuid.UUID) -> Booking:
        async with self.uow() as unit:
            return await seats.confirm(
                unit, member_id=member_id, seat_id=seat_id, now=self.clock.now()
            )

    async def cancel(self, member_id: uuid.UUID, seat_id: uuid.UUID) -> Booking:
        async with self.uow() as unit:
            return await seats.cancel(
                unit, TERMS, member_id=member_id, seat_id=seat_id, now=self.clock.now()
            )

    async def sweep(self) -> int:
        return await seats.end_due(self.uow, TERMS, self.clock.now())

    async def session(self, session_id: uuid.UUID) -> CourseSession:
        async with self.uow() as unit:
            return await seats.find_session(unit, session_id)

    async def bookings(self, session_id: uuid.UUID) -> dict[uuid.UUID, Booking]:
        async with self.uow() as unit:
            rows = await unit.session.scalars(
                select(Booking).where(Booking.session_id == session_id)
            )
            return {row.member_id: row for row in rows}


async def events(world: World) -> list[tuple[str, dict[str, object]]]:
    rows = await outbox_rows(world.uow.sessions)
    return [(e["event_type"], e["data"]) for e in (json.loads(row.value) for row in rows)]


async def types(world: World) -> list[str]:
    return [kind for kind, _ in await events(world)]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        yield World(UnitOfWork(sessions, "skills"), Clock())


async def test_seats_then_the_waitlist_then_sold_out_and_a_retry_is_answered_the_same(
    world: World,
) -> None:
    [session_id] = await world.course(2, waitlist_cap=1)
    people = [await world.member() for _ in range(4)]
    answers = [await world.ask(p, session_id, key=f"first-{i}") for i, p in enumerate(people)]
    assert [a.outcome for a in answers] == ["held", "held", "waitlisted", "sold_out"]
    assert answers[2].position == 1
    assert answers[0].due_at is not None
    assert TERMS.hold - timedelta(seconds=5) < answers[0].due_at - world.clock.now() <= TERMS.hold
    again = [await world.ask(p, session_id, key=f"first-{i}") for i, p in enumerate(people)]
    assert again == answers
    session = await world.session(session_id)
    assert (session.taken, session.waiting, session.sold_out_at is not None) == (2, 1, True)
    assert (await types(world)).count("skills.session-sold-out") == 1


async def test_a_hold_lasts_its_time_then_its_seat_is_offered_in_order_and_a_lapsed_offer_passes_on(
    world: World,
) -> None:
    [session_id] = await world.course(1, waitlist_cap=2)
    first, second, third = [await world.member() for _ in range(3)]
    held = await world.ask(first, session_id)
    await world.ask(second, session_id)
    await world.ask(third, session_id)
    assert held.due_at is not None
    world.clock.advance(TERMS.hold + timedelta(seconds=1))
    with pytest.raises(Refused, match="hold ran out"):
        await world.confirm(first, held.seat_id)  # type: ignore[arg-type]
    assert await world.sweep() == 1
    assert await world.sweep() == 0  # freed once
    booked = await world.bookings(session_id)
    assert [booked[m].state for m in (first, second, third)] == ["expired", "offered", "waiting"]
    world.clock.advance(TERMS.offer_time + timedelta(seconds=1))
    assert await world.sweep() == 1
    booked = await world.bookings(session_id)
    assert [booked[m].state for m in (second, third)] == ["lapsed", "offered"]
    confirmed = await world.confirm(third, booked[third].seat_id)
    assert (confirmed.state, confirmed.via) == ("confirmed", "offer")
    session = await world.session(session_id)
    assert (session.taken, session.waiting) == (1, 0)
    kinds = await types(world)
    assert kinds.count("skills.hold-expired") == 1
    assert kinds.count("skills.waitlist-offered") == 2
    assert kinds.count("skills.offer-lapsed") == 1
    assert kinds[-1] == "skills.seat-confirmed"


async def test_a_seat_given_up_close_to_the_start_goes_back_on_sale(world: World) -> None:
    [session_id] = await world.course(
        1, starts_in=TERMS.no_offers_before_start - timedelta(minutes=5)
    )
    first, waiting, late = [await world.member() for _ in range(3)]
    held = await world.ask(first, session_id)
    assert (await world.ask(waiting, session_id)).outcome == "waitlisted"
    await world.confirm(first, held.seat_id)  # type: ignore[arg-type]
    await world.cancel(first, held.seat_id)  # type: ignore[arg-type]
    session = await world.session(session_id)
    assert (session.taken, session.waiting) == (0, 1)  # not offered: too late to plan for
    assert (await world.ask(late, session_id)).outcome == "held"
    # the waitlisted member asking again gets a seat on sale, were there one
    assert (await world.ask(waiting, session_id)).outcome == "waitlisted"


async def test_one_live_hold_at_a_time_and_one_seat_per_course_when_the_course_says_so(
    world: World,
) -> None:
    a, b = await world.course(5, 5, per="course")
    c, d = await world.course(5, 5)
    member = await world.member()
    held = await world.ask(member, a)
    with pytest.raises(Refused, match="hold another seat"):
        await world.ask(member, c)
    await world.confirm(member, held.seat_id)  # type: ignore[arg-type]
    assert (await world.ask(member, b)).seat_id == held.seat_id  # already has this course's seat
    assert (await world.ask(member, c)).outcome == "held"
    assert (await world.session(b)).taken == 0
    assert (await world.session(d)).taken == 0


async def test_only_active_members_book_and_a_leavers_holds_and_offers_end(world: World) -> None:
    [session_id] = await world.course(1, waitlist_cap=3)
    with pytest.raises(NotEligible):
        await world.ask(uuid.uuid4(), session_id)
    holder, waiting, next_one = [await world.member() for _ in range(3)]
    await world.ask(holder, session_id)
    await world.ask(waiting, session_id)
    await world.ask(next_one, session_id)
    async with world.uow() as unit:
        ended = await members.left(
            unit,
            TERMS,
            MemberLeft(
                member_id=holder, union_id="440304-union", reason="left", left_on=date(2026, 12, 1)
            ),
            world.clock.now(),
        )
    assert ended == 1
    booked = await world.bookings(session_id)
    assert [booked[m].state for m in (holder, waiting, next_one)] == [
        "released",
        "offered",
        "waiting",
    ]
    with pytest.raises(NotEligible):
        await world.ask(holder, session_id)


async def test_a_cancelled_session_releases_everyone_and_takes_no_more(world: World) -> None:
    [session_id] = await world.course(2, waitlist_cap=2)
    people = [await world.member() for _ in range(4)]
    for person in people:
        await world.ask(person, session_id)
    async with world.uow() as unit:
        session = await seats.find_session(unit, session_id)
        assert (
            await courses.cancel_session(unit, session, reason="场地维修", now=world.clock.now())
            == 4
        )
    released = [data for kind, data in await events(world) if kind == "skills.seat-released"]
    assert sorted(str(p) for p in people) == sorted(str(d["member_id"]) for d in released)
    assert {d["reason"] for d in released} == {"session_cancelled"}
    with pytest.raises(Refused, match="cancelled"):
        await world.ask(await world.member(), session_id)
    session = await world.session(session_id)
    assert (session.taken, session.waiting, session.status) == (0, 0, "cancelled")


# Over HTTP -----------------------------------------------------------------------------------


def client(world: World, caller: dict[str, Caller]) -> httpx.AsyncClient:
    return http_client(world.uow, world.clock, caller)


async def test_over_http_staff_publish_members_book_and_scope_holds(world: World) -> None:
    member_id = await world.member()
    staff = Caller("staff-ft", frozenset({Role.STAFF}), union="440304")
    other_staff = Caller("staff-th", frozenset({Role.STAFF}), union="440106")
    worker = Caller("app-1", frozenset({Role.MEMBER}), member_id=member_id)
    caller = {"as": staff}
    now = world.clock.now()
    body: dict[str, Any] = {
        "provider": "深圳市职工教育和交流中心",
        "title": "深工夜校·电工证",
        "region_code": "440304",
        "sessions": [
            {
                "campus": "福田校区",
                "opens_at": (now - timedelta(minutes=1)).isoformat(),
                "starts_at": (now + STARTS_IN).isoformat(),
                "ends_at": (now + STARTS_IN + timedelta(hours=2)).isoformat(),
                "capacity": 1,
            }
        ],
    }
    async with client(world, caller) as http:
        caller["as"] = other_staff
        assert (await http.post("/v1/courses", json=body)).status_code == 404
        caller["as"] = staff
        bad = {
            **body,
            "sessions": [{**body["sessions"][0], "starts_at": body["sessions"][0]["ends_at"]}],
        }
        assert (await http.post("/v1/courses", json=bad)).status_code == 422
        published = await http.post("/v1/courses", json=body)
        assert published.status_code == 201, published.text
        [session_id] = published.json()["sessions"]

        caller["as"] = worker
        missing_key = await http.post(f"/v1/sessions/{session_id}/holds")
        assert missing_key.status_code == 422
        assert "Idempotency-Key" in missing_key.text
        # the key names the request in Redis too: only a short run of plain characters
        for hostile in ("short", "k" * 65, "two words-0001", "a*b?c[d]-0001", "k-0001\\x00"):
            refused_key = await http.post(
                f"/v1/sessions/{session_id}/holds", headers={"Idempotency-Key": hostile}
            )
            assert refused_key.status_code == 422, hostile
            assert "Idempotency-Key" in refused_key.text
        answer = await http.post(
            f"/v1/sessions/{session_id}/holds", headers={"Idempotency-Key": "app-1-0001"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "held"
        seat_id = answer.json()["seat_id"]
        listed = (await http.get("/v1/sessions", params={"region": "4403"})).json()
        assert [(s["session_id"], s["seats_left"]) for s in listed] == [(session_id, 0)]
        assert (await http.get("/v1/sessions", params={"available": "true"})).json() == []
        confirmed = await http.post(f"/v1/bookings/{seat_id}/confirm")
        assert confirmed.json()["state"] == "confirmed"
        assert [b["state"] for b in (await http.get("/v1/bookings")).json()] == ["confirmed"]

        caller["as"] = Caller("app-2", frozenset({Role.MEMBER}), member_id=uuid.uuid4())
        assert (await http.post(f"/v1/bookings/{seat_id}/cancel")).status_code == 404
        refused = await http.post(
            f"/v1/sessions/{session_id}/holds", headers={"Idempotency-Key": "app-2-0001"}
        )
        assert refused.status_code == 403

        caller["as"] = other_staff
        assert (await http.get(f"/v1/sessions/{session_id}/bookings")).status_code == 404
        caller["as"] = staff
        roster = (await http.get(f"/v1/sessions/{session_id}/bookings")).json()
        assert [(b["seat_id"], b["state"]) for b in roster] == [(seat_id, "confirmed")]
        early = await http.post(
            f"/v1/sessions/{session_id}/attendance",
            json={"seats": [{"seat_id": seat_id, "attended": True}]},
        )
        assert early.status_code == 409
        one = (await http.get(f"/v1/sessions/{session_id}")).json()
        assert one["bookings"] == {"confirmed": 1}


# Invariants under random interleavings ---------------------------------------------------------

MEMBERS = 6
operations = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), st.integers(0, MEMBERS - 1), st.integers(0, 2)),
        st.tuples(st.just("ask"), st.integers(0, MEMBERS - 1), st.just(0)),
        st.tuples(st.just("confirm"), st.integers(0, MEMBERS - 1), st.integers(0, 2)),
        st.tuples(st.just("cancel"), st.integers(0, MEMBERS - 1), st.integers(0, 2)),
        st.tuples(st.just("leave"), st.integers(0, MEMBERS - 1), st.just(0)),
        st.tuples(st.just("wait"), st.sampled_from([30, 121, 3600, 7300]), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.sampled_from(["session", "course"]))
def test_seats_never_oversold_and_every_count_is_exact(
    plan: list[tuple[str, int, int]], per: Literal["session", "course"]
) -> None:
    asyncio.run(_interleave(plan, per))


async def _interleave(plan: list[tuple[str, int, int]], per: Literal["session", "course"]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async with sqlite_sessions(Path(scratch), Base.metadata) as sessions:
            world = World(UnitOfWork(sessions, "skills"), Clock())
            sessions_ids = await world.course(
                1, 2, 1, waitlist_cap=3, per=per, starts_in=timedelta(hours=5)
            )
            people = [await world.member() for _ in range(MEMBERS)]
            for action, who, which in plan:
                if action == "wait":
                    world.clock.advance(timedelta(seconds=who))
                    await world.sweep()
                    await _check_invariants(world, sessions_ids)
                    continue
                member_id, session_id = people[who], sessions_ids[which]
                try:
                    if action == "ask":
                        await world.ask(member_id, session_id)
                    else:
                        booked = (await world.bookings(session_id)).get(member_id)
                        if booked is None:
                            continue
                        if action == "confirm":
                            await world.confirm(member_id, booked.seat_id)
                        elif action == "cancel":
                            await world.cancel(member_id, booked.seat_id)
                        else:
                            async with world.uow() as unit:
                                await members.left(
                                    unit,
                                    TERMS,
                                    MemberLeft(
                                        member_id=member_id,
                                        union_id="u",
                                        reason="r",
                                        left_on=date(2026, 12, 1),
                                    ),
                                    world.clock.now(),
                                )
                except (Refused, NotEligible):
                    pass
                await _check_invariants(world, sessions_ids)


async def _check_invariants(world: World, session_ids: list[uuid.UUID]) -> None:
    async with world.uow() as unit:
        rows = list(await unit.session.scalars(select(Booking)))
        holds = await unit.session.scalar(
            select(func.count())
            .where(Booking.state == "held")
            .group_by(Booking.member_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    assert (holds or 0) <= 1
    live_scopes = [(b.scope_key, b.member_id) for b in rows if b.state in LIVE]
    assert len(live_scopes) == len(set(live_scopes))
    for session_id in session_ids:
        session = await world.session(session_id)
        mine = [b for b in rows if b.session_id == session_id]
        seated = sum(b.state in SEATED for b in mine)
        waiting = [b.position for b in mine if b.state == "waiting"]
        assert session.taken == seated <= session.capacity
        assert session.waiting == len(waiting) <= session.waitlist_cap
        offered = [b.position for b in mine if b.state in ("offered", "lapsed") or b.via == "offer"]
        assert all(o is not None and o < w for o in offered for w in waiting if w is not None)


# Lotteries -------------------------------------------------------------------------------------


async def lottery_session(world: World, seats_: int, waitlist: int) -> uuid.UUID:
    now = world.clock.now()
    course = NewCourse(
        provider="广州市工人文化宫",
        title="职工大学堂·茶艺（抽签）",
        region_code="440106",
        sessions=[
            NewSession(
                campus="天河校区",
                opens_at=now - timedelta(minutes=1),
                starts_at=now + timedelta(days=5),
                ends_at=now + timedelta(days=5, hours=2),
                capacity=seats_,
                waitlist_cap=waitlist,
                allocation="lottery",
                draw_at=now + timedelta(days=1),
            )
        ],
    )
    async with world.uow() as unit:
        row = await courses.publish(unit, TERMS, course, by="staff-th", now=now)
        await unit.session.flush()
        return (
            await unit.session.execute(
                select(CourseSession.session_id).where(CourseSession.course_id == row.course_id)
            )
        ).scalar_one()


async def test_a_lottery_takes_entries_then_draws_once_with_a_seed_anyone_can_replay(
    world: World,
) -> None:
    session_id = await lottery_session(world, seats_=2, waitlist=2)
    people = [await world.member() for _ in range(6)]
    entries = [await world.ask(p, session_id, key=f"entry-{i}") for i, p in enumerate(people)]
    assert {e.outcome for e in entries} == {"entered"}
    assert await world.ask(people[0], session_id, key="entry-0") == entries[0]
    assert (await world.session(session_id)).taken == 0
    assert await lottery.draw_due(world.uow, TERMS, world.clock.now()) == 0  # not due yet
    world.clock.advance(timedelta(days=1))
    with pytest.raises(Refused, match="drawing"):
        await world.ask(await world.member(), session_id)
    assert await lottery.draw_due(world.uow, TERMS, world.clock.now()) == 1
    assert await lottery.draw_due(world.uow, TERMS, world.clock.now()) == 0  # drawn once
    booked = await world.bookings(session_id)
    states = sorted(b.state for b in booked.values())
    assert states == ["not_drawn", "not_drawn", "offered", "offered", "waiting", "waiting"]
    session = await world.session(session_id)
    assert (session.taken, session.waiting, session.sold_out_at is not None) == (2, 2, True)
    [drawn] = [data for kind, data in await events(world) if kind == "skills.lottery-drawn"]
    assert (drawn["entries"], drawn["won"], drawn["waitlisted"]) == (6, 2, 2)
    seed = int(str(drawn["seed"]))
    replay = rules.draw(reversed(people), seed, 2, 2)  # any order: the same draw
    assert {booked[m].state for m in replay.won} == {"offered"}
    assert [booked[m].position for m in replay.waiting] == [1, 2]
    offered = (await types(world)).count("skills.waitlist-offered")
    assert offered == 2
    assert (await world.ask(await world.member(), session_id)).outcome == "sold_out"


@given(st.lists(st.uuids(), unique=True, max_size=30), st.integers(0, 2**62), st.randoms())
def test_a_draw_depends_on_the_seed_and_the_entries_not_their_order(
    entries: list[uuid.UUID], seed: int, rng: random.Random
) -> None:
    shuffled = list(entries)
    rng.shuffle(shuffled)
    first, again = rules.draw(entries, seed, 5, 3), rules.draw(shuffled, seed, 5, 3)
    assert first == again
    assert sorted(first.won + first.waiting + first.not_drawn, key=str) == sorted(entries, key=str)
    assert len(first.won) == min(5, len(entries))


# Through an app gateway, over Kafka --------------------------------------------------------------

GATEWAY = Partner("sz-i-gong", PartnerKind.APP_GATEWAY)


async def test_an_app_gateway_asks_as_itself_and_hears_back_on_its_own_topic(world: World) -> None:
    [session_id] = await world.course(1, waitlist_cap=0)
    first, second = await world.member(), await world.member()
    [subscription] = [s for s in handlers.subscriptions(TERMS, world.clock) if s.reject]
    consumer = BatchProcessor(
        subscription,
        sessions=world.uow.sessions,
        catalog=CATALOG,
        group="skills",
        producer="skills",
        sender=GATEWAY,
    )
    own_topic = f"{SKILLS_SEAT_REQUESTS.name}.{GATEWAY.partner_id}"

    def request(ref: str, member_id: uuid.UUID, gateway: str = GATEWAY.partner_id) -> bytes:
        payload = SeatRequested(
            request_ref=ref, gateway_id=gateway, member_id=member_id, session_id=session_id
        )
        return Envelope.wrap(payload, key=str(session_id), producer="gateway").to_bytes()

    messages = [
        request("r-1", first),
        request("r-1", first),  # a retry: the same answer
        request("r-2", second),
        request("r-3", uuid.uuid4()),  # nobody the union knows
        request("r-4", second, gateway="yue-gong-hui"),  # another gateway's name
        b'{"not": "an envelope"',
    ]
    settled = await consumer.process([record(own_topic, m) for m in messages])
    assert settled[:4] == [Settled.HANDLED] * 4
    assert settled[4:] == [Settled.REJECTED, Settled.DEAD_LETTER]
    rows = await outbox_rows(world.uow.sessions)
    assert [row.topic for row in rows if row.topic.endswith(".dlq")] == [f"{own_topic}.dlq"]
    answers = [
        (row.topic, json.loads(row.value)["data"])
        for row in rows
        if row.topic.startswith("partner.skills.seat-outcomes.v1")
    ]
    assert {topic for topic, _ in answers} == {"partner.skills.seat-outcomes.v1.sz-i-gong"}
    told = [
        (a["request_ref"], a["outcome"], [r["field"] for r in a["reasons"]]) for _, a in answers
    ]
    assert told == [
        ("r-1", "held", []),
        ("r-1", "held", []),
        ("r-2", "sold_out", []),
        ("r-3", "rejected", ["member_id"]),
        ("r-4", "rejected", ["gateway_id"]),
    ]
    assert answers[0][1]["seat_id"] == answers[1][1]["seat_id"]


async def test_a_request_whose_seat_went_meanwhile_is_asked_again_a_few_times_then_refused() -> (
    None
):
    tries: list[int] = []

    async def gone_twice() -> seats.Answer:
        tries.append(1)
        if len(tries) < 3:
            raise seats.SeatGone
        return seats.Answer("sold_out")

    assert await seats.asked_again_if_gone(gone_twice) == seats.Answer("sold_out")
    assert len(tries) == 3

    async def always_gone() -> seats.Answer:
        tries.append(1)
        raise seats.SeatGone

    with pytest.raises(Refused, match="changed meanwhile"):
        await seats.asked_again_if_gone(always_gone)
    assert len(tries) == 3 + seats.SEAT_GONE_TRIES


async def test_whom_postgres_knows_for_a_session_and_which_sessions_are_still_full(
    world: World,
) -> None:
    """What the seat gate rebuilds from: those answered for the session and those holding a
    live booking in its scope (here the course); and the sessions that are still full."""
    first, second, roomy = await world.course(1, 1, 5, waitlist_cap=1, per="course")
    held, waiting, told_sold_out, elsewhere, never = [await world.member() for _ in range(5)]
    assert (await world.ask(held, first)).outcome == "held"
    assert (await world.ask(waiting, first)).outcome == "waitlisted"
    assert (await world.ask(told_sold_out, first)).outcome == "sold_out"
    assert (await world.ask(elsewhere, second)).outcome == "held"
    async with world.uow() as unit:
        # one seat per course: a live booking of its other session counts
        known = {held, waiting, told_sold_out, elsewhere}
        assert set(await seats.known_to_session(unit, first)) == known
        assert set(await seats.known_to_session(unit, second)) == {elsewhere, held, waiting}
        assert never not in await seats.known_to_session(unit, roomy)
        marked = [first, second, roomy]
        assert await seats.still_full(unit, marked, world.clock.now()) == {first}
    booking = (await world.bookings(first))[held]
    await world.cancel(held, booking.seat_id)  # the seat is offered: the waitlist has room
    async with world.uow() as unit:
        assert await seats.still_full(unit, marked, world.clock.now()) == set()
