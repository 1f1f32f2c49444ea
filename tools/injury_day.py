"""A day of work injuries in Shenzhen (逢伤必探): reports from the 87 designated hospitals and from
injured workers' app, the 35 visitors' app accepting and recording visits, discharges and
follow-ups, with aid's clock moved forward so that some visits run late and follow-ups fall due.

Run by tools/demo.py after the ceremony, against aid started with CLOCK_ADJUSTABLE=true.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import httpx
import localrun
import staff
import streams
from rich.console import Console
from rich.table import Table

from aid.injury import registry
from aid.injury.rules import DEFAULT_CONDOLENCE_YUAN
from gonghui_contracts import Envelope, samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import InjuryReported, PatientDischarged
from servicekit.identity import Role

REPORTS = "partner.aid.injury-reports.v1"
OUTCOMES = "partner.aid.injury-outcomes.v1"
HOSPITALS = sorted(registry.load_hospitals())
AID = localrun.SERVICES["aid"].url
SEVERITIES = [("minor", 60), ("serious", 30), ("critical", 8), ("fatal", 2)]
PROBLEMS = ["no_injury_insurance", "employer_refuses", "finding_dispute"]
Channel = Literal["hospital", "worker", "both"]


@dataclass
class Injury:
    report: dict[str, Any]
    channel: Channel
    lapses: bool  # the first visitor asked lets the offer lapse
    late: bool  # visited only after the SLA ran out
    visit_problem: str | None
    discharged: bool
    follows_up: bool  # the first follow-up is recorded (else it is escalated)
    follow_up_problem: str | None
    case_id: str | None = None

    @property
    def condolence_yuan(self) -> int:
        return DEFAULT_CONDOLENCE_YUAN[f"{self.report['severity']}/{self.report['admission']}"]


@dataclass
class Plan:
    injuries: list[Injury]
    # (kind, the hospital that sends it, report)
    invalid: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    employers: list[tuple[str, str]] = field(default_factory=list)


def build(rng: random.Random, total: int, today: date) -> Plan:
    employers = [
        (samples.employer_credit_code(rng), f"深圳市{name}有限公司")
        for name in ("精密五金", "电子科技", "建筑工程", "物流", "塑胶制品", "家具", "纺织", "模具")
        * 5
    ]
    weights = [1 / (n + 1) for n in range(len(employers))]  # a few employers, many injuries
    industries = ["manufacturing", "construction", "express_delivery", "food_delivery", "freight"]
    plan = Plan([], employers=employers)
    for n in range(total):
        credit_code, employer = rng.choices(employers, weights)[0]
        severity = rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
        report = {
            "report_ref": f"sz-{n:05d}",
            "hospital_id": rng.choice(HOSPITALS),
            "worker": {
                "name": samples.person_name(rng),
                "resident_id": samples.adult_resident_id(rng, today),
                "phone": samples.mobile_phone(rng),
            },
            "employer": {"credit_code": credit_code, "name": employer},
            "industry": rng.choice(industries),
            "injured_on": (today - timedelta(days=rng.choice([0, 0, 0, 1]))).isoformat(),
            "injury_kind": rng.choice(["fracture", "laceration", "crush", "burn", "sprain"]),
            "severity": severity,
            "admission": "admitted" if rng.random() < 0.7 else "outpatient",
        }
        channel = rng.choices(["hospital", "worker", "both"], [60, 20, 20])[0]
        discharged = rng.random() < 0.5
        plan.injuries.append(
            Injury(
                report=report,
                channel=channel,  # type: ignore[arg-type]
                lapses=rng.random() < 0.1,
                late=rng.random() < 0.15,
                visit_problem=rng.choice(PROBLEMS) if rng.random() < 0.08 else None,
                discharged=discharged,
                follows_up=rng.random() < 0.8,
                follow_up_problem=rng.choice(PROBLEMS) if rng.random() < 0.05 else None,
            )
        )
    for n in range(total // 20):
        kind = ["another hospital's name", "injury in the future", "resident ID checksum"][n % 3]
        report = dict(rng.choice(plan.injuries).report, report_ref=f"sz-bad-{n:03d}")
        sender = str(report["hospital_id"])
        if kind == "another hospital's name":  # a hospital's system reporting as another
            report["hospital_id"] = rng.choice([h for h in HOSPITALS if h != sender])
        elif kind == "injury in the future":
            report["injured_on"] = (today + timedelta(days=3)).isoformat()
        plan.invalid.append((kind, sender, report))
    return plan


def hospital_message(report: dict[str, Any]) -> bytes:
    payload = InjuryReported.model_validate({**report, "reporter": "hospital"})
    return Envelope.wrap(payload, key=payload.report_ref, producer=payload.hospital_id).to_bytes()


def spoiled(message: bytes) -> bytes:
    """The message with its resident ID's check character wrong, as a faulty system sends it."""
    raw = json.loads(message)
    number = raw["data"]["worker"]["resident_id"]
    raw["data"]["worker"]["resident_id"] = number[:17] + ("1" if number[17] == "0" else "0")
    return json.dumps(raw, ensure_ascii=False).encode()


