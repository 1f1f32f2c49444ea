"""membership as a real process on the real stack: partner requests in, outcomes out, traced."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from gonghui_contracts import Envelope
from gonghui_contracts.events import JoinRequested

from .conftest import (
    SF,
    StartPlatform,
    eventually,
    partner_span,
    random_resident_id,
    read_topic,
    zipkin_spans,
)

pytestmark = pytest.mark.integration
REQUESTS = "partner.membership.join-requests.v1"
OUTCOMES = "partner.membership.join-outcomes.v1"


def join_request(ref: str, person: str, **changes: Any) -> bytes:
    request = JoinRequested(
        request_ref=ref,
        partner_id=SF.partner_id,
        channel="partner_batch",
        name="测试",
        resident_id=person,
        phone="13800138000",
        region_code="440111",
        industry="express_delivery",
    )
    envelope = json.loads(Envelope.wrap(request, key=ref, producer="it-partner").to_bytes())
    envelope["data"].update(changes)
    return json.dumps(envelope).encode()


async def outcomes_for(topic: str, refs: set[str], expect: int) -> dict[str, dict[str, Any]]:
    async def collected() -> dict[str, dict[str, Any]]:
        found = {}
        for record in await read_topic(topic, expect=0, timeout=2):
            data = json.loads(record.value)["data"]
            if data["request_ref"] in refs:
                found[data["request_ref"]] = data
        return found if len(found) >= expect else {}

    return dict(await eventually(collected, timeout=60))


async def test_partner_requests_get_outcomes_and_one_join_is_one_trace(
    start_platform: StartPlatform,
) -> None:
    run, person = uuid.uuid4().hex[:8], random_resident_id()
    platform = await start_platform(("membership",), {})
    prefix, requests = platform.prefix, platform.partner_topic(REQUESTS, SF)
    joined, repeated, invalid = f"it-{run}-1", f"it-{run}-2", f"it-{run}-3"
    with partner_span(f"send {REQUESTS}") as (trace_id, headers):
        await platform.send(
            REQUESTS, SF, join_request(joined, person), key=joined.encode(), headers=headers
        )
    outcomes_topic = platform.partner_topic(OUTCOMES, SF)
    # Answered alone, the join's statements are spans of its own trace (those of a batch of
    # several records are a span of the batch's, linked to each record's).
    await outcomes_for(outcomes_topic, {joined}, expect=1)
    await platform.send(REQUESTS, SF, join_request(repeated, person), key=repeated.encode())
    await platform.send(
        REQUESTS,
        SF,
        join_request(
            invalid,
            person,
            resident_id=person[:17] + ("0" if person[17] != "0" else "1"),
            region_code="990000",
        ),
        key=invalid.encode(),
    )

    outcomes = await outcomes_for(outcomes_topic, {joined, repeated, invalid}, expect=3)
    assert outcomes[joined]["outcome"] == "joined"
    assert outcomes[repeated]["outcome"] == "already_member"
    assert outcomes[repeated]["member_id"] == outcomes[joined]["member_id"]
    assert outcomes[invalid]["outcome"] == "rejected"
    assert {r["field"] for r in outcomes[invalid]["reasons"]} == {"resident_id", "region_code"}

    async def traced() -> dict[str, list[str]]:
        found = await zipkin_spans(trace_id)
        return found if f"send {outcomes_topic}" in found.get("membership", []) else {}

    spans = await eventually(traced, timeout=30)
    assert "it-partner" in spans
    sent = f"send {prefix}membership.events.v1"
    # the lookup of who is known, and the new member's rows copied in bulk
    assert {f"process {requests}", sent, "select", "copy"} <= set(spans["membership"])
