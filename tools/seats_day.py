"""Free courses and the seats that go in minutes: Shenzhen's 深工夜校 catalogue (108 courses, 774
sessions) and a Guangzhou month of 职工大学堂 (400 lessons on 30 campuses) published; then one
flash session of 300 seats and a waitlist of 200, asked for by 10,000 workers within a minute
(and 2,000 retries of the same requests); most holders confirm, the rest let their hold run out
and the waitlist is offered the seats in order; some offers lapse and pass on.

Run by tools/demo.py after the claims, with the ceremony's members (more couriers join first, as
a second batch of the courier company, until there are enough workers), against skills started
with CLOCK_ADJUSTABLE=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import localrun
import scenario
import staff
import streams
from injury_day import until
from opentelemetry.propagate import inject
from rich.console import Console
from rich.table import Table

from servicekit.identity import Role

SKILLS = localrun.SERVICES["skills"].url
REQUESTS = "partner.membership.join-requests.v1"
OUTCOMES = "partner.membership.join-outcomes.v1"
SHENZHEN = ["440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310"]
GUANGZHOU = ["440103", "440104", "440105", "440106", "440111", "440112", "440113", "440114"]
SUBJECTS = [
    "短视频运营",
    "直播电商",
    "无人机驾驶",
    "电工证考前培训",
    "焊工技能",
    "Python入门",
    "办公软件",
    "英语口语",
    "普通话",
    "书法",
    "茶艺",
    "插花",
    "摄影",
    "瑜伽",
    "八段锦",
    "育婴师",
    "养老护理",
    "心理健康",
    "劳动法律知识",
    "新能源汽车维修",
    "叉车操作",
    "电子商务",
    "烘焙",
    "化妆造型",
]
FLASH_SEATS, FLASH_WAITLIST, FLASH_WORKERS, FLASH_RETRIES = 300, 200, 10_000, 2_000
NO_SHOWS, LAPSES = 50, 10  # holders who never confirm; offered who never answer
ASKING_WINDOW = 60.0  # seconds: the workers' requests spread over the first minute
# The session's own hold time: longer than the asking takes here, so that no hold runs out
# (and no waitlist place is freed) before every worker has asked
HOLD_SECONDS = 600


@dataclass
class Flash:
    session_id: str
    opens_at: datetime
    answers: dict[str, list[dict[str, Any]]]  # request key → every answer it got
    keys: dict[str, uuid.UUID]  # request key → worker
    peak_taken: int
    asked_in: float


def member_token(member_id: uuid.UUID) -> staff.Headers:
    return localrun.local_tokens().headers(
        Role.MEMBER, subject=f"app-{member_id.hex[:12]}", member_id=str(member_id)
    )


def course(
    rng: random.Random, provider: str, region: str, campus: str, sessions: int
) -> dict[str, Any]:
    now = datetime.now(UTC)
    first = now + timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 3))
    return {
        "provider": provider,
        "title": f"{rng.choice(SUBJECTS)}（{rng.randint(1, 9)}期）",
        "region_code": region,
        "one_seat_per": "course" if sessions > 1 else "session",
        "sessions": [
            {
                "campus": campus,
                "opens_at": now.isoformat(),
                "starts_at": (first + timedelta(days=7 * i)).isoformat(),
                "ends_at": (first + timedelta(days=7 * i, hours=2)).isoformat(),
                "capacity": rng.choice([30, 40, 50, 60, 80]),
            }
            for i in range(sessions)
        ],
    }


def catalogue(rng: random.Random) -> list[dict[str, Any]]:
    """Shenzhen's 108 courses in 774 sessions, and Guangzhou's 400 lessons on 30 campuses."""
    per_course = [7] * 18 + [8] * 18 + [7] * 72  # 108 courses, 774 sessions
    shenzhen = [
        course(rng, "深圳市职工教育和交流中心（深工夜校）", region, f"深工夜校{region[-2:]}校区", n)
        for n, region in zip(per_course, (SHENZHEN * 14)[:108], strict=True)
    ]
    campuses = [(GUANGZHOU[i % 8], f"职工大学堂第{i + 1}校区") for i in range(30)]
    guangzhou = [
        course(rng, "广州市总工会职工大学堂", region, campus, 4)
        for region, campus in (campuses * 4)[:100]
    ]
    return shenzhen + guangzhou


async def publish_catalogue(skills: staff.ServiceClient, courses: list[dict[str, Any]]) -> int:
    published = await asyncio.gather(
        *(
            skills.ok(
                "POST", "/v1/courses", body, as_=staff.as_staff(body["region_code"][:4] + "00")
            )
            for body in courses
        )
    )
    return sum(len(p["sessions"]) for p in published)


async def sessions_in(skills: staff.ServiceClient, region: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = await skills.ok("GET", f"/v1/sessions?region={region}&limit=500&offset={len(found)}")
        found += page
        if len(page) < 500:
            return found


async def more_workers(run: str, needed: int) -> list[uuid.UUID]:
    """A second batch of the courier company's union: `needed` more couriers join."""
    if needed <= 0:
        return []
    batch = scenario.build(f"{run}b", total=needed, repeats=0, invalid=0, seed=20241206)
    sf = localrun.partner(scenario.PARTNER)
    await streams.publish_traced(REQUESTS, list(zip(batch.refs, batch.requests, strict=True)), sf)
    refs = set(batch.refs)
    outcomes = await streams.read_events([streams.own_topic(OUTCOMES, sf)], timeout=300, quiet=10)
    return [
        uuid.UUID(o["data"]["member_id"])
        for o in outcomes
        if o["data"]["request_ref"] in refs and o["data"]["outcome"] == "joined"
    ]