def visitor(visitor_id: str) -> staff.Headers:
    return staff.as_person(Role.VISITOR, visitor_id)


class Aid(staff.ServiceClient):
    """The visitor app and the union's staff, talking to aid over HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, AID)

    async def advance(self, hours: float) -> None:
        await self.advance_hours(hours)

    async def summary(self, since: str) -> dict[str, Any]:
        response = await self.client.get(
            f"{AID}/v1/injuries/summary",
            params={"since": since, "days": 366},
            headers=self.staff,
        )
        result: dict[str, Any] = response.json()
        return result

    async def assignments(self) -> list[dict[str, Any]]:
        visitors = (await self.call("GET", "/v1/visitors")).json()
        found = await asyncio.gather(
            *(self.call("GET", f"/v1/visitors/{v['visitor_id']}/assignments") for v in visitors)
        )
        return [
            {**a, "visitor_id": v["visitor_id"]}
            for v, answer in zip(visitors, found, strict=True)
            for a in answer.json()
        ]


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.5)


def hospital_messages(plan: Plan) -> dict[Partner, list[tuple[str, bytes]]]:
    """The hospitals' reports, and the spoiled ones, as (report ref, message), by the hospital
    that sends them on its own topic."""
    messages: dict[Partner, list[tuple[str, bytes]]] = {}
    for injury in plan.injuries:
        if injury.channel != "worker":
            sender = localrun.partner(injury.report["hospital_id"])
            ref = injury.report["report_ref"]
            messages.setdefault(sender, []).append((ref, hospital_message(injury.report)))
    for kind, sent_by, report in plan.invalid:
        message = hospital_message(report)
        bad = spoiled(message) if "checksum" in kind else message
        messages.setdefault(localrun.partner(sent_by), []).append((report["report_ref"], bad))
    return messages


async def report_from_app(aid: Aid, injury: Injury) -> dict[str, Any]:
    body = {
        **injury.report,
        "reporter": "worker",
        "report_ref": "app-" + injury.report["report_ref"],
    }
    worker = staff.as_worker(injury.report["worker"]["resident_id"])
    answer: dict[str, Any] = (await aid.call("POST", "/v1/injury-reports", body, as_=worker)).json()
    return answer


async def run(console: Console, total: int) -> bool:
    rng = random.Random(697)
    today = date.today()
    plan = build(rng, total, today)
    console.rule(f"[bold]A day of work injuries in Shenzhen: {total} injuries, 87 hospitals")
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        aid = Aid(client)
        since = (await aid.call("GET", "/admin/clock")).json()["today"]
        traces = await streams.publish_traced_by(REPORTS, hospital_messages(plan))
        by_app = [i for i in plan.injuries if i.channel != "hospital"]
        answers = await asyncio.gather(*(report_from_app(aid, i) for i in by_app))
        for injury, answer in zip(by_app, answers, strict=True):
            injury.case_id = answer["case_id"]
        outcomes = await read_outcomes(len(traces))
        for injury in plan.injuries:
            injury.case_id = injury.case_id or outcomes[injury.report["report_ref"]]["case_id"]
        await dispatch_and_visit(aid, plan, since)
        await discharge_and_follow_up(aid, plan, since)
        summary = await aid.summary(since)
        repeat = (
            await aid.call(
                "GET", f"/v1/injuries/repeat-employers?since={since}&days=366&min_cases=5"
            )
        ).json()
    elapsed = time.monotonic() - started
    return await show(
        console,
        plan,
        summary=summary,
        outcomes=outcomes,
        repeat=repeat,
        traces=traces,
        elapsed=elapsed,
    )


async def read_outcomes(expected: int) -> dict[str, dict[str, Any]]:
    """The answers on every hospital's own outcome topic."""
    topics = [streams.own_topic(OUTCOMES, localrun.partner(h)) for h in HOSPITALS]
    events = await streams.read_events(topics, expected)
    return {event["data"]["report_ref"]: event["data"] for event in events}


