"""Labour disputes in Guangzhou (商调裁诉援执): Baiyun's group dispute of 410 workers against one
employer claiming 70 million yuan, filed through the 12351 hotline, raising an early warning and
settled in mediation by 407 of them; and a spread of single filings at the stations from the
hotline, walk-ins, courts and arbitration commissions, taken along the chain by their lawyers,
with legal's clock moved forward so that deadlines run out and supervision letters follow.

Run by tools/demo.py after the injury day (whose legal referrals legal has taken up by then),
against legal started with CLOCK_ADJUSTABLE=true.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import localrun
import staff
import streams
from injury_day import until
from rich.console import Console
from rich.table import Table

from gonghui_contracts import Envelope, samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import DisputeFiled
from legal import registry
from servicekit.identity import Role

FILINGS = "partner.legal.filings.v1"
OUTCOMES = "partner.legal.filing-outcomes.v1"
FILERS = {  # the local directory's partner of each channel
    "hotline_12351": "gz-12351",
    "court": "gz-intermediate-court",
    "arbitration": "gz-labour-arbitration",
}
REFERRALS = "aid.legal-referrals.v1"
LEGAL = localrun.SERVICES["legal"].url
AID = localrun.SERVICES["aid"].url
BAIYUN = ("91440111L28BDX9F6J", "广州市白云区某鞋业有限公司")  # two Baiyun lawyers act for it
CONFLICTED = {"gz-lw-0051", "gz-lw-0054"}
BAIYUN_WORKERS, BAIYUN_CLAIM, BAIYUN_ACCEPTING = 410, Decimal("70000000.00"), 407
STATIONS, _ = registry.load()
KINDS = [
    ("wage_arrears", 40),
    ("dismissal", 20),
    ("no_contract", 15),
    ("social_insurance", 15),
    ("other", 10),
]
INDUSTRIES = ["manufacturing", "retail", "hospitality", "food_delivery", "express_delivery"]
CENT = Decimal("0.01")
CONFIRM = "judicial confirmation"  # 司法确认 of the mediated agreement: a step, not a stage
# How single disputes end: moves after the first stage, then the close (None: left open).
ROUTES: list[tuple[str, int, list[str], tuple[str, Decimal] | None]] = [
    ("settled in negotiation", 25, [], ("settled", Decimal("0.8"))),
    ("settled in mediation", 25, ["mediation"], ("settled", Decimal("0.8"))),
    ("withdrawn", 5, [], ("withdrawn", Decimal(0))),
    ("award (arbitration extended once)", 10, ["arbitration"], ("award", Decimal("0.9"))),
    ("judgment", 5, ["arbitration", "litigation"], ("judgment", Decimal(1))),
    (
        "enforced after legal aid",
        5,
        ["arbitration", "litigation", "legal_aid", "enforcement"],
        ("enforced", Decimal(1)),
    ),
    (
        "enforced after judicial confirmation",
        4,
        ["mediation", CONFIRM, "enforcement"],
        ("enforced", Decimal("0.8")),
    ),
    ("left open: deadline runs out", 25, [], None),
]


@dataclass
class Dispute:
    ref: str
    channel: str  # hotline_12351 | court | arbitration | walk_in
    details: dict[str, Any]
    route: str
    moves: list[str]
    close: tuple[str, Decimal] | None
    answer: str = "accept"  # or decline, lapse: the first lawyer asked
    station_id: str | None = None
    resent: bool = False
    merged_ref: str | None = None  # the same dispute walked in after the hotline took it
    case_id: str | None = None
    workers_accepting: int | None = None

    @property
    def claimed(self) -> Decimal:
        return sum((Decimal(w["claimed"]) for w in self.details["workers"]), Decimal(0))

    @property
    def first_stage(self) -> str:
        return "mediation" if self.channel in ("court", "arbitration") else "negotiation"

    @property
    def amount(self) -> Decimal | None:
        if self.close is None or self.close[0] == "withdrawn":
            return None
        if self.workers_accepting is not None:  # a group settlement: what the accepting claim
            claims = [Decimal(w["claimed"]) for w in self.details["workers"]]
            return sum(claims[: self.workers_accepting], Decimal(0))
        return (self.claimed * self.close[1]).quantize(CENT)


@dataclass
class Plan:
    baiyun: Dispute
    singles: list[Dispute]
    invalid: list[tuple[str, bytes]] = field(default_factory=list)  # (ref, broken message)
    repeat_employers: dict[str, str] = field(default_factory=dict)  # code → what it answers

    @property
    def disputes(self) -> list[Dispute]:
        return [self.baiyun, *self.singles]


def workers(rng: random.Random, count: int, today: date, each: Decimal) -> list[dict[str, Any]]:
    return [
        {
            "name": samples.person_name(rng),
            "resident_id": samples.adult_resident_id(rng, today),
            "phone": samples.mobile_phone(rng),
            "claimed": str(each),
            "groups": ["migrant"] if rng.random() < 0.6 else [],
        }
        for _ in range(count)
    ]


def baiyun(rng: random.Random, today: date, run_tag: str) -> Dispute:
    people = workers(rng, BAIYUN_WORKERS, today, (BAIYUN_CLAIM / BAIYUN_WORKERS).quantize(CENT))
    rest = BAIYUN_CLAIM - sum(Decimal(w["claimed"]) for w in people)
    people[-1]["claimed"] = str(Decimal(people[-1]["claimed"]) + rest)  # 70,000,000.00 exactly
    return Dispute(
        ref=f"12351-GZ-BY-{run_tag}",
        channel="hotline_12351",
        details={
            "employer": {"credit_code": BAIYUN[0], "name": BAIYUN[1]},
            "industry": "manufacturing",
            "district_code": "440111",
            "kind": "wage_arrears",
            "arose_on": (today - timedelta(days=45)).isoformat(),
            "workers": people,
        },
        route="Baiyun group dispute",
        moves=["mediation"],
        close=("settled", Decimal(1)),
        workers_accepting=BAIYUN_ACCEPTING,
    )


def build(rng: random.Random, total: int, today: date, run_tag: str) -> Plan:
    guangzhou = sorted({s.district_code for s in STATIONS.values() if s.city_code == "440100"})
    shenzhen = sorted({s.district_code for s in STATIONS.values() if s.city_code == "440300"})
    repeat = {samples.employer_credit_code(rng, "440106"): a for a in ("rectified", "", "refused")}
    plan = Plan(baiyun(rng, today, run_tag), [], repeat_employers=repeat)
    repeaters = [code for code in repeat for _ in range(4)]  # four cases each
    for n in range(total):
        district = rng.choice(shenzhen) if n % 20 == 19 else rng.choice(guangzhou)
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        industry = rng.choice(INDUSTRIES)
        employer = samples.employer_credit_code(rng, district)
        if n < len(repeaters):
            employer, district, kind = repeaters[n], "440106", "no_contract"
        elif n < len(repeaters) + 10:  # a wage-arrears hot spot: Panyu's building sites
            district, kind, industry = "440113", "wage_arrears", "construction"
        channel = rng.choices(["hotline_12351", "walk_in", "court", "arbitration"], [4, 3, 2, 1])[0]
        route, _, moves, close = rng.choices(ROUTES, [w for _, w, _, _ in ROUTES])[0]
        if channel in ("court", "arbitration") and moves[:1] == ["mediation"]:
            moves = moves[1:]  # referrals start in mediation
        station = rng.choice([s for s in STATIONS.values() if s.district_code == district])
        plan.singles.append(
            Dispute(
                ref=f"{run_tag}-{channel[:5]}-{n:04d}",
                channel=channel,
                details={
                    "employer": {"credit_code": employer, "name": f"示例企业{n % 97:02d}号"},
                    "industry": industry,
                    "district_code": district,
                    "kind": kind,
                    "arose_on": (today - timedelta(days=rng.randint(5, 200))).isoformat(),
                    "workers": workers(
                        rng, rng.choice([1, 1, 1, 2, 3]), today, Decimal(rng.randint(30, 300) * 100)
                    ),
                },
                route=route,
                moves=list(moves),
                close=close,
                answer=rng.choices(["accept", "decline", "lapse"], [84, 8, 8])[0],
                station_id=station.station_id if channel == "walk_in" else None,
                resent=channel != "walk_in" and rng.random() < 0.08,
            )
        )
    for dispute in rng.sample([d for d in plan.singles if d.channel == "hotline_12351"], 4):
        dispute.merged_ref = f"walk-{dispute.ref}"
    plan.invalid = invalid_filings(rng, plan, today)
    return plan


def message(dispute: Dispute) -> bytes:
    body = DisputeFiled.model_validate(
        {**dispute.details, "channel": dispute.channel, "filing_ref": dispute.ref}
    )
    return Envelope.wrap(body, key=dispute.ref, producer=dispute.channel).to_bytes()


def invalid_filings(rng: random.Random, plan: Plan, today: date) -> list[tuple[str, bytes]]:
    """A wrong credit-code check character, a dispute dated in the future, a worker listed twice."""
    made = []
    for n, what in enumerate(("credit code", "future", "worker twice")):
        source = rng.choice([d for d in plan.singles if d.channel == "hotline_12351"])
        raw = json.loads(message(source))
        raw["data"]["filing_ref"] = raw["key"] = f"{source.ref}-bad-{n}"
        if what == "credit code":
            code = raw["data"]["employer"]["credit_code"]
            raw["data"]["employer"]["credit_code"] = code[:17] + ("0" if code[17] != "0" else "1")
        elif what == "future":
            raw["data"]["arose_on"] = (today + timedelta(days=3)).isoformat()
        else:
            raw["data"]["workers"] = raw["data"]["workers"][:1] * 2
        made.append((raw["key"], json.dumps(raw, ensure_ascii=False).encode()))
    return made


def as_lawyer(lawyer_id: str) -> staff.Headers:
    """A lawyer acting as themself: their own cases only."""
    return staff.as_person(Role.LAWYER, lawyer_id)


class Legal(staff.ServiceClient):
    """The stations' lawyers and the union's staff, talking to legal over HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, LEGAL)

    async def advance(self, days: float) -> None:
        await self.advance_hours(days * 24)

    async def summary(self, since: str) -> dict[str, Any]:
        response = await self.client.get(
            f"{LEGAL}/v1/disputes/summary",
            params={"since": since, "days": 366},
            headers=self.staff,
        )
        found: dict[str, Any] = response.json()
        return found