async def flash_sale(
    skills: staff.ServiceClient,
    client: httpx.AsyncClient,
    workers: list[uuid.UUID],
    on_held: Callable[[str, uuid.UUID, str], Awaitable[None]],
) -> Flash:
    """The workers ask (some twice) over the first minute after opening; a worker told "held"
    goes on at once with `on_held` (key, worker, seat), as the app does."""
    rng = random.Random(2026)
    now = datetime.now(UTC)
    opens_at = now + timedelta(seconds=15)
    body = {
        "provider": "深圳市职工教育和交流中心（深工夜校）",
        "title": "深工夜校·无人机驾驶（周六特别班）",
        "region_code": "440304",
        "sessions": [
            {
                "campus": "深工夜校福田校区",
                "opens_at": opens_at.isoformat(),
                "starts_at": (now + timedelta(days=3)).isoformat(),
                "ends_at": (now + timedelta(days=3, hours=3)).isoformat(),
                "capacity": FLASH_SEATS,
                "waitlist_cap": FLASH_WAITLIST,
                "hold_seconds": HOLD_SECONDS,
            }
        ],
    }
    published = await skills.ok("POST", "/v1/courses", body, as_=staff.as_staff("440300"))
    session_id = published["sessions"][0]
    path = f"{SKILLS}/v1/sessions/{session_id}/holds"
    keys = {f"app-{w.hex[:20]}": w for w in workers}
    tokens = {w: member_token(w) for w in workers}
    asks = [(rng.uniform(0, ASKING_WINDOW), key) for key in keys]
    asks += [(at + rng.uniform(0.5, 5), key) for at, key in rng.sample(asks, FLASH_RETRIES)]
    answers: dict[str, list[dict[str, Any]]] = {}
    gate = asyncio.Semaphore(64)
    await asyncio.sleep(max(0.0, (opens_at - datetime.now(UTC)).total_seconds()))
    started = time.monotonic()

    async def ask(at: float, key: str) -> None:
        await asyncio.sleep(at)
        async with gate:
            answer = await ask_until_answered(
                client, path, {**tokens[keys[key]], "Idempotency-Key": key}
            )
        first = key not in answers
        answers.setdefault(key, []).append(answer)
        if first and answer["outcome"] == "held":
            await on_held(key, keys[key], answer["seat_id"])

    peak = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak
        while sampling:
            view = await skills.ok("GET", f"/v1/sessions/{session_id}")
            peak = max(peak, view["capacity"] - view["seats_left"])
            await asyncio.sleep(0.2)

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(ask(at, key) for at, key in asks))
    asked_in = time.monotonic() - started
    sampling = False
    await sampler
    return Flash(session_id, opens_at, answers, keys, peak, asked_in)