async def dispatch_and_visit(aid: Aid, plan: Plan, since: str) -> None:
    cases = {i.case_id: i for i in plan.injuries}

    async def all_offered() -> bool:
        return len(await aid.assignments()) == len(cases)

    await until(all_offered, "every case offered to a visitor")
    for offer in await aid.assignments():  # the visitor app: most accept at once
        if not cases[offer["case_id"]].lapses:
            path = f"/v1/injury-cases/{offer['case_id']}/accept"
            await aid.call("POST", path, as_=visitor(offer["visitor_id"]))
    await aid.advance(0.6)  # the others' offers lapse and go to the next visitor

    async def reoffered() -> bool:
        now = datetime.fromisoformat((await aid.call("GET", "/admin/clock")).json()["now"])
        return all(
            a["accepted"] or datetime.fromisoformat(a["accept_by"]) > now
            for a in await aid.assignments()
        )

    await until(reoffered, "lapsed offers given to other visitors")
    open_offers = await aid.assignments()
    await asyncio.gather(
        *(
            aid.call(
                "POST", f"/v1/injury-cases/{a['case_id']}/accept", as_=visitor(a["visitor_id"])
            )
            for a in open_offers
            if not a["accepted"]
        )
    )
    await visit(aid, [a for a in open_offers if not cases[a["case_id"]].late], cases)
    await aid.advance(21)  # reminders for what is left ...
    await asyncio.sleep(2)
    await aid.advance(4)  # ... then escalation to the district unions
    late = sum(1 for i in plan.injuries if i.late)

    async def escalated() -> bool:
        return int((await aid.summary(since))["visits_escalated"]) == late

    await until(escalated, "late visits escalated")
    await visit(aid, await aid.assignments(), cases)


async def visit(aid: Aid, offers: list[dict[str, Any]], cases: dict[Any, Injury]) -> None:
    async def one(offer: dict[str, Any]) -> None:
        injury = cases[offer["case_id"]]
        body = {
            "needs": ["legal_help"] if injury.visit_problem else [],
            "compensation_problem": injury.visit_problem,
        }
        path = f"/v1/injury-cases/{offer['case_id']}/visit"
        response = await aid.call("POST", path, body, as_=visitor(offer["visitor_id"]))
        response.raise_for_status()

    await asyncio.gather(*(one(offer) for offer in offers))


async def discharge_and_follow_up(aid: Aid, plan: Plan, since: str) -> None:
    leaving = [i for i in plan.injuries if i.discharged]
    today = date.fromisoformat((await aid.call("GET", "/admin/clock")).json()["today"])
    by_hospital: dict[Partner, list[tuple[str, bytes]]] = {}
    for injury in leaving:
        if injury.channel == "worker":  # no hospital report: the visitor records it
            path = f"/v1/injury-cases/{injury.case_id}/discharge"
            await aid.call("POST", path, {"discharged_on": today.isoformat()})
            continue
        discharge = PatientDischarged(
            report_ref=injury.report["report_ref"],
            hospital_id=injury.report["hospital_id"],
            discharged_on=today,
        )
        envelope = Envelope.wrap(
            discharge, key=discharge.report_ref, producer=discharge.hospital_id
        )
        sender = localrun.partner(discharge.hospital_id)
        by_hospital.setdefault(sender, []).append((discharge.report_ref, envelope.to_bytes()))
    await asyncio.gather(
        *(streams.publish_timed(REPORTS, sent, hospital) for hospital, sent in by_hospital.items())
    )

    async def scheduled() -> bool:
        return int((await aid.summary(since))["discharged"]) == len(leaving)

    await until(scheduled, "discharges recorded")
    await aid.advance(7 * 24)  # a week on: the first follow-ups fall due

    async def due() -> bool:
        return int((await aid.summary(since))["follow_ups"].get("due", 0)) == len(leaving)

    await until(due, "first follow-ups due")
    for injury in leaving:
        if injury.follows_up:
            body = {"outcome": "done", "compensation_problem": injury.follow_up_problem}
            await aid.call("POST", f"/v1/injury-cases/{injury.case_id}/follow-ups/1", body)
    await aid.advance(4 * 24)  # the grace days pass for the ones nobody recorded
    unrecorded = sum(1 for i in leaving if not i.follows_up)

    async def escalated() -> bool:
        return int((await aid.summary(since))["follow_ups"].get("escalated", 0)) == unrecorded

    await until(escalated, "unrecorded follow-ups escalated")


