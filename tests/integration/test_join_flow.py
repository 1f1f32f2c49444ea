"""A join through membership → aid → notify, as separate processes on the real stack, each run
on topics of its own (KAFKA_TOPIC_PREFIX) and fresh databases."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from .conftest import (
    SF,
    Platform,
    StartPlatform,
    as_operator,
    as_staff,
    eventually,
    partner_span,
    random_resident_id,
    read_topic,
    trace_holding,
)
from .test_membership import REQUESTS, join_request

pytestmark = pytest.mark.integration
PREMIUM = 60


@pytest.fixture
async def platform(start_platform: StartPlatform) -> Platform:
    return await joins_platform(start_platform)


async def joins_platform(start_platform: StartPlatform, **env: str) -> Platform:
    return await start_platform(
        ("membership", "aid", "notify"),
        {"GIFT_FUND_BUDGET": str(PREMIUM * 300), **env},  # pays for 300 members
    )


async def test_an_invalid_request_gets_a_rejection_and_causes_nothing_else(
    platform: Platform,
) -> None:
    ref = f"bad-{uuid.uuid4().hex[:8]}"
    bad = join_request(ref, random_resident_id(), phone="12")
    requests = platform.partner_topic(REQUESTS, SF)
    await platform.send(REQUESTS, SF, bad, key=ref.encode())
    outcomes = platform.partner_topic("partner.membership.join-outcomes.v1", SF)
    [outcome] = await read_topic(outcomes, expect=1)
    data = json.loads(outcome.value)["data"]
    assert (data["outcome"], [r["field"] for r in data["reasons"]]) == ("rejected", ["phone"])
    quiet = [platform.topic(t) for t in ("membership.events.v1", "aid.events.v1")]
    for topic in [*quiet, platform.topic("notify.events.v1"), requests + ".dlq"]:
        assert await read_topic(topic, expect=1, timeout=2) == [], topic
    assert platform.notices() == []


async def test_one_join_is_one_trace_through_three_services(platform: Platform) -> None:
    ref = f"ok-{uuid.uuid4().hex[:8]}"
    with partner_span(f"send {REQUESTS}") as (trace_id, headers):
        await platform.send(
            REQUESTS, SF, join_request(ref, random_resident_id()), key=ref.encode(), headers=headers
        )
    assert await eventually(lambda: len(platform.notices()) == 2, timeout=60)
    assert {n["template"] for n in platform.notices()} == {"welcome", "coverage_gifted"}

    await trace_holding(
        trace_id,
        {
            "it-partner": [f"send {REQUESTS}"],
            "membership": [f"process {platform.partner_topic(REQUESTS, SF)}"],  # prefix included
            "aid": [f"process {platform.topic('membership.events.v1')}", "update"],  # the debit
            # (the recipients' hourly counts are one Redis round trip for a sender's batch: a
            # span of its own, linked to the notices' traces)
            "notify": ["notify sink", f"send {platform.topic('notify.events.v1')}"],
        },
    )


async def test_sigkill_of_aid_mid_burst_enrols_each_member_once_and_spends_exactly(
    start_platform: StartPlatform,
) -> None:
    # Batches of 50: the fund's payments rise in steps a poll sees between, where a batch of
    # 500 could make all 300 at once.
    platform = await joins_platform(start_platform, KAFKA_CONSUME_BATCH_SIZE="50")
    members = 500  # the fund pays for 300: the rest are offered self-paid cover
    refs = [f"burst-{n:04d}" for n in range(members)]
    await platform.send_batch(
        REQUESTS, SF, [(ref.encode(), join_request(ref, random_resident_id())) for ref in refs]
    )

    async def midway() -> bool:
        async with httpx.AsyncClient() as client:
            fund = (
                await client.get(
                    f"{platform.url('aid')}/v1/funds/gd-new-form-gift", headers=as_staff()
                )
            ).json()
        return 20 <= int(fund["payments"]) < 250

    assert await eventually(
        midway, timeout=60, interval=0.05
    )  # aid is working through the burst...
    platform.services["aid"].kill()  # ...when it dies without any chance to clean up
    platform.services["aid"].start()

    await each_member_enrolled_once_and_fund_spent_exactly(platform, members)


async def test_two_aid_replicas_share_the_burst_and_enrol_each_member_once(
    platform: Platform, services: Any
) -> None:
    """Replicas of aid in one consumer group split membership's partitions between them: the
    effects are those of one (one enrolment each, the fund spent exactly), whichever replica
    handled which member, a rebalance in the middle included."""
    first = platform.services["aid"]
    second = services(first.command, {k: v for k, v in first.env.items() if k != "HTTP_PORT"})
    second.start()
    members = 1000  # the fund pays for 300: the rest are offered self-paid cover
    refs = [f"pair-{n:04d}" for n in range(members)]
    await platform.send_batch(
        REQUESTS, SF, [(ref.encode(), join_request(ref, random_resident_id())) for ref in refs]
    )
    await each_member_enrolled_once_and_fund_spent_exactly(platform, members)
    handled = [consumed(replica.url) for replica in (first, second)]
    assert all(count > 0 for count in handled), handled  # both took part


def consumed(url: str) -> float:
    text = httpx.get(f"{url}/metrics", headers=as_operator(), timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("kit_messages_consumed_total{") and "membership.events.v1" in line
    )


async def each_member_enrolled_once_and_fund_spent_exactly(
    platform: Platform, members: int
) -> None:
    async def all_decided() -> bool:
        (row,) = await platform.sql("aid", "SELECT count(*) FROM enrolments")
        return int(row[0]) == members

    assert await eventually(all_decided, timeout=120)
    ((per_member,),) = await platform.sql(
        "aid", "SELECT max(n) FROM (SELECT count(*) AS n FROM enrolments GROUP BY member_id) AS c"
    )
    ((gifted,),) = await platform.sql(
        "aid", "SELECT count(*) FROM enrolments WHERE paid_by = 'gift_fund'"
    )
    ((balance, budget, fund_count),) = await platform.sql(
        "aid",
        "SELECT balance_cents, budget_cents, payments FROM funds WHERE fund_id = $1",
        "gd-new-form-gift",
    )
    ((ledger,),) = await platform.sql(
        "aid", "SELECT -sum(amount_cents) FROM fund_ledger WHERE kind = 'premium'"
    )
    assert per_member == 1
    assert gifted == fund_count == 300
    assert budget - balance == ledger == gifted * PREMIUM * 100
    assert balance == 0