async def ask_until_answered(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    """As the app does: the same request (same key) again until skills answers it (a dropped
    connection, a 5xx); its answer is the same however often it is asked."""
    for _ in range(50):
        try:
            response = await client.post(path, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if response.status_code < 500:
            response.raise_for_status()
            return dict(response.json())
        await asyncio.sleep(0.2)
    raise RuntimeError(f"POST {path}: no answer after 50 tries")


async def confirm(skills: staff.ServiceClient, worker: uuid.UUID, seat_id: str) -> dict[str, Any]:
    with_trace: dict[str, str] = {}
    inject(with_trace)
    return dict(
        await skills.ok(
            "POST", f"/v1/bookings/{seat_id}/confirm", as_={**member_token(worker), **with_trace}
        )
    )


async def roster(skills: staff.ServiceClient, session_id: str, state: str) -> list[dict[str, Any]]:
    path = f"/v1/sessions/{session_id}/bookings?state={state}&limit=500"
    return list(await skills.ok("GET", path, as_=staff.as_staff("440300")))


async def run(console: Console, run_id: str, members: list[str]) -> bool:
    rng = random.Random(774)
    console.rule("[bold]Free courses: 深工夜校 and 职工大学堂, and a flash session of 300 seats")
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=80)) as client:
        skills = staff.ServiceClient(client, SKILLS, in_flight=8)
        sessions = await publish_catalogue(skills, catalogue(rng))
        shenzhen, guangzhou = await sessions_in(skills, "4403"), await sessions_in(skills, "4401")
        console.print(f"published {sessions:,} sessions in {time.monotonic() - started:.1f}s")

        workers = [uuid.UUID(m) for m in members][:FLASH_WORKERS]
        workers += await more_workers(run_id, FLASH_WORKERS - len(workers))
        await until(
            lambda: streams.caught_up("skills", "membership.events.v1"), "skills knows them", 300
        )
        provider_tracer, tracer = streams.producer_tracer("shenzhen-app")
        traces: list[str] = []
        no_shows: set[str] = set()

        async def confirm_or_not(key: str, worker: uuid.UUID, seat: str) -> None:
            if len(no_shows) < NO_SHOWS:  # the first few holders never come back
                no_shows.add(key)
                return
            with tracer.start_as_current_span("confirm seat") as span:
                traces.append(format(span.get_span_context().trace_id, "032x"))
                await confirm(skills, worker, seat)

        flash = await flash_sale(skills, client, workers, confirm_or_not)
        console.print(
            f"{len(flash.keys):,} workers asked (+{FLASH_RETRIES:,} retries) in "
            f"{flash.asked_in:.1f}s"
        )
        provider = staff.as_staff("440300")
        session_path = f"/v1/sessions/{flash.session_id}"
        sold_out = await skills.ok("GET", session_path, as_=provider)
        # the no-shows' holds run out
        await skills.ok("POST", "/admin/clock/advance", {"seconds": HOLD_SECONDS + 1})
        await until(
            lambda: states_are(
                skills, flash.session_id, held=0, expired=NO_SHOWS, offered=NO_SHOWS
            ),
            "the waitlist offered",
            60,
        )
        offers = await roster(skills, flash.session_id, "live")
        offered = [b for b in offers if b["state"] == "offered"]
        for booking in offered[LAPSES:]:
            await confirm(skills, uuid.UUID(booking["member_id"]), booking["seat_id"])
        await skills.ok("POST", "/admin/clock/advance", {"seconds": 2 * 3600 + 1})  # offers lapse
        await until(
            lambda: states_are(skills, flash.session_id, lapsed=LAPSES, offered=LAPSES),
            "lapsed offers passed on",
            60,
        )
        second = [
            b for b in await roster(skills, flash.session_id, "live") if b["state"] == "offered"
        ]
        for booking in second:
            await confirm(skills, uuid.UUID(booking["member_id"]), booking["seat_id"])
        final = await skills.ok("GET", session_path, as_=provider)
        provider_tracer.shutdown()
    sink = localrun.NoticeSink()
    expected_notices = {
        "seat_confirmed": FLASH_SEATS,
        "seat_offered": NO_SHOWS + LAPSES,
        "seat_offer_lapsed": LAPSES,
        "seat_hold_expired": NO_SHOWS,
        "session_sold_out": 1,
    }

    def seat_notices() -> Counter[str]:
        return Counter(n["template"] for n in sink.read() if n["template"] in expected_notices)

    async def all_told() -> bool:
        return seat_notices() == expected_notices

    with contextlib.suppress(TimeoutError):  # the checks below say what is missing
        await until(all_told, "every seat notice sent", 120)
    told = seat_notices()
    return await show(
        console,
        flash=flash,
        published=(sessions, shenzhen, guangzhou),
        sold_out=sold_out,
        offered=(offered, second),
        final=final,
        told=told,
        expected_notices=expected_notices,
        traces=traces,
        elapsed=time.monotonic() - started,
    )