async def file_all(legal: Legal, plan: Plan) -> tuple[dict[str, str], Counter[str]]:
    """Partners publish (traced), stations file walk-ins; returns the trace of each partner
    filing and how the walk-ins were answered."""
    partner = [d for d in plan.disputes if d.channel != "walk_in"]
    messages: dict[Partner, list[tuple[str, bytes]]] = {}
    for dispute in partner + [d for d in partner if d.resent]:
        sent = messages.setdefault(localrun.partner(FILERS[dispute.channel]), [])
        sent.append((dispute.ref, message(dispute)))
    messages[localrun.partner(FILERS["hotline_12351"])] += plan.invalid  # the hotline's mistakes
    traces = await streams.publish_traced_by(FILINGS, messages)
    answers: Counter[str] = Counter()
    walk_ins = [d for d in plan.singles if d.channel == "walk_in"]
    for dispute in walk_ins:
        body = {**dispute.details, "station_id": dispute.station_id, "filing_ref": dispute.ref}
        answer = await legal.call("POST", "/v1/filings", body)
        answers[str(answer.status_code)] += 1
        dispute.case_id = answer.json()["case_id"]
    bad = {**walk_ins[0].details, "station_id": "gz-ls-999", "filing_ref": "walk-bad"}
    answers[str((await legal.call("POST", "/v1/filings", bad)).status_code)] += 1
    return traces, answers


