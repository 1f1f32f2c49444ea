"""Replay the SF courier ceremony through membership → aid → notify, a day of work injuries in
Shenzhen through aid, Guangzhou's labour disputes through legal, and the medical-insurance
bureau's settlements of the ceremony's members through aid's mutual-aid claims, a flash sale of
night-school seats and the union's skills programmes (degree aid, the craftsman ladder, a
contest) through skills; show what happened.

Run by `make demo` after the stack and the services are up, on emptied databases and topics.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
import claims_day
import injury_day
import legal_day
import localrun
import programmes_day
import scenario
import seats_day
import staff
import streams

REQUESTS = "partner.membership.join-requests.v1"
OUTCOMES = "partner.membership.join-outcomes.v1"
AID_EVENTS = "aid.events.v1"
console = Console()


def notices(sink: localrun.NoticeSink, correlations: set[str]) -> list[dict[str, Any]]:
    return [n for n in sink.read() if n["correlation_id"] in correlations]


async def main() -> int:
    run = f"sf{uuid.uuid4().hex[:6]}"
    scenario_size = int(os.environ.get("DEMO_REQUESTS", "6000"))
    plan = scenario.build(
        run, total=scenario_size, repeats=scenario_size * 3 // 100, invalid=scenario_size // 50
    )
    console.rule(
        f"[bold]SF Express Guangzhou courier ceremony: {len(plan.requests):,} join requests"
    )
    started = time.monotonic()
    sf = localrun.partner(scenario.PARTNER)
    traces = await streams.publish_traced(
        REQUESTS, list(zip(plan.refs, plan.requests, strict=True)), sf
    )
    console.print(f"published {len(plan.requests):,} requests in {time.monotonic() - started:.1f}s")

    outcomes: dict[str, dict[str, Any]] = {}
    aid: Counter[str] = Counter()
    covered: set[str] = set()  # members the gift fund enrolled
    correlations: set[str] = set()
    sink = localrun.NoticeSink()
    columns = (
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    async with (
        streams.TopicReader(streams.own_topic(OUTCOMES, sf)) as outcome_reader,
        streams.TopicReader(AID_EVENTS) as aid_reader,
    ):
        with Progress(*columns, console=console) as progress:
            answered = progress.add_task("partner outcomes", total=len(plan.requests))
            insured = progress.add_task("insurance decisions", total=plan.expected["joined"])
            noticed = progress.add_task("notices sent", total=2 * plan.expected["joined"])
            deadline = time.monotonic() + float(os.environ.get("DEMO_TIMEOUT", "300"))
            while time.monotonic() < deadline:
                for event in await outcome_reader.poll():
                    if event["data"]["request_ref"].startswith(run):
                        outcomes[event["data"]["request_ref"]] = event["data"]
                        correlations.add(event["correlation_id"])
                for event in await aid_reader.poll():
                    if event["event_type"] == "aid.insurance-enrolled":
                        covered.add(event["data"]["member_id"])
                    if (
                        event["correlation_id"] in correlations
                        or event["event_type"] == "aid.gift-fund-exhausted"
                    ):
                        aid[
                            event["event_type"]
                            + ":"
                            + event["data"].get("paid_by", event["data"].get("reason", ""))
                        ] += 1
                sent = notices(sink, correlations)
                progress.update(answered, completed=len(outcomes))
                decided = sum(
                    v for k, v in aid.items() if not k.startswith("aid.gift-fund-exhausted")
                )
                progress.update(insured, completed=decided)
                progress.update(noticed, completed=len({n["notice_id"] for n in sent}))
                if progress.finished:
                    break
    elapsed = time.monotonic() - started
    ceremony = await summarize(
        plan=plan,
        outcomes=outcomes,
        aid=aid,
        sent=notices(sink, correlations),
        traces=traces,
        elapsed=elapsed,
    )
    injuries = await injury_day.run(console, int(os.environ.get("DEMO_INJURIES", "300")))
    console.print("services keep running: `make stop` stops them, `make down` the whole stack")
    disputes = await legal_day.run(console, int(os.environ.get("DEMO_DISPUTES", "120")))
    members = ceremony_members(plan, outcomes, covered)
    claims = await claims_day.run(console, members, int(os.environ.get("DEMO_CLAIMS", "6030")))
    seats = await seats_day.run(console, run, [m.member_id for m in members])
    programmes = await programmes_day.run(console, [m.member_id for m in members])
    days = (ceremony, injuries, disputes, claims, seats, programmes)
    return 0 if all(days) else 1


def ceremony_members(
    plan: scenario.Scenario, outcomes: dict[str, dict[str, Any]], covered: set[str]
) -> list[claims_day.Insured]:
    """The couriers who joined at the ceremony, with whether the gift fund covers them."""
    requests = dict(zip(plan.refs, plan.requests, strict=True))
    return [
        claims_day.Insured(
            o["member_id"],
            json.loads(requests[ref])["data"]["resident_id"],
            o["member_id"] in covered,
        )
        for ref, o in sorted(outcomes.items())
        if o["outcome"] == "joined"
    ]


async def summarize(
    *,
    plan: scenario.Scenario,
    outcomes: dict[str, dict[str, Any]],
    aid: Counter[str],
    sent: list[dict[str, Any]],
    traces: dict[str, str],
    elapsed: float,
) -> bool:
    kinds = Counter(o["outcome"] for o in outcomes.values())
    reasons = Counter(
        f"{r['field']}: {r['rule']}" for o in outcomes.values() for r in o["reasons"][:1]
    )
    gifted, self_paid = (
        aid["aid.insurance-enrolled:gift_fund"],
        aid["aid.self-paid-offered:fund_exhausted"],
    )
    not_eligible = aid["aid.self-paid-offered:not_eligible_for_gift"]
    async with httpx.AsyncClient(timeout=5, headers=staff.as_staff()) as client:
        fund = (
            await client.get(f"{localrun.SERVICES['aid'].url}/v1/funds/gd-new-form-gift")
        ).json()
    unique_notices = len({n["notice_id"] for n in sent})
    dead = await streams.dead_letters()

    table = Table(title=f"SF courier ceremony — done in {elapsed:.1f}s", show_lines=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("join requests published", len(plan.requests)),
        ("  joined", kinds["joined"]),
        ("  already a member (repeat requests)", kinds["already_member"]),
        ("  rejected", kinds["rejected"]),
        *[(f"    {reason}", count) for reason, count in reasons.most_common()],
        ("insurance: gifted by the fund", gifted),
        ("insurance: offered self-paid (fund exhausted)", self_paid),
        ("insurance: offered self-paid (not eligible)", not_eligible),
        ("gift fund: spent / budget (yuan)", f"{fund['spent']} / {fund['budget']}"),
        ("notices sent (welcome + cover or offer)", unique_notices),
        ("dead letters, all topics", dead),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}" if isinstance(count, int) else str(count))
    console.print(table)

    checks = [
        ("every request has an outcome", len(outcomes) == len(plan.requests)),
        (
            "joined + repeats + rejected = requests",
            kinds["joined"] + kinds["already_member"] + kinds["rejected"] == len(plan.requests),
        ),
        ("outcomes are as planned", kinds == plan.expected),
        (
            "gifted + self-paid offers = joined",
            gifted + self_paid + not_eligible == kinds["joined"],
        ),
        ("fund spent = gifted × premium", float(fund["spent"]) == gifted * float(fund["premium"])),
        ("the fund ran out before the end", self_paid > 0 and fund["exhausted_at"] is not None),
        ("two notices per member", unique_notices == 2 * kinds["joined"]),
        ("no dead letters", dead == 0),
    ]
    for what, ok in checks:
        console.print(f"  {'[green]✓' if ok else '[red]✗'}[/] {what}")
    joined = [ref for ref, o in outcomes.items() if o["outcome"] == "joined"][:20]
    flow = {scenario.PARTNER, "membership", "aid", "notify"}
    trace_url = await streams.complete_trace([(traces[ref], flow) for ref in joined])
    console.print(f"trace: {trace_url}")
    return all(ok for _, ok in checks)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
