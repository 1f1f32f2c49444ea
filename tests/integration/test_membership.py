"""membership as a real process on the real stack: partner requests in, outcomes out, traced."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from gonghui_contracts import Envelope
from gonghui_contracts.events import JoinRequested

from .conftest import (
    KAFKA,
    REDIS_URL,
    eventually,
    partner_span,
    publish,
    python,
    random_resident_id,
    read_topic,
    tracing_env,
    zipkin_spans,
)

pytestmark = pytest.mark.integration
REQUESTS = "partner.membership.join-requests.v1"
OUTCOMES = "partner.membership.join-outcomes.v1"


def join_request(ref: str, person: str, **changes: Any) -> bytes:
    request = JoinRequested(
        request_ref=ref,
        partner_id="it-partner",
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
    registry_topics: Any, new_database: Any, services: Any
) -> None:
    run, person = uuid.uuid4().hex[:8], random_resident_id()
    prefix = await registry_topics()  # this run's own: the shared ones may hold a demo's backlog
    requests = prefix + REQUESTS
    membership = services(
        python("-m", "membership.main"),
        {
            **tracing_env("membership"),
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
            "KAFKA_TOPIC_PREFIX": prefix,
            "DATABASE_URL": await new_database("membership"),
            "REDIS_URL": REDIS_URL,
        },
    )
    membership.start()
    joined, repeated, invalid = f"it-{run}-1", f"it-{run}-2", f"it-{run}-3"
    with partner_span(f"send {REQUESTS}") as (trace_id, headers):
        await publish(
            requests,
            join_request(joined, person),
            key=joined.encode(),
            headers=headers,
        )
    await publish(requests, join_request(repeated, person), key=repeated.encode())
    await publish(
        requests,
        join_request(
            invalid,
            person,
            resident_id=person[:17] + ("0" if person[17] != "0" else "1"),
            region_code="990000",
        ),
        key=invalid.encode(),
    )

    outcomes = await outcomes_for(prefix + OUTCOMES, {joined, repeated, invalid}, expect=3)
    assert outcomes[joined]["outcome"] == "joined"
    assert outcomes[repeated]["outcome"] == "already_member"
    assert outcomes[repeated]["member_id"] == outcomes[joined]["member_id"]
    assert outcomes[invalid]["outcome"] == "rejected"
    assert {r["field"] for r in outcomes[invalid]["reasons"]} == {"resident_id", "region_code"}

    async def traced() -> dict[str, list[str]]:
        found = await zipkin_spans(trace_id)
        return found if f"send {prefix}{OUTCOMES}" in found.get("membership", []) else {}

    spans = await eventually(traced, timeout=30)
    assert "it-partner" in spans
    sent = f"send {prefix}membership.events.v1"
    assert {f"process {requests}", sent, "select", "insert"} <= set(spans["membership"])