async def read_outcomes(expected: int | None = None) -> list[dict[str, Any]]:
    """The partners' answers: `expected` of them, or (without it) all there are by now."""
    topics = [streams.own_topic(OUTCOMES, localrun.partner(p)) for p in FILERS.values()]
    return [event["data"] for event in await streams.read_events(topics, expected)]


async def merge_walk_ins(legal: Legal, plan: Plan) -> int:
    """The same disputes walked in after the hotline took them: merged into their cases."""
    merged = 0
    for dispute in plan.singles:
        if dispute.merged_ref:
            body = {**dispute.details, "station_id": "gz-ls-001", "filing_ref": dispute.merged_ref}
            answer = (await legal.call("POST", "/v1/filings", body)).json()
            merged += answer["outcome"] == "merged" and answer["case_id"] == dispute.case_id
    return merged


async def lawyers_answer(legal: Legal, plan: Plan) -> None:
    """Most lawyers accept at once; some decline; some let the offer lapse. Then the cases passed
    on are accepted by the next lawyer."""
    for dispute in plan.disputes:
        case = await legal.ok("GET", f"/v1/cases/{dispute.case_id}")
        lawyer = case["lawyer_id"]
        if dispute.answer == "accept":
            await legal.ok("POST", f"/v1/cases/{dispute.case_id}/accept", as_=as_lawyer(lawyer))
        elif dispute.answer == "decline":
            body = {"reason": "已有同类案件排期冲突"}
            path = f"/v1/cases/{dispute.case_id}/decline"
            await legal.ok("POST", path, body, as_=as_lawyer(lawyer))
    declined = {d.case_id for d in plan.disputes if d.answer == "decline"}
    for entry in await legal.ok("GET", "/v1/queue?limit=1000"):  # the next lawyer takes those
        if entry["case_id"] in declined:
            path = f"/v1/cases/{entry['case_id']}/accept"
            await legal.ok("POST", path, as_=as_lawyer(entry["lawyer_id"]))
    await legal.advance(2.2 / 24)  # the lapsed offers run out and go to the next lawyer

    async def all_reoffered() -> bool:
        now = datetime.fromisoformat((await legal.ok("GET", "/admin/clock"))["now"])
        queue = await legal.ok("GET", "/v1/queue?limit=1000")
        return all(q["accept_by"] and datetime.fromisoformat(q["accept_by"]) > now for q in queue)

    await until(all_reoffered, "lapsed offers passed on")
    for entry in await legal.ok("GET", "/v1/queue?limit=1000"):
        if entry["case_id"] in {d.case_id for d in plan.disputes}:
            path = f"/v1/cases/{entry['case_id']}/accept"
            await legal.ok("POST", path, as_=as_lawyer(entry["lawyer_id"]))


