"""Guangzhou's mutual-aid claims at one tenth of 2024 (60,300 payouts: 6,030 settlements): the
medical-insurance bureau publishes hospital settlements of the demo's members, some for persons
who are not members, some for stays outside their cover, some corrected, some reversed (冲正),
some sent twice, a few broken; aid pays what matches without a form (免审即享), the union's staff
review the rest, payments go out through the sink, serious illness brings condolence and the
heaviest costs a relief case.

Run by tools/demo.py after the disputes, with the ceremony's members, against aid started with
CLOCK_ADJUSTABLE=true.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

import httpx
import localrun
import staff
import streams
from injury_day import until
from rich.console import Console
from rich.table import Table

from aid.claims import payments
from gonghui_contracts import Envelope, samples
from gonghui_contracts.events import SettlementRecorded, SettlementReversed

BUREAU_ID = "gz-medical-insurance"
SETTLEMENTS = "partner.aid.settlements.v1"
OUTCOMES = "partner.aid.settlement-outcomes.v1"
CLAIMS_FUND = "gd-mutual-aid-claims"
CONDOLENCE_FUND = "gd-illness-condolence"
AID = localrun.SERVICES["aid"].url
Kind = Literal[
    "covered", "relief", "above_limit", "not_member", "uncovered", "before_cover", "inconsistent"
]
REJECTED_BY_STAFF: tuple[Kind, ...] = ("not_member", "uncovered", "before_cover", "inconsistent")
COVER_DAYS = 60  # the demo's stays fall in the first two months of the members' cover


@dataclass(frozen=True)
class Insured:
    member_id: str
    resident_id: str
    covered: bool


@dataclass
class Stay:
    """One settlement and what becomes of it."""

    kind: Kind
    body: dict[str, Any]
    correction: dict[str, Any] | None = None
    correction_first: bool = False  # the correction reaches aid before the settlement
    reversed: bool = False
    repeated: bool = False

    @property
    def ref(self) -> str:
        return str(self.body["settlement_id"])


@dataclass
class Plan:
    stays: list[Stay]
    relief_members: set[str]
    invalid: list[tuple[str, str, bytes]] = field(default_factory=list)  # (kind, ref, message)


def stay_body(
    rng: random.Random,
    ref: str,
    resident_id: str,
    admitted: date,
    out_of_pocket: Decimal,
    *,
    diagnosis: str | None = None,
) -> dict[str, Any]:
    total = (out_of_pocket / Decimal(rng.uniform(0.25, 0.45))).quantize(Decimal("0.01"))
    outside_list = (total * Decimal(rng.uniform(0, 0.08))).quantize(Decimal("0.01"))
    return {
        "settlement_id": ref,
        "revision": 0,
        "bureau_id": BUREAU_ID,
        "resident_id": resident_id,
        "hospital": rng.choice(["广州市第一人民医院", "中山大学附属第一医院", "广东省人民医院"]),
        "admitted_on": admitted.isoformat(),
        "discharged_on": (admitted + timedelta(days=rng.randint(1, 9))).isoformat(),
        "total_cost": str(total),
        "basic_paid": str(total - out_of_pocket - outside_list),
        "out_of_pocket_in_list": str(out_of_pocket),
        "diagnosis": diagnosis or ("serious_illness" if rng.random() < 0.04 else "general"),
    }


def out_of_pocket(rng: random.Random) -> Decimal:
    """A stay's own part within the policy list: 300 to 15,000 yuan, about 3,600 in the middle."""
    return Decimal(str(round(min(15_000.0, max(300.0, rng.lognormvariate(8.2, 0.7))), 2)))