async def states_are(skills: staff.ServiceClient, session_id: str, **expected: int) -> bool:
    """The session's bookings in these states are as many as expected."""
    view = await skills.ok("GET", f"/v1/sessions/{session_id}", as_=staff.as_staff("440300"))
    states: dict[str, int] = view["bookings"] or {}
    return all(states.get(state, 0) == count for state, count in expected.items())


async def show(
    console: Console,
    *,
    flash: Flash,
    published: tuple[int, list[dict[str, Any]], list[dict[str, Any]]],
    sold_out: dict[str, Any],
    offered: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    final: dict[str, Any],
    told: Counter[str],
    expected_notices: dict[str, int],
    traces: list[str],
    elapsed: float,
) -> bool:
    sessions, shenzhen, guangzhou = published
    first, second = offered
    firsts = {key: answers[0] for key, answers in flash.answers.items()}
    outcomes = Counter(a["outcome"] for a in firsts.values())
    retried = sum(len(answers) - 1 for answers in flash.answers.values())
    same = all(all(a == answers[0] for a in answers) for answers in flash.answers.values())
    positions = sorted(a["position"] for a in firsts.values() if a["outcome"] == "waitlisted")
    first_positions = sorted(b["position"] for b in first)
    second_positions = sorted(b["position"] for b in second)
    full_after = datetime.fromisoformat(sold_out["sold_out_at"]) - flash.opens_at
    dead = await streams.dead_letters()

    table = Table(title=f"Courses and the flash session — done in {elapsed:.1f}s")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, object]] = [
        ("sessions published (Shenzhen 深工夜校 + Guangzhou 职工大学堂)", sessions),
        ("  Shenzhen's, on sale", len(shenzhen)),
        ("  Guangzhou's, on sale", len(guangzhou)),
        ("  Guangzhou's campuses", len({s["campus"] for s in guangzhou})),
        ("flash session: workers asking within a minute", len(flash.keys)),
        ("  retries of the same request", retried),
        ("  held", outcomes["held"]),
        ("  waitlisted", outcomes["waitlisted"]),
        ("  told sold out", outcomes["sold_out"]),
        ("  seats taken at most (sampled every 0.2 s)", flash.peak_taken),
        ("  sold out after opening", f"{full_after.total_seconds():.1f}s"),
        ("holds that ran out → offered to the waitlist", len(first)),
        ("offers that lapsed → offered to the next", len(second)),
        ("seats confirmed in the end", final["bookings"].get("confirmed", 0)),
        ("still on the waitlist", final["waitlist"]),
        *[(f"notices: {template}", count) for template, count in sorted(told.items())],
        ("dead letters, all topics", dead),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)
    waitlisted = FLASH_WAITLIST
    checks = [
        (
            "catalogue: 774 Shenzhen sessions, 400 Guangzhou on 30 campuses",
            (len(shenzhen), len(guangzhou), len({s["campus"] for s in guangzhou}))
            == (774, 400, 30),
        ),
        ("every worker answered; retries told the same", len(firsts) == len(flash.keys) and same),
        (
            "300 held, 200 waitlisted, the rest sold out",
            outcomes
            == {
                "held": FLASH_SEATS,
                "waitlisted": waitlisted,
                "sold_out": len(flash.keys) - FLASH_SEATS - waitlisted,
            },
        ),
        ("waitlist positions 1..200", positions == list(range(1, waitlisted + 1))),
        ("seats taken never above 300", flash.peak_taken <= FLASH_SEATS),
        ("full within five minutes of opening", full_after <= timedelta(minutes=5)),
        (
            "run-out holds offered to positions 1..50 in order",
            first_positions == list(range(1, NO_SHOWS + 1)),
        ),
        (
            "lapsed offers passed to positions 51..60",
            second_positions == list(range(NO_SHOWS + 1, NO_SHOWS + LAPSES + 1)),
        ),
        (
            "300 confirmed, 140 waiting, none left",
            (final["bookings"].get("confirmed"), final["waitlist"], final["seats_left"])
            == (FLASH_SEATS, waitlisted - NO_SHOWS - LAPSES, 0),
        ),
        ("every confirmation, offer and lapse told once", told == expected_notices),
        ("no dead letters", dead == 0),
    ]
    for what, ok in checks:
        console.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {what}")
    url = await streams.complete_trace(
        [(t, {"shenzhen-app", "skills", "notify"}) for t in traces[:20]]
    )
    console.print(f"trace: {url}")
    return all(ok for _, ok in checks)