ROUND_DAYS = 4  # the lawyers take every case one step, then the clock moves on


async def take_along(legal: Legal, plan: Plan) -> int:
    """Round by round, each lawyer moves their case one stage along its route, or closes it once
    the route is done; four days pass between rounds. Returns the moves the chain refused."""
    refused = 0
    for step in range(1 + max(len(d.moves) for d in plan.disputes)):
        done = await asyncio.gather(*(one_step(legal, d, step) for d in plan.disputes))
        refused += sum(done)
        await legal.advance(ROUND_DAYS)
    return refused


async def one_step(legal: Legal, dispute: Dispute, step: int) -> int:
    path = f"/v1/cases/{dispute.case_id}"
    if step > len(dispute.moves) or (step == len(dispute.moves) and dispute.close is None):
        return 0
    lawyer = as_lawyer((await legal.ok("GET", path))["lawyer_id"])
    refused = 0
    if step == len(dispute.moves):
        assert dispute.close is not None
        body = {
            "outcome": dispute.close[0],
            "amount": None if dispute.amount is None else str(dispute.amount),
            "workers_accepting": dispute.workers_accepting,
            "reason": "结案",
        }
        await legal.ok("POST", f"{path}/close", body, as_=lawyer)
        return 0
    stage = dispute.moves[step]
    if stage == CONFIRM:  # recorded by the district union's staff
        body = {"reason": "调解协议经法院司法确认"}
        await legal.ok("POST", f"{path}/judicial-confirmation", body)
        return 0
    if step == 0 and dispute.first_stage == "negotiation" and "litigation" in dispute.moves:
        try_court = {"to": "litigation", "reason": "用人单位拒绝协商，直接起诉"}
        answer = await legal.call("POST", f"{path}/moves", try_court, as_=lawyer)
        refused += answer.status_code == 409
    move = {"to": stage, "reason": "上一阶段未果"}
    await legal.ok("POST", f"{path}/moves", move, as_=lawyer)
    if stage == "arbitration" and dispute.close and dispute.close[0] == "award":
        extension = {"reason": "案情复杂，延期"}
        await legal.ok("POST", f"{path}/extension", extension, as_=lawyer)
    return refused


