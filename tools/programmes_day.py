"""The union's skills programmes through skills: Heyuan's degree-aid cycle (求学圆梦: 489 applied,
280 passed screening, ranked by the adult entrance exam, 7,500 yuan each, two grants declined
and passed down), Guangzhou's craftsman ladder of 2024–2025 (80 and 100 city candidates, one
selection past the quota refused, two national titles recorded as decided elsewhere), and the
职业健康 skills contest (24 teams, two stages, 5 judges: medals, the winner's recommendation,
the medallists' nominations).

Run by tools/demo.py after the seats, with the ceremony's members (Guangzhou's couriers), against
skills started with CLOCK_ADJUSTABLE=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import localrun
import staff
import streams
from injury_day import until
from rich.console import Console
from rich.table import Table
from seats_day import member_token

from gonghui_contracts import samples
from servicekit.identity import Role

SKILLS = localrun.SERVICES["skills"].url
MEMBERSHIP = localrun.SERVICES["membership"].url
HEYUAN_COUNTIES = ["441602", "441621", "441622", "441623", "441624", "441625"]
APPLIED, PASSED, GRANT, BUDGET, DECLINES = 489, 280, "7500.00", "495000.00", 2
QUOTAS = {2024: 80, 2025: 100}
TEAMS, JUDGES, FINALISTS = 24, 5, 8
SCREEN_REASONS = ["未参加当年成人高考", "非河源市在职职工", "申报材料不全"]
RUBRICS = {
    "材料初评": [
        {"name": "创新性", "weight": 40, "scale": 100},
        {"name": "实用性", "weight": 35, "scale": 100},
        {"name": "推广价值", "weight": 25, "scale": 100},
    ],
    "现场路演（5分钟）": [
        {"name": "实操演示", "weight": 60, "scale": 100},
        {"name": "答辩", "weight": 40, "scale": 100},
    ],
}


def judge_token(judge_id: str) -> staff.Headers:
    return localrun.local_tokens().headers(Role.JUDGE, subject=judge_id)


async def heyuan_members(membership: staff.ServiceClient, rng: random.Random) -> list[uuid.UUID]:
    """Heyuan's workers join in the app, each as themself (the county's QR code)."""

    async def join(n: int) -> uuid.UUID:
        resident_id = samples.adult_resident_id(rng)
        body = {
            "channel": "county_qr",
            "name": samples.person_name(rng),
            "resident_id": resident_id,
            "phone": samples.mobile_phone(rng),
            "region_code": HEYUAN_COUNTIES[n % len(HEYUAN_COUNTIES)],
            "industry": "manufacturing",
            "employer": "河源市某制造企业",
        }
        joined = await membership.ok("POST", "/v1/members", body, as_=staff.as_worker(resident_id))
        return uuid.UUID(joined["member_id"])

    return list(await asyncio.gather(*(join(n) for n in range(APPLIED))))


async def degree_aid(
    skills: staff.ServiceClient, membership: staff.ServiceClient, rng: random.Random
) -> dict[str, Any]:
    applicants = await heyuan_members(membership, rng)
    await until(
        lambda: streams.caught_up("skills", "membership.events.v1"), "skills knows them", 120
    )
    heyuan = staff.as_staff("441600")
    now = (await skills.ok("GET", "/admin/clock"))["now"]
    opened_at = datetime.fromisoformat(now)
    cycle = await skills.ok(
        "POST",
        "/v1/degree-aid/cycles",
        {
            "name": "河源市求学圆梦·免费本科班",
            "region_code": "441600",
            "budget": BUDGET,
            "amount": GRANT,
            "cap": 100,
            "opens_at": (opened_at - timedelta(minutes=1)).isoformat(),
            "closes_at": (opened_at + timedelta(days=30)).isoformat(),
        },
        as_=heyuan,
    )
    path = f"/v1/degree-aid/cycles/{cycle['cycle_id']}"
    scores = {m: rng.randint(150, 420) for m in applicants}
    applications = await asyncio.gather(
        *(
            skills.ok(
                "POST",
                f"{path}/applications",
                {"programme": "行政管理（专升本）", "exam_score": scores[m]},
                as_=member_token(m),
            )
            for m in applicants
        )
    )
    twice = await skills.call(
        "POST",
        f"{path}/applications",
        {"programme": "行政管理（专升本）", "exam_score": 400},
        as_=member_token(applicants[0]),
    )
    passing = set(rng.sample([a["application_id"] for a in applications], PASSED))
    await asyncio.gather(
        *(
            skills.ok(
                "POST",
                f"/v1/degree-aid/applications/{a['application_id']}/screening",
                {"passed": True}
                if a["application_id"] in passing
                else {"passed": False, "reason": rng.choice(SCREEN_REASONS)},
                as_=heyuan,
            )
            for a in applications
        )
    )
    early = await skills.call("POST", f"{path}/ranking", as_=heyuan)
    await skills.ok("POST", "/admin/clock/advance", {"seconds": 30 * 86400 + 60})
    ranked = await skills.ok("POST", f"{path}/ranking", as_=heyuan)
    granted = await listing(skills, f"{path}/applications?status=granted", heyuan)
    for application in granted[:DECLINES]:
        await skills.ok(
            "POST",
            f"/v1/degree-aid/applications/{application['application_id']}/decline",
            as_=member_token(uuid.UUID(application["member_id"])),
        )
    granted = await listing(skills, f"{path}/applications?status=granted", heyuan)
    await asyncio.gather(
        *(
            skills.ok(
                "POST",
                f"/v1/degree-aid/applications/{a['application_id']}/payment",
                {"reference": f"HY-2025-{a['rank']:04d}"},
                as_=heyuan,
            )
            for a in granted
        )
    )
    return {
        "applications": applications,
        "twice": twice.status_code,
        "early": early.status_code,
        "ranked": ranked,
        "final": await skills.ok("GET", path, as_=heyuan),
        "ranking": await listing(skills, f"{path}/applications", heyuan),
        "scores": scores,
    }


async def listing(skills: staff.ServiceClient, path: str, who: staff.Headers) -> list[Any]:
    found: list[Any] = []
    while True:
        page = await skills.ok(
            "GET", f"{path}{'&' if '?' in path else '?'}limit=500&offset={len(found)}", as_=who
        )
        found += page
        if len(page) < 500:
            return found


async def ladder(skills: staff.ServiceClient, members: list[uuid.UUID]) -> dict[str, Any]:
    guangzhou = staff.as_staff("440100")
    refused: list[int] = []
    pool = iter(members)
    for year, quota in QUOTAS.items():
        body = {"region_code": "440100", "tier": "city", "year": year, "quota": quota}
        await skills.ok("PUT", "/v1/ladder/quotas", body, as_=guangzhou)
        nominees = [next(pool) for _ in range(quota + (1 if year == 2024 else 0))]
        nominations = [
            await skills.ok(
                "POST",
                "/v1/ladder/nominations",
                {
                    "member_id": str(m),
                    "region_code": "440100",
                    "tier": "city",
                    "year": year,
                    "reason": "羊城工匠培育推荐",
                },
                as_=guangzhou,
            )
            for m in nominees
        ]
        answers = await asyncio.gather(
            *(
                skills.call(
                    "POST", f"/v1/ladder/nominations/{n['nomination_id']}/selection", as_=guangzhou
                )
                for n in nominations
            )
        )
        refused += [a.status_code for a in answers if a.status_code != 200]
    national = [next(pool) for _ in range(2)]
    for member_id in national:
        await skills.ok(
            "POST",
            "/v1/ladder/titles",
            {
                "member_id": str(member_id),
                "tier": "national",
                "year": 2024,
                "reference": "全总〔2024〕大国工匠",
            },
            as_=guangzhou,
        )
    return {
        "quotas": {
            year: await skills.ok("GET", f"/v1/ladder/quotas?year={year}", as_=guangzhou)
            for year in QUOTAS
        },
        "refused": refused,
        "national": national,
    }


async def contest(
    skills: staff.ServiceClient, members: list[uuid.UUID], rng: random.Random
) -> dict[str, Any]:
    guangzhou = staff.as_staff("440100")
    employers = [samples.employer_credit_code(rng) for _ in range(TEAMS)]
    judges = [
        {
            "judge_id": f"judge-{n}",
            "name": f"评委{n + 1}",
            "employer_code": employers[n] if n == 0 else samples.employer_credit_code(rng),
        }
        for n in range(JUDGES)
    ]
    competition = await skills.ok(
        "POST",
        "/v1/competitions",
        {
            "title": "广州市职业健康技能大赛",
            "organiser": "广州市总工会",
            "region_code": "440100",
            "year": 2025,
            "stages": [
                {"name": "材料初评", "criteria": RUBRICS["材料初评"], "advance": FINALISTS},
                {"name": "现场路演（5分钟）", "criteria": RUBRICS["现场路演（5分钟）"]},
            ],
            "panel": judges,
        },
        as_=guangzhou,
    )
    path = f"/v1/competitions/{competition['competition_id']}"
    pool = iter(members)
    teams = [
        await skills.ok(
            "POST",
            f"{path}/entrants",
            {
                "kind": "team",
                "name": f"职业健康第{n + 1}队",
                "employer_code": employers[n],
                "members": [str(next(pool)) for _ in range(3)],
            },
            as_=guangzhou,
        )
        for n in range(TEAMS)
    ]
    strength = {t["entrant_id"]: rng.uniform(55, 95) for t in teams}
    refusals: Counter[int] = Counter()

    async def score(stage: int, entrants: list[str]) -> None:
        rubric = RUBRICS["材料初评" if stage == 1 else "现场路演（5分钟）"]
        for judge in judges:
            for entrant in entrants:
                points = {
                    c["name"]: max(0, min(100, round(rng.gauss(strength[entrant], 6))))
                    for c in rubric
                }
                answer = await skills.call(
                    "PUT",
                    f"{path}/stages/{stage}/sheets/{entrant}",
                    {"points": points},
                    as_=judge_token(judge["judge_id"]),
                )
                refusals[answer.status_code] += 1

    await score(1, [t["entrant_id"] for t in teams])
    first = await skills.ok("POST", f"{path}/stages/1/freeze", as_=guangzhou)
    late = await skills.call(
        "PUT",
        f"{path}/stages/1/sheets/{teams[1]['entrant_id']}",
        {"points": {c["name"]: 100 for c in RUBRICS["材料初评"]}},
        as_=judge_token("judge-1"),
    )
    finalists = [p["entrant_id"] for p in first["standings"][:FINALISTS]]
    await score(2, finalists)
    final = await skills.ok("POST", f"{path}/stages/2/freeze", as_=guangzhou)
    return {
        "teams": teams,
        "own_team_in_final": teams[0]["entrant_id"] in finalists,  # judge-0's employer's team
        "first": first,
        "final": final,
        "sheets": refusals,
        "late": late.status_code,
    }


async def run(console: Console, members: list[str]) -> bool:
    rng = random.Random(2025)
    console.rule("[bold]Skills programmes: Heyuan's degree aid, Guangzhou's ladder, a contest")
    started = time.monotonic()
    pool = [uuid.UUID(m) for m in members]
    async with httpx.AsyncClient(timeout=60) as client:
        skills = staff.ServiceClient(client, SKILLS, in_flight=16)
        membership = staff.ServiceClient(client, localrun.SERVICES["membership"].url, in_flight=16)
        aid = await degree_aid(skills, membership, rng)
        climbed = await ladder(skills, pool[:200])
        contested = await contest(skills, pool[200 : 200 + 3 * TEAMS], rng)
    elapsed = time.monotonic() - started
    sink = localrun.NoticeSink()
    expected = {
        "degree_aid_granted": int(Decimal(BUDGET) // Decimal(GRANT)) + DECLINES,
        "degree_aid_not_passed": APPLIED - PASSED,
        "competition_medal": 18,
        "award_recommendation": 1,
    }

    def told() -> Counter[str]:
        return Counter(str(n["template"]) for n in sink.read())

    async def all_told() -> bool:
        counts = told()
        return all(counts[t] >= n for t, n in expected.items())

    with contextlib.suppress(TimeoutError):  # the checks say what is missing
        await until(all_told, "the programmes' notices", 90)
    return show(
        console, aid=aid, climbed=climbed, contested=contested, told=told(), elapsed=elapsed
    )


def show(
    console: Console,
    *,
    aid: dict[str, Any],
    climbed: dict[str, Any],
    contested: dict[str, Any],
    told: Counter[str],
    elapsed: float,
) -> bool:
    final, ranking = aid["final"], aid["ranking"]
    ranked = [a for a in ranking if a["rank"] is not None]
    statuses = Counter(a["status"] for a in ranking)
    passed = sum(statuses[s] for s in ("waiting", "granted", "declined", "paid"))
    granted_ranks = sorted(a["rank"] for a in ranking if a["status"] in ("granted", "paid"))
    declined_ranks = sorted(a["rank"] for a in ranking if a["status"] == "declined")
    grants = int(Decimal(BUDGET) // Decimal(GRANT))
    quotas = {year: rows[0] for year, rows in climbed["quotas"].items()}
    medals = Counter(p["medal"] for p in contested["final"]["standings"] if p["medal"])
    table = Table(title=f"Skills programmes — done in {elapsed:.1f}s")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, object]] = [
        ("degree aid: applications", len(aid["applications"])),
        ("  passed screening", passed),
        ("  grants (budget ÷ 7,500, capped)", final["grants"]),
        ("  declined, passed down the ranking", statuses["declined"]),
        ("  paid (yuan)", final["granted"]),
        (
            "ladder: 2024 city candidates / quota",
            f"{quotas[2024]['used']} / {quotas[2024]['quota']}",
        ),
        (
            "ladder: 2025 city candidates / quota",
            f"{quotas[2025]['used']} / {quotas[2025]['quota']}",
        ),
        ("  selections refused past the quota", len(climbed["refused"])),
        ("  national titles recorded (decided elsewhere)", len(climbed["national"])),
        ("contest: teams", len(contested["teams"])),
        (
            "  finalists after 材料初评",
            len(contested["first"]["standings"][:FINALISTS]),
        ),
        ("  medals gold/silver/bronze", f"{medals['gold']}/{medals['silver']}/{medals['bronze']}"),
        (
            "  sheets taken / refused (own employer)",
            f"{contested['sheets'][204]} / {contested['sheets'][409]}",
        ),
        *[
            (f"notices: {t}", told[t])
            for t in sorted(told)
            if t.startswith(("degree_aid", "craftsman", "ladder", "competition", "award"))
        ],
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)
    by_score = sorted(ranked, key=lambda a: a["rank"])
    checks = [
        (
            "489 applied, one each (a second refused)",
            len(aid["applications"]) == APPLIED and aid["twice"] == 409,
        ),
        (
            "280 passed and ranked 1..280",
            passed == PASSED and [a["rank"] for a in by_score] == list(range(1, PASSED + 1)),
        ),
        (
            "ranked by the exam score",
            all(
                a["verified_score"] >= b["verified_score"] for a, b in itertools.pairwise(by_score)
            ),
        ),
        ("no ranking before the window closed", aid["early"] == 409),
        (f"{grants} grants: min(cap, budget ÷ amount)", final["grants"] == grants),
        (
            "two declines passed to ranks 67 and 68",
            declined_ranks == [1, 2] and granted_ranks == list(range(3, grants + 3)),
        ),
        (
            "granted = grants × 7,500 ≤ budget",
            Decimal(final["granted"]) == grants * Decimal(GRANT) <= Decimal(BUDGET),
        ),
        ("every grant paid", statuses["paid"] == grants),
        (
            "ladder quotas used exactly",
            all(q["used"] == q["quota"] == QUOTAS[y] for y, q in quotas.items()),
        ),
        ("one selection past the quota refused", climbed["refused"] == [409]),
        ("the contest: 8 finalists, 1/2/3 medals", medals == {"gold": 1, "silver": 2, "bronze": 3}),
        (
            "a judge never scores their employer's team",
            contested["sheets"][409] == 1 + contested["own_team_in_final"],
        ),
        ("a late sheet refused", contested["late"] == 409),
        (
            "the winner recommended, medallists told",
            told["award_recommendation"] == 1 and told["competition_medal"] == 18,
        ),
        (
            "grants and declines told",
            told["degree_aid_granted"] == grants + DECLINES
            and told["degree_aid_not_passed"] == APPLIED - PASSED,
        ),
    ]
    for what, ok in checks:
        console.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {what}")
    return all(ok for _, ok in checks)
