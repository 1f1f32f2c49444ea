"""The injury burst of `make bench`: Shenzhen's 100,000 reports so far, published at once by
the hospitals; the time until aid has dispatched every one (a visitor asked), and the dispatch
latency of each: from the hospital's publish to aid's VisitorAssigned on Kafka."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import date
from typing import Any

import localrun
import measure
import streams
from injury_day import HOSPITALS, hospital_message

from gonghui_contracts import samples
from servicekit.topics_admin import reader_from_start

REPORTS = "partner.aid.injury-reports.v1"
CASES = "aid.injury-cases.v1"


def reports(count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    today = date.today()
    employers = [samples.employer_credit_code(rng) for _ in range(500)]
    made, workers = [], set()
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
        made.append((ref, hospital_message(report)))
    return made


async def dispatched(expected: set[str], timeout: float) -> dict[str, float]:
    """When each report's first VisitorAssigned reached Kafka, by correlation id."""
    consumer, _ = await reader_from_start(localrun.KAFKA, CASES)
    found: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(found) < len(expected) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10000)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    correlation = event["correlation_id"]
                    if (
                        event["event_type"] == "aid.visitor-assigned"
                        and correlation in expected
                        and correlation not in found
                    ):
                        found[correlation] = record.timestamp / 1000
    finally:
        await consumer.stop()
    return found


async def run(count: int, timeout: float) -> dict[str, Any]:
    messages = await asyncio.to_thread(reports, count, random.randrange(1 << 30))
    before = measure.counters("aid")
    started = time.time()
    published = await streams.publish_timed(REPORTS, messages)
    done = await dispatched(set(published), timeout)
    drained = max(done.values(), default=time.time()) - started
    latencies = sorted(done[k] - published[k] for k in done)
    return {
        "reports": count,
        "dispatched": len(done),
        "drain_seconds": round(drained, 2),
        "dispatch_per_second": round(len(done) / drained, 1) if drained > 0 else None,
        "latency_seconds": measure.percentiles(latencies),
        "aid_events_per_second": round((measure.counters("aid") - before) / drained, 1),
    }