async def letters_answered(legal: Legal, plan: Plan) -> None:
    """The repeat employers answer their prompt letters: one puts things right, one never
    answers, one refuses (and refuses the opinion letter too)."""
    current = await legal.ok("GET", "/v1/supervision/employers?limit=1000")
    for letter in current:
        answer = plan.repeat_employers.get(letter["employer_code"])
        if answer:
            body = {"response": answer}
            await legal.ok("POST", f"/v1/supervision/letters/{letter['letter_id']}/response", body)
    refusing = [code for code, answer in plan.repeat_employers.items() if answer == "refused"]
    current = await legal.ok("GET", "/v1/supervision/employers?limit=1000")
    for letter in current:
        if letter["employer_code"] in refusing and letter["letter"] == "opinion":
            body = {"response": "refused"}
            await legal.ok("POST", f"/v1/supervision/letters/{letter['letter_id']}/response", body)


async def referrals_taken_up(client: httpx.AsyncClient) -> bool:
    as_staff = staff.as_staff()
    raised = (await client.get(f"{AID}/v1/injuries/summary", headers=as_staff)).json()
    summary = (await client.get(f"{LEGAL}/v1/disputes/summary", headers=as_staff)).json()
    return bool(summary["filings"].get("injury_referral", 0) == raised["referrals"])


async def run(console: Console, total: int) -> bool:
    run_tag = uuid.uuid4().hex[:4]  # in the filing refs: a partner's refs are its own per run
    rng = random.Random(861)  # the same plan, and the same figures, on every fresh `make demo`
    async with httpx.AsyncClient(timeout=60) as client:
        legal = Legal(client)
        # The summary counts whole days: the day's filings start on a day of their own, after
        # legal has taken up the injury day's referrals on the day before.
        await until(lambda: referrals_taken_up(client), "the injury day's referrals taken up")
        await legal.advance(1)
        today = date.fromisoformat((await legal.ok("GET", "/admin/clock"))["today"])
        plan = build(rng, total, today, run_tag)
        console.rule(
            f"[bold]Labour disputes in Guangzhou: Baiyun's {BAIYUN_WORKERS} workers, and "
            f"{total} single filings"
        )
        started = time.monotonic()
        since = today.isoformat()
        traces, walk_in_answers = await file_all(legal, plan)
        partner_refs = {d.ref for d in plan.disputes if d.channel != "walk_in"}
        published = len(partner_refs) + sum(d.resent for d in plan.disputes) + len(plan.invalid)
        outcomes = await read_outcomes(published)
        for answer in outcomes:
            for dispute in plan.disputes:
                if dispute.ref == answer["filing_ref"] and answer["case_id"]:
                    dispute.case_id = answer["case_id"]
        merged = await merge_walk_ins(legal, plan)
        await lawyers_answer(legal, plan)
        refused = await take_along(legal, plan)  # the open cases' 15-day deadlines run out
        left_open = sum(d.close is None for d in plan.disputes)

        async def escalated() -> bool:
            return int((await legal.summary(since))["escalations"]) >= left_open

        await until(escalated, "missed deadlines escalated")
        await letters_answered(legal, plan)
        await legal.advance(12)  # the time to answer the prompt letters runs out

        async def followed_up() -> bool:
            letters = await legal.ok("GET", "/v1/supervision/employers?limit=1000")
            stages = {x["employer_code"]: x["letter"] for x in letters}
            return all(
                stages.get(code) != "prompt" for code, a in plan.repeat_employers.items() if not a
            )

        await until(followed_up, "unanswered prompt letters followed by opinion letters")
        summary = await legal.summary(since)
        letters = await legal.ok("GET", "/v1/supervision/employers?limit=1000")
        districts = (
            await client.get(
                f"{LEGAL}/v1/disputes/by-district",
                params={"since": since, "days": 366},
                headers=legal.staff,
            )
        ).json()
        baiyun_case = await legal.ok("GET", f"/v1/cases/{plan.baiyun.case_id}")
        referrals = (
            await client.get(f"{AID}/v1/injuries/summary", headers=staff.as_staff())
        ).json()["referrals"]
        referred = (
            (await client.get(f"{LEGAL}/v1/disputes/summary", headers=legal.staff))
            .json()["filings"]
            .get("injury_referral", 0)
        )
    all_outcomes = await read_outcomes()  # everything by now: answers and conclusions too
    return await show(
        console,
        plan,
        summary=summary,
        outcomes=all_outcomes,
        walk_ins=walk_in_answers,
        merged=merged,
        refused=refused,
        letters=letters,
        districts=districts,
        baiyun_case=baiyun_case,
        referrals=(referrals, referred),
        trace=traces[plan.baiyun.ref],
        elapsed=time.monotonic() - started,
    )


