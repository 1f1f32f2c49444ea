"""The SF courier ceremony (Guangzhou, 27 June 2024: 6,000+ couriers joined at once, completing
all 23,000 SF couriers in the city), as join requests from the courier company's union.

Deterministic for a seed: valid couriers, some asking twice, some invalid in known ways.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from gonghui_contracts import new_event_id, samples
from gonghui_contracts.events import JoinRequested
from gonghui_contracts.values import guangdong_regions

PARTNER = "sf-express-guangzhou"
CEREMONY = date(2024, 6, 27)
GUANGZHOU_DISTRICTS = sorted(
    code for code, r in guangdong_regions().items() if r.city_code == "440100" and not r.is_city
)


@dataclass
class Scenario:
    requests: list[bytes] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)
    invalid_kinds: Counter[str] = field(default_factory=Counter)


def courier(rng: random.Random, ref: str, run: str, today: date) -> dict[str, str]:
    born = date(rng.randint(1970, today.year - 18), rng.randint(1, 12), rng.randint(1, 28))
    return {
        "request_ref": ref,
        "partner_id": PARTNER,
        "channel": "partner_batch",
        "name": samples.person_name(rng),
        "resident_id": samples.resident_id_born(rng, born),
        "phone": samples.mobile_phone(rng),
        "region_code": rng.choice(GUANGZHOU_DISTRICTS),
        "industry": "express_delivery",
        "employer": "顺丰速运（广州）",
        "platform": f"SF Express ({run})",
    }


def spoil(rng: random.Random, data: dict[str, str], today: date) -> str:
    """Make a request invalid in one of the ways partners' data goes wrong; returns which."""
    kind = rng.choice(["checksum", "underage", "region", "phone"])
    if kind == "checksum":
        good = data["resident_id"]
        data["resident_id"] = good[:17] + ("0" if good[17] != "0" else "1")
    elif kind == "underage":
        data["resident_id"] = samples.resident_id_born(
            rng, date(today.year - 15, rng.randint(1, 12), 1)
        )
    elif kind == "region":
        data["region_code"] = "450103"  # Guangxi: not a Guangdong union's county
    else:
        data["phone"] = data["phone"][:7]
    return kind


def build(
    run: str,
    *,
    total: int = 6000,
    repeats: int = 180,
    invalid: int = 120,
    seed: int = 20240627,
    taken: set[str] | None = None,
) -> Scenario:
    """`total` requests: `repeats` second requests of people already in the batch, `invalid`
    broken ones, the rest distinct valid couriers, shuffled as a partner's export would be.
    `taken`: resident IDs of people drawn by earlier runs, to draw none of again (the new ones
    are added to it)."""
    rng = random.Random(seed)
    today = date.today()
    scenario = Scenario()
    people: list[dict[str, str]] = []
    rows: list[tuple[str, dict[str, str]]] = []
    drawn = taken if taken is not None else set()
    for n in range(total - repeats - invalid):
        data = courier(rng, f"{run}-{n:05d}", run, today)
        while data["resident_id"] in drawn:  # one person is one member: draw another
            data = courier(rng, f"{run}-{n:05d}", run, today)
        drawn.add(data["resident_id"])
        people.append(data)
        rows.append(("joined", data))
    for n, original in enumerate(rng.sample(people, repeats)):
        rows.append(("already_member", {**original, "request_ref": f"{run}-r{n:04d}"}))
    for n in range(invalid):
        data = courier(rng, f"{run}-x{n:04d}", run, today)
        scenario.invalid_kinds[spoil(rng, data, today)] += 1
        rows.append(("rejected", data))
    rng.shuffle(rows)
    for outcome, data in rows:
        scenario.expected[outcome] += 1
        scenario.refs.append(data["request_ref"])
        scenario.requests.append(envelope(data))
    return scenario


def envelope(data: dict[str, str]) -> bytes:
    """The message as a partner's integrator writes it: the envelope fields, then the request."""
    event_id = str(new_event_id())
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": JoinRequested.EVENT_TYPE,
            "schema_version": JoinRequested.SCHEMA_VERSION,
            "occurred_at": datetime.now(UTC).isoformat(),
            "producer": PARTNER,
            "correlation_id": event_id,
            "causation_id": None,
            "key": data["request_ref"],
            "data": data,
        },
        ensure_ascii=False,
    ).encode()
