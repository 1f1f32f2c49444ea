"""The claims burst of `make bench`: Guangzhou's 60,300 payouts of 2024 as settlements the
medical-insurance bureau publishes at once, for members aid already covers; the time until aid
has decided every one (ClaimDecided on aid.claims.v1), and each decision's latency from the
bureau's publish.

The members (one per ten settlements, so that a member's claims meet the yearly cap now and
then) are made first as membership would announce them: MemberJoined and MemberIdentified, then
aid's enrolments are awaited; that part is not timed.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import date, timedelta
from typing import Any

import bursts
import localrun
from aiokafka import AIOKafkaProducer
from claims_day import BUREAU_ID, SETTLEMENTS, message, out_of_pocket, stay_body

from gonghui_contracts import Envelope, samples
from gonghui_contracts.events import MemberIdentified, MemberJoined
from gonghui_contracts.values import Industry, JoinChannel
from servicekit.kafka_access import client_options

CLAIMS = "aid.claims.v1"
SETTLEMENTS_PER_MEMBER = 10


async def members(count: int, rng: random.Random, joined_on: date, timeout: float) -> list[str]:
    """`count` members joined and identified as membership announces them, once aid has enrolled
    every one; their resident IDs."""
    producer = AIOKafkaProducer(**client_options(localrun.KAFKA), linger_ms=20)
    await producer.start()
    resident_ids, pending = [], []
    try:
        for _ in range(count):
            member_id, resident_id = uuid.uuid4(), samples.adult_resident_id(rng)
            resident_ids.append(resident_id)
            key = str(member_id)
            for topic, payload in (
                ("membership.identities.v1", _identified(member_id, resident_id)),
                ("membership.events.v1", _joined(member_id, joined_on)),
            ):
                value = Envelope.wrap(payload, key=key, producer="bench").to_bytes()
                pending.append(await producer.send(topic, value, key=key.encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    enrolled = await bursts.count_events("aid.events.v1", "aid.insurance-enrolled", count, timeout)
    if enrolled < count:
        raise TimeoutError(f"aid enrolled {enrolled} of {count} bench members")
    return resident_ids


def _identified(member_id: uuid.UUID, resident_id: str) -> MemberIdentified:
    return MemberIdentified(
        member_id=member_id,
        resident_id=resident_id,
        union_id="440100-express_delivery",
        region_code="440106",
        city_code="440100",
    )


def _joined(member_id: uuid.UUID, joined_on: date) -> MemberJoined:
    return MemberJoined(
        member_id=member_id,
        union_id="440100-express_delivery",
        region_code="440106",
        city_code="440100",
        industry=Industry.EXPRESS_DELIVERY,
        new_employment_form=True,
        channel=JoinChannel.PARTNER_BATCH,
        joined_on=joined_on,
    )


def settlements(
    count: int, resident_ids: list[str], rng: random.Random, joined_on: date
) -> list[tuple[str, bytes]]:
    made = []
    for n in range(count):
        admitted = joined_on + timedelta(days=rng.randint(0, 20))
        ref = f"bench-si-{n:06d}"
        body = stay_body(rng, ref, rng.choice(resident_ids), admitted, out_of_pocket(rng))
        made.append((ref, message(body)))
    return made


async def run(count: int, timeout: float) -> dict[str, Any]:
    rng = random.Random(random.randrange(1 << 30))
    joined_on = date.today() - timedelta(days=30)  # the stays are over before their settlement
    started = time.monotonic()
    insured = await members(max(1, count // SETTLEMENTS_PER_MEMBER), rng, joined_on, timeout)
    prepared = round(time.monotonic() - started, 1)
    sent = await asyncio.to_thread(settlements, count, insured, rng, joined_on)
    bureau = localrun.partner(BUREAU_ID)
    figures = await bursts.run(
        "aid", SETTLEMENTS, {bureau: sent}, (CLAIMS, "aid.claim-decided"), timeout
    )
    return {
        "settlements": count,
        "members": len(insured),
        "members_prepared_seconds": prepared,
        "decided": figures["handled"],
        "drain_seconds": figures["drain_seconds"],
        "decide_per_second": figures["per_second"],
        "latency_seconds": figures["latency_seconds"],
        "aid_events_per_second": figures["events_per_second"],
    }