def build(rng: random.Random, total: int, members: list[Insured], joined_on: date) -> Plan:
    covered = [m for m in members if m.covered]
    uncovered = [m for m in members if not m.covered]
    # members of their own: heavy stays of one member change what the next may pay (the cap)
    relief = rng.sample(covered, min(20, len(covered) // 10))
    large = rng.sample([m for m in covered if m not in relief], total // 100)
    plain = [m for m in covered if m not in relief and m not in large]
    numbered = iter(range(1, 10**6))

    def admitted() -> date:
        return joined_on + timedelta(days=rng.randint(0, COVER_DAYS - 10))

    stays: list[Stay] = []

    def add(
        kind: Kind, who: str, when: date, amount: Decimal, diagnosis: str | None = None
    ) -> Stay:
        ref = f"gz-si-{next(numbered):06d}"
        stay = Stay(kind, stay_body(rng, ref, who, when, amount, diagnosis=diagnosis))
        stays.append(stay)
        return stay

    for member in relief:  # four heavy stays: the yearly cap binds, then relief
        for _ in range(4):
            add("relief", member.resident_id, admitted(), Decimal("19000.00"), "general")
    for member in large:  # a payout above the auto-approval limit
        add("above_limit", member.resident_id, admitted(), Decimal("45000.00"), "general")
    for _ in range(total * 3 // 100):
        add("not_member", samples.adult_resident_id(rng), admitted(), out_of_pocket(rng))
    for _ in range(total * 2 // 100 if uncovered else 0):
        add("uncovered", rng.choice(uncovered).resident_id, admitted(), out_of_pocket(rng))
    for _ in range(total * 1 // 100):
        when = joined_on - timedelta(days=rng.randint(5, 60))
        add("before_cover", rng.choice(plain).resident_id, when, out_of_pocket(rng))
    for _ in range(total * 3 // 1000):
        broken = add("inconsistent", rng.choice(plain).resident_id, admitted(), out_of_pocket(rng))
        broken.body["total_cost"] = broken.body["out_of_pocket_in_list"]  # basic paid is over it
    while len(stays) < total:
        vary(rng, add("covered", rng.choice(plain).resident_id, admitted(), out_of_pocket(rng)))
    plan = Plan(stays, {m.member_id for m in relief})
    for n in range(10):  # a faulty system: the resident ID's check character wrong
        body = dict(rng.choice(stays).body, settlement_id=f"gz-bad-{n:03d}")
        number = body["resident_id"]
        bad = number[:17] + ("1" if number[17] == "0" else "0")
        plan.invalid.append(("resident ID checksum", body["settlement_id"], raw(body, bad)))
    for n in range(5):  # naming another bureau than the one whose topic carries it
        body = dict(rng.choice(stays).body, settlement_id=f"gz-other-{n:03d}")
        plan.invalid.append(("another bureau's name", body["settlement_id"], raw(body)))
    return plan


def vary(rng: random.Random, stay: Stay) -> None:
    """What the bureau does after: 5 % corrected, 2 % reversed, 3 % sent twice."""
    draw = rng.random()
    if draw < 0.05:
        stay.correction = corrected(rng, stay.body)
        stay.correction_first = rng.random() < 0.1
    elif draw < 0.07:
        stay.reversed = True
    elif draw < 0.10:
        stay.repeated = True


def corrected(rng: random.Random, body: dict[str, Any]) -> dict[str, Any]:
    """The bureau's correction of a settlement: other costs, the same stay."""
    amount = Decimal(body["out_of_pocket_in_list"]) * Decimal(rng.uniform(0.7, 1.3))
    admitted = date.fromisoformat(body["admitted_on"])
    again = stay_body(rng, body["settlement_id"], body["resident_id"], admitted, round(amount, 2))
    return again | {"revision": 1, "diagnosis": body["diagnosis"]}


def raw(body: dict[str, Any], resident_id: str | None = None) -> bytes:
    """A message as a faulty system writes it: with another resident ID, or (without one) naming
    another bureau than the one whose topic carries it."""
    envelope = json.loads(message(body))
    if resident_id:
        envelope["data"]["resident_id"] = resident_id
    else:
        envelope["data"]["bureau_id"] = "sz-medical-insurance"
    return json.dumps(envelope, ensure_ascii=False).encode()


def message(body: dict[str, Any]) -> bytes:
    settlement = SettlementRecorded.model_validate(body)
    return Envelope.wrap(settlement, key=settlement.settlement_id, producer=BUREAU_ID).to_bytes()


def reversal(ref: str, revision: int) -> bytes:
    reversed_ = SettlementReversed(
        settlement_id=ref, revision=revision, bureau_id=BUREAU_ID, reason="医院结算冲正"
    )
    return Envelope.wrap(reversed_, key=ref, producer=BUREAU_ID).to_bytes()


def messages(plan: Plan) -> list[tuple[str, bytes]]:
    """In the order the bureau sends them: the day's settlements, then repeats, corrections and
    reversals (a few corrections before their settlement), then the broken ones."""
    first = [
        (s.ref, message(s.correction)) for s in plan.stays if s.correction and s.correction_first
    ]
    sent = first + [(s.ref, message(s.body)) for s in plan.stays]
    sent += [(s.ref, message(s.body)) for s in plan.stays if s.repeated]
    sent += [
        (s.ref, message(s.correction))
        for s in plan.stays
        if s.correction and not s.correction_first
    ]
    sent += [(s.ref, reversal(s.ref, 1)) for s in plan.stays if s.reversed]
    return sent + [(ref, bad) for _, ref, bad in plan.invalid]


REJECTIONS = {
    "resident_id": "不是工会会员，不属互助保障对象",
    "admitted_on": "入院之日不在互助保障期内",
    "total_cost": "结算数据不一致，请医保部门更正后重报",
}


async def review(aid: staff.ServiceClient) -> Counter[str]:
    """The union's staff work through the review queue: reject what cannot be paid, approve the
    large payouts, one in three reduced."""
    decided: Counter[str] = Counter()
    while queue := await aid.ok("GET", "/v1/claims?status=under_review&limit=500"):
        for claim in queue:
            fields = [r["field"] for r in claim["reasons"]]
            rejected = next((REJECTIONS[f] for f in fields if f in REJECTIONS), None)
            path = f"/v1/claims/{claim['claim_id']}/decision"
            if rejected:
                await aid.ok("POST", path, {"action": "reject", "reason": rejected})
                decided["rejected"] += 1
            elif decided["approved"] % 3 == 2:
                reduced = (Decimal(claim["proposed"]) * Decimal("0.8")).quantize(Decimal("0.01"))
                body = {"action": "reduce", "amount": str(reduced), "reason": "部分费用票据不符"}
                await aid.ok("POST", path, body)
                decided["approved"] += 1
                decided["reduced"] += 1
            else:
                await aid.ok("POST", path, {"action": "approve"})
                decided["approved"] += 1
    return decided


async def ledger_total(aid: staff.ServiceClient, fund_id: str) -> int:
    """Σ of the fund's ledger rows but its opening, in cents (negative: paid out)."""
    total, before = 0, None
    while True:
        query = f"?limit=1000{f'&before_id={before}' if before else ''}"
        rows = await aid.ok("GET", f"/v1/funds/{fund_id}/ledger{query}")
        total += sum(int(Decimal(r["amount"]) * 100) for r in rows if r["kind"] != "opening")
        if len(rows) < 1000:
            return total
        before = rows[-1]["id"]


async def run(console: Console, members: list[Insured], total: int) -> bool:
    rng = random.Random(2024)
    console.rule(f"[bold]Guangzhou's mutual-aid claims (免审即享): {total:,} settlements")
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        aid = staff.ServiceClient(client, AID)
        clock = await aid.ok("GET", "/admin/clock")
        joined_on = date.today()
        behind = COVER_DAYS - (date.fromisoformat(clock["today"]) - joined_on).days
        if behind > 0:  # the stays must be over before their settlement
            await aid.advance_hours(24 * behind)
        since = (await aid.ok("GET", "/admin/clock"))["today"]
        plan = build(rng, total, members, joined_on)
        sent = messages(plan)
        bureau = localrun.partner(BUREAU_ID)
        traces = await streams.publish_traced(SETTLEMENTS, sent, bureau)
        console.print(f"published {len(sent):,} messages in {time.monotonic() - started:.1f}s")
        outcomes = await streams.read_events([streams.own_topic(OUTCOMES, bureau)], len(sent))
        reviewed = await review(aid)
        figures_path = f"/v1/claims-summary?since={since}&days=2"

        async def all_paid() -> bool:
            t = (await aid.ok("GET", figures_path))["total"]
            paid = Decimal(t["payout"]) + Decimal(t["clawed_back"]) + Decimal(t["condolence"])
            return Decimal(t["paid"]) == paid

        await until(all_paid, "every approved payout paid", timeout=180)
        summary = await aid.ok("GET", figures_path)
        funds = {f: await aid.ok("GET", f"/v1/funds/{f}") for f in (CLAIMS_FUND, CONDOLENCE_FUND)}
        ledgers = {f: await ledger_total(aid, f) for f in funds}
        relief = await aid.ok("GET", "/v1/relief-cases?status=open&limit=500")
    elapsed = time.monotonic() - started
    return await show(
        console,
        plan,
        outcomes=[o["data"] for o in outcomes],
        reviewed=reviewed,
        summary=summary,
        funds=funds,
        ledgers=ledgers,
        relief=relief,
        traces=traces,
        elapsed=elapsed,
    )


async def show(
    console: Console,
    plan: Plan,
    *,
    outcomes: list[dict[str, Any]],
    reviewed: Counter[str],
    summary: dict[str, Any],
    funds: dict[str, dict[str, Any]],
    ledgers: dict[str, int],
    relief: list[dict[str, Any]],
    traces: dict[str, str],
    elapsed: float,
) -> bool:
    total = summary["total"]
    kinds = Counter(s.kind for s in plan.stays)
    answered = Counter(o["outcome"] for o in outcomes)
    sink = list(payments.sink_records(localrun.PAYMENT_SINK))
    sink_ids = Counter(p.payment_id for p in sink)
    sunk = {
        kind: sum(Decimal(p.amount) for p in sink if p.kind == kind)
        for kind in ("payout", "condolence")
    }
    dead = await streams.dead_letters()
    reversed_ = sum(s.reversed for s in plan.stays)
    table = Table(title=f"Mutual-aid claims — done in {elapsed:.1f}s")
    table.add_column("what")
    table.add_column("count / yuan", justify="right")
    rows: list[tuple[str, object]] = [
        ("settlements from the bureau", len(plan.stays)),
        ("  sent twice", sum(s.repeated for s in plan.stays)),
        ("  corrected (some before the settlement)", sum(bool(s.correction) for s in plan.stays)),
        ("  reversed (冲正)", reversed_),
        ("  broken: rejected with the field named", len(plan.invalid)),
        ("paid without a form (免审即享)", total["auto_approved"]),
        ("reviewed by staff: approved (one in three reduced)", total["approved_by_staff"]),
        ("reviewed by staff: rejected", total["rejected"]),
        ("auto-approval rate", f"{total['auto_approval_rate']:.1%}"),
        ("paid out, net (yuan)", total["payout"]),
        ("clawed back by corrections and reversals (yuan)", total["clawed_back"]),
        ("condolence for serious illness (yuan)", total["condolence"]),
        ("relief cases opened for district unions", total["relief_cases"]),
        (
            "claims fund: spent / budget (yuan)",
            f"{funds[CLAIMS_FUND]['spent']} / {funds[CLAIMS_FUND]['budget']}",
        ),
        ("payments through the sink", len(sink)),
        ("dead letters, all topics", dead),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)
    by_district = Table(title="claims by district (staff's figures)")
    for column in ("district", "claims", "auto", "paid (yuan)", "relief"):
        by_district.add_column(column, justify="right")
    for district, f in sorted(summary["by_district"].items(), key=lambda d: -d[1]["claims"])[:6]:
        by_district.add_row(
            district, str(f["claims"]), str(f["auto_approved"]), f["paid"], str(f["relief_cases"])
        )
    console.print(by_district)

    payout = Decimal(total["payout"])
    checks = [
        ("every message answered on the bureau's topic", len(outcomes) == len(messages(plan))),
        ("broken settlements rejected", answered["rejected"] == len(plan.invalid)),
        (
            "reviewed = not members + no cover + inconsistent + large",
            reviewed["rejected"] == sum(kinds[kind] for kind in REJECTED_BY_STAFF)
            and reviewed["approved"] == kinds["above_limit"],
        ),
        ("nobody left under review", total["under_review"] == 0),
        (
            "paid without a form = the rest, reversals aside",
            total["auto_approved"] == kinds["covered"] + kinds["relief"] - reversed_,
        ),
        ("reversed settlements pay nothing", total["reversed"] == reversed_),
        ("every payment sent once", all(n == 1 for n in sink_ids.values())),
        (
            "money paid = ledger = Σ payouts ≤ budget",
            Decimal(funds[CLAIMS_FUND]["spent"]) == payout == Decimal(-ledgers[CLAIMS_FUND]) / 100
            and payout <= Decimal(funds[CLAIMS_FUND]["budget"]),
        ),
        (
            "sink payouts − clawbacks = Σ payouts",
            sunk["payout"] - Decimal(total["clawed_back"]) == payout,
        ),
        (
            "condolence: fund = ledger = sink",
            Decimal(funds[CONDOLENCE_FUND]["spent"])
            == Decimal(total["condolence"])
            == sunk["condolence"]
            == Decimal(-ledgers[CONDOLENCE_FUND]) / 100,
        ),
        (
            "the heaviest costs opened relief cases",
            plan.relief_members <= {r["member_id"] for r in relief},
        ),
        ("no dead letters", dead == 0),
    ]
    for what, ok in checks:
        console.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {what}")
    paid_refs = [s.ref for s in plan.stays if s.kind == "covered" and not s.reversed][:20]
    url = await streams.complete_trace(
        [(traces[r], {BUREAU_ID, "aid", "notify"}) for r in paid_refs]
    )
    console.print(f"trace: {url}")
    return all(ok for _, ok in checks)
