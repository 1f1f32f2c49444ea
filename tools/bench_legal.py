"""The dispute burst of `make bench`: a year of Guangzhou's union legal filings (13,000: 11,000
mediations and 2,000 legal-aid cases in 2024) published at once by the 12351 hotline, courts and
arbitration commissions; the time until legal has offered every case to a lawyer, and the
assignment latency of each: from the partner's publish to legal's LawyerAssigned on Kafka."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import bursts
import localrun
from legal_day import FILERS

from gonghui_contracts import Envelope, samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import DisputeFiled
from legal import registry

FILINGS = "partner.legal.filings.v1"
CASES = "legal.cases.v1"
KINDS = [
    ("wage_arrears", 45),
    ("dismissal", 15),
    ("no_contract", 12),
    ("social_insurance", 12),
    ("injury_compensation", 10),
    ("other", 6),
]
CHANNELS = [("hotline_12351", 60), ("court", 20), ("arbitration", 20)]

INDUSTRIES = ["manufacturing", "construction", "retail", "hospitality", "food_delivery", "freight"]


def guangzhou_capacity() -> Counter[str]:
    """Open cases each Guangzhou district's lawyers can hold: filings are spread in proportion,
    so that a year's filings fit (the registry holds 15,275 for 13,000)."""
    _, lawyers = registry.load()
    return Counter(
        {
            district: sum(lw.capacity for lw in lawyers if lw.station.district_code == district)
            for district in {lw.station.district_code for lw in lawyers}
            if district.startswith("4401")
        }
    )


def filings(count: int, seed: int) -> dict[Partner, list[tuple[str, bytes]]]:
    rng = random.Random(seed)
    today = date.today()
    capacity = guangzhou_capacity()
    districts = sorted(capacity)
    employers = {d: [samples.employer_credit_code(rng, d) for _ in range(300)] for d in districts}
    made: dict[Partner, list[tuple[str, bytes]]] = {}
    for n in range(count):
        district = rng.choices(districts, [capacity[d] for d in districts])[0]
        ref = f"bench-{seed}-{n:06d}"
        workers = rng.randint(10, 30) if rng.random() < 0.02 else rng.choice([1, 1, 1, 2, 3])
        body = DisputeFiled.model_validate(
            {
                "channel": rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0],
                "filing_ref": ref,
                "employer": {"credit_code": rng.choice(employers[district]), "name": "基准企业"},
                "industry": rng.choice(INDUSTRIES),
                "district_code": district,
                "kind": rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0],
                "arose_on": (today - timedelta(days=rng.randint(1, 300))).isoformat(),
                "workers": [
                    {
                        "name": samples.person_name(rng),
                        "resident_id": samples.adult_resident_id(rng, today),
                        "phone": samples.mobile_phone(rng),
                        "claimed": f"{rng.randint(2000, 90000)}.00",
                    }
                    for _ in range(workers)
                ],
            }
        )
        sender = localrun.partner(FILERS[body.channel])
        message = (ref, Envelope.wrap(body, key=ref, producer=sender.partner_id).to_bytes())
        made.setdefault(sender, []).append(message)
    return made


async def run(count: int, timeout: float) -> dict[str, Any]:
    messages = await asyncio.to_thread(filings, count, random.randrange(1 << 30))
    answer = (CASES, "legal.lawyer-assigned")
    figures = await bursts.run("legal", FILINGS, messages, answer, timeout)
    return {
        "filings": count,
        "assigned": figures["handled"],
        "drain_seconds": figures["drain_seconds"],
        "assign_per_second": figures["per_second"],
        "latency_seconds": figures["latency_seconds"],
        "legal_events_per_second": figures["events_per_second"],
    }
