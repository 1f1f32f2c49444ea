"""The injury burst of `make bench`: Shenzhen's 100,000 reports so far, published at once by
the hospitals; the time until aid has dispatched every one (a visitor asked), and the dispatch
latency of each: from the hospital's publish to aid's VisitorAssigned on Kafka."""

from __future__ import annotations

import asyncio
import random
from datetime import date
from typing import Any

import bursts
import localrun
from injury_day import HOSPITALS, hospital_message

from gonghui_contracts import samples
from gonghui_contracts.access import Partner

REPORTS = "partner.aid.injury-reports.v1"
CASES = "aid.injury-cases.v1"


def reports(count: int, seed: int) -> dict[Partner, list[tuple[str, bytes]]]:
    """The reports by hospital: each sends its own on its own topic."""
    rng = random.Random(seed)
    today = date.today()
    employers = [samples.employer_credit_code(rng) for _ in range(500)]
    made: dict[Partner, list[tuple[str, bytes]]] = {}
    workers = set()
    for n in range(count):
        ref = f"bench-{seed}-{n:06d}"
        resident_id = samples.adult_resident_id(rng, today)
        while resident_id in workers:  # distinct workers: a repeat would merge, not dispatch
            resident_id = samples.adult_resident_id(rng, today)
        workers.add(resident_id)
        report = {
            "report_ref": ref,
            "hospital_id": HOSPITALS[n % len(HOSPITALS)],
            "worker": {
                "name": samples.person_name(rng),
                "resident_id": resident_id,
                "phone": samples.mobile_phone(rng),
            },
            "employer": {"credit_code": rng.choice(employers), "name": "基准测试企业"},
            "industry": "manufacturing",
            "injured_on": today.isoformat(),
            "injury_kind": "fracture",
            "severity": "minor",
            "admission": "admitted",
        }
        sender = localrun.partner(str(report["hospital_id"]))
        made.setdefault(sender, []).append((ref, hospital_message(report)))
    return made


async def run(count: int, timeout: float) -> dict[str, Any]:
    messages = await asyncio.to_thread(reports, count, random.randrange(1 << 30))
    figures = await bursts.run("aid", REPORTS, messages, (CASES, "aid.visitor-assigned"), timeout)
    return {
        "reports": count,
        "dispatched": figures["handled"],
        "drain_seconds": figures["drain_seconds"],
        "dispatch_per_second": figures["per_second"],
        "latency_seconds": figures["latency_seconds"],
        "aid_events_per_second": figures["events_per_second"],
    }