def expected_warnings(plan: Plan) -> Counter[str]:
    employers: Counter[str] = Counter()
    workers_of: Counter[str] = Counter()
    hot: Counter[tuple[str, str]] = Counter()
    for d in plan.disputes:
        code = d.details["employer"]["credit_code"]
        employers[code] += 1
        workers_of[code] += len(d.details["workers"])
        if d.details["kind"] == "wage_arrears":
            hot[d.details["district_code"], d.details["industry"]] += 1
    return Counter(
        {
            "employer_filings": sum(n >= 3 for n in employers.values()),
            "employer_workers": sum(n >= 30 for n in workers_of.values()),
            "arrears_hotspot": sum(n >= 10 for n in hot.values()),
        }
    )


def expected_stages(plan: Plan) -> Counter[str]:
    reached: Counter[str] = Counter()
    for d in plan.disputes:
        reached.update([d.first_stage, *(m for m in d.moves if m != CONFIRM)])
    return reached


async def show(
    console: Console,
    plan: Plan,
    *,
    summary: dict[str, Any],
    outcomes: list[dict[str, Any]],
    walk_ins: Counter[str],
    merged: int,
    refused: int,
    letters: list[dict[str, Any]],
    districts: list[dict[str, Any]],
    baiyun_case: dict[str, Any],
    referrals: tuple[int, int],
    trace: str,
    elapsed: float,
) -> bool:
    disputes = plan.disputes
    channels = Counter(d.channel for d in disputes)
    rejected = [o for o in outcomes if o["outcome"] == "rejected"]
    closed_work_orders = sum(o["work_order_closed"] for o in outcomes)
    settled = sum(
        (d.amount or Decimal(0) for d in disputes if d.close and d.close[0] == "settled"),
        Decimal(0),
    )
    recovered = sum((d.amount or Decimal(0) for d in disputes), Decimal(0))
    closes = Counter(d.close[0] for d in disputes if d.close)
    passed_on = sum(d.answer != "accept" for d in disputes)
    warnings = expected_warnings(plan)
    stages = expected_stages(plan)
    letter_of = {x["employer_code"]: x for x in letters}
    wanted_letters = {"rectified": "prompt", "": "opinion", "refused": "suggestion"}
    dead = await streams.dead_letters()
    rate = baiyun_case["workers_accepting"] / BAIYUN_WORKERS

    table = Table(title=f"Guangzhou labour disputes — done in {elapsed:.1f}s")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, object]] = [
        *[(f"filings: {channel}", n) for channel, n in sorted(summary["filings"].items())],
        ("  merged: the same dispute through another channel", summary["filings_merged"]),
        ("  rejected with reasons (partners / walk-ins)", f"{len(rejected)} / {walk_ins['422']}"),
        ("cases opened", summary["cases"]),
        ("  priority groups first (优先服务)", summary["priority_cases"]),
        (
            "  group disputes (≥ 10 workers) / their workers",
            f"{summary['group_disputes']} / {summary['group_workers']}",
        ),
        ("claimed (yuan)", summary["claimed"]),
        ("assigned to a lawyer / accepted", f"{summary['assigned']} / {summary['accepted']}"),
        ("  offers declined or lapsed: another lawyer asked", summary["offers_passed_on"]),
        ("  12351 work orders closed with an answer", closed_work_orders),
        ("stages reached", ", ".join(f"{k} {v}" for k, v in summary["stages_reached"].items())),
        ("  moves refused by the chain's rules (409)", refused),
        ("closed", ", ".join(f"{k} {v}" for k, v in sorted(summary["closed"].items()))),
        ("  settled (yuan)", summary["settled_amount"]),
        ("  recovered in all (yuan)", summary["recovered_amount"]),
        ("deadlines missed: escalated to the district union", summary["escalations"]),
        ("early warnings", ", ".join(f"{k} {v}" for k, v in sorted(summary["warnings"].items()))),
        (
            "letters issued (also to employers of injury referrals)",
            ", ".join(f"{k} {v}" for k, v in sorted(summary["letters"].items())),
        ),
        ("injury referrals taken from aid", f"{referrals[1]} of {referrals[0]}"),
        ("dead letters, all topics", dead),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)
    console.print(
        f"Baiyun: {BAIYUN_WORKERS} workers claiming {BAIYUN_CLAIM:,} yuan → "
        f"{baiyun_case['outcome']} in {baiyun_case['stage']} for "
        f"{Decimal(baiyun_case['amount']):,} yuan, accepted by "
        f"{baiyun_case['workers_accepting']} of {BAIYUN_WORKERS} ({int(rate * 1000) / 10} %), "
        f"lawyer {baiyun_case['lawyer_id']}"
    )
    by_district = Table(title="by district: cases, settled, recovered, median days per stage")
    for column in ("district", "cases", "settled", "recovered (yuan)", "median days"):
        by_district.add_column(column)
    for row in districts[:8]:
        by_district.add_row(
            row["district_code"],
            str(row["cases"]),
            str(row["settled"]),
            f"{Decimal(row['recovered_amount']):,}",
            ", ".join(f"{k} {v}" for k, v in row["median_stage_days"].items()),
        )
    console.print(by_district)

    checks = [
        (
            "every filing answered, one case per dispute",
            summary["cases"] == len(disputes) and summary["filings_merged"] == merged == 4,
        ),
        (
            "filings by channel",
            summary["filings"] == {**channels, "walk_in": channels["walk_in"] + merged},
        ),
        (
            "bad filings rejected with reasons, none lost",
            sorted(r["field"] for o in rejected for r in o["reasons"])
            == ["arose_on", "employer.credit_code", "workers"]
            and walk_ins == Counter({"201": channels["walk_in"], "422": 1}),
        ),
        ("every case assigned and accepted", summary["accepted"] == len(disputes)),
        ("declined and lapsed offers passed on", summary["offers_passed_on"] == passed_on),
        ("no conflicted lawyer on Baiyun's case", baiyun_case["lawyer_id"] not in CONFLICTED),
        (
            "hotline work orders closed",
            closed_work_orders == channels["hotline_12351"],
        ),
        (
            "stages reached as taken",
            summary["stages_reached"] == {s: stages.get(s, 0) for s in summary["stages_reached"]},
        ),
        (
            "illegal moves refused",
            refused
            == sum(d.first_stage == "negotiation" and "litigation" in d.moves for d in disputes),
        ),
        ("outcomes as closed", summary["closed"] == dict(closes)),
        (
            "amounts add up",
            Decimal(summary["settled_amount"]) == settled
            and Decimal(summary["recovered_amount"]) == recovered,
        ),
        (
            "Baiyun: 407 of 410 accept the mediated settlement (99.2 %)",
            (baiyun_case["stage"], baiyun_case["outcome"], baiyun_case["workers_accepting"])
            == ("mediation", "settled", BAIYUN_ACCEPTING)
            and int(rate * 1000) == 992,
        ),
        (
            "open cases escalated once their deadline passed",
            summary["escalations"] == sum(d.close is None for d in disputes),
        ),
        ("early warnings once per window", summary["warnings"] == dict(+warnings)),
        (
            "一函两书: prompt → opinion → suggestion as employers answered",
            all(
                letter_of.get(code, {}).get("letter") == wanted_letters[answer]
                for code, answer in plan.repeat_employers.items()
            ),
        ),
        ("every injury referral taken up", referrals[0] == referrals[1]),
        ("no dead letters", dead == 0),
    ]
    for what, ok in checks:
        console.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {what}")
    url = await streams.complete_trace([(trace, {FILERS["hotline_12351"], "legal", "notify"})])
    console.print(f"trace of Baiyun's filing: {url}")
    return all(ok for _, ok in checks)