async def show(
    console: Console,
    plan: Plan,
    *,
    summary: dict[str, Any],
    outcomes: dict[str, dict[str, Any]],
    repeat: list[dict[str, Any]],
    traces: dict[str, str],
    elapsed: float,
) -> bool:
    injuries = plan.injuries
    channels = Counter(i.channel for i in injuries)
    reports = channels["hospital"] + channels["worker"] + 2 * channels["both"]
    rejected = Counter(
        r["field"] for o in outcomes.values() if o["outcome"] == "rejected" for r in o["reasons"]
    )
    late = sum(i.late for i in injuries)
    leaving = [i for i in injuries if i.discharged]
    referred = sum(
        1
        for i in injuries
        if i.visit_problem or (i.discharged and i.follows_up and i.follow_up_problem)
    )
    condolence = sum(i.condolence_yuan for i in injuries)
    follow_ups = summary["follow_ups"]
    dead = await streams.dead_letters()

    table = Table(title=f"Shenzhen work injuries — done in {elapsed:.1f}s")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows: list[tuple[str, object]] = [
        ("reports taken (hospitals + app)", summary["reports"]),
        ("  cases opened", summary["cases"]),
        ("  merged: the same injury from hospital and worker", summary["merged_reports"]),
        ("reports rejected", sum(o["outcome"] == "rejected" for o in outcomes.values())),
        *[(f"  {field}", count) for field, count in rejected.most_common()],
        ("offers left to lapse: another visitor asked", summary["offers_passed_on"]),
        ("visits made", summary["visited"]),
        ("  within 24 h of the report", summary["visited_within_sla"]),
        ("  late: escalated to the district union", summary["visits_escalated"]),
        ("condolence money paid (yuan)", summary["condolence_paid"]),
        ("discharged", summary["discharged"]),
        (
            "follow-ups: still scheduled / done / escalated",
            "{} / {} / {}".format(
                follow_ups.get("scheduled", 0),
                follow_ups.get("done", 0),
                follow_ups.get("escalated", 0),
            ),
        ),
        ("referred to legal aid", summary["referrals"]),
        ("dead letters, all topics", dead),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)
    if repeat:
        employers = Table(title="employers with repeated injuries (源头治理: for the inspectors)")
        for column in ("credit code", "employer", "cases", "serious+", "districts"):
            employers.add_column(column, no_wrap=True)
        for e in repeat[:5]:
            employers.add_row(
                e["credit_code"],
                e["name"],
                str(e["cases"]),
                str(e["serious_or_worse"]),
                str(len(e["districts"])),
            )
        console.print(employers)

    checks = [
        ("every report answered", summary["reports"] == reports),
        ("one case per injury, duplicates merged", summary["cases"] == len(injuries)),
        ("merged = reports from both", summary["merged_reports"] == channels["both"]),
        ("bad reports rejected with reasons", sum(rejected.values()) == len(plan.invalid)),
        ("lapsed offers passed on", summary["offers_passed_on"] == sum(i.lapses for i in injuries)),
        ("every injury visited (逢伤必探)", summary["visited"] == len(injuries)),
        (
            "late visits = escalations",
            summary["visits_escalated"] == late == len(injuries) - summary["visited_within_sla"],
        ),
        ("condolence = schedule × cases", float(summary["condolence_paid"]) == condolence),
        ("three follow-ups per discharge", sum(follow_ups.values()) == 3 * len(leaving)),
        (
            "unrecorded follow-ups escalated",
            follow_ups.get("escalated", 0) == sum(not i.follows_up for i in leaving),
        ),
        ("referrals as found at visits and follow-ups", summary["referrals"] == referred),
        ("no dead letters", dead == 0),
    ]
    for what, ok in checks:
        console.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {what}")
    by_hospital = [i.report for i in injuries if i.channel == "hospital"][:20]
    url = await streams.complete_trace(
        [(traces[r["report_ref"]], {r["hospital_id"], "aid", "notify"}) for r in by_hospital]
    )
    console.print(f"trace: {url}")
    return all(ok for _, ok in checks)
