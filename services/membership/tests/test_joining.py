"""Joining through the partner topic and the app, against SQLite: the handlers and the API."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gonghui_contracts import CATALOG, Envelope
from gonghui_contracts.access import Partner
from gonghui_contracts.events import JoinRequested
from gonghui_contracts.samples import adult_resident_id
from gonghui_contracts.topics import MEMBERSHIP_JOIN_REQUESTS, topic
from gonghui_contracts.values import PartnerKind, Service
from membership import api, handlers, service
from membership.models import Base
from servicekit import BatchProcessor, Settled, UnitOfWork
from servicekit.app import install_error_handlers
from servicekit.identity import Caller, Role, authenticated
from servicekit.pii import PiiVault
from servicekit.testing import outbox_rows, record, sqlite_sessions

TODAY = date(2026, 11, 27)
SF = Partner("sf-express-guangzhou", PartnerKind.PLATFORM_UNION)
SF_TOPIC = f"{MEMBERSHIP_JOIN_REQUESTS.name}.{SF.partner_id}"
VAULT = PiiVault({1: b"k" * 32})
REQUEST = {
    "request_ref": "sf-0001",
    "partner_id": "sf-express-guangzhou",
    "channel": "partner_batch",
    "name": "李四",
    "resident_id": "11010519491231002X",
    "phone": "13800138000",
    "region_code": "440111",
    "industry": "express_delivery",
}


@pytest.fixture
async def sessions(tmp_path: Path) -> Any:
    async with sqlite_sessions(tmp_path, Base.metadata) as made:
        yield made


def consumer(sessions: Any) -> BatchProcessor:
    [subscription] = handlers.subscriptions(VAULT, lambda: TODAY)
    return BatchProcessor(
        subscription,
        sessions=sessions,
        catalog=CATALOG,
        group="membership",
        producer="membership",
        sender=SF,
    )


def join_request(**changes: Any) -> bytes:
    envelope = json.loads(
        Envelope.wrap(JoinRequested(**REQUEST), key="sf-0001", producer="sf").to_bytes()
    )
    envelope["data"].update(changes)
    envelope["key"] = envelope["data"]["request_ref"]
    return json.dumps(envelope).encode()


async def published(sessions: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(row.topic, json.loads(row.value)) for row in await outbox_rows(sessions)]


async def test_a_partner_request_makes_a_member_and_answers_the_partner(sessions: Any) -> None:
    assert await consumer(sessions).process([record(SF_TOPIC, join_request())]) == [Settled.HANDLED]
    (joined_topic, joined), (_, identified), (outcome_topic, outcome) = await published(sessions)
    assert joined_topic == "membership.events.v1"
    assert identified["data"]["member_id"] == joined["data"]["member_id"]
    assert identified["data"]["resident_id"] == REQUEST["resident_id"]
    assert joined["data"]["union_id"] == "440100-express_delivery"
    assert joined["data"]["new_employment_form"] is True
    assert outcome_topic == "partner.membership.join-outcomes.v1.sf-express-guangzhou"
    assert outcome["data"]["outcome"] == "joined"
    assert outcome["data"]["member_id"] == joined["data"]["member_id"] == joined["key"]
    assert outcome["key"] == "sf-0001"


async def test_personal_data_stays_out_of_the_events(sessions: Any) -> None:
    """Only membership.identities.v1 carries who a member is (its resident ID: no phone, no
    name), for aid alone to read."""
    await consumer(sessions).process([record(SF_TOPIC, join_request())])
    rows = await outbox_rows(sessions)
    identities = [row for row in rows if row.topic == "membership.identities.v1"]
    assert len(identities) == 1
    assert topic("membership.identities.v1").personal_data
    assert topic("membership.identities.v1").readers == {Service.AID}
    assert REQUEST["resident_id"].encode() in identities[0].value
    for row in rows:
        for secret in (REQUEST["phone"], REQUEST["name"]):
            assert secret.encode() not in row.value
            assert secret not in row.headers
        if row is identities[0]:
            continue
        for secret in (REQUEST["resident_id"],):
            assert secret.encode() not in row.value
            assert secret not in row.headers


async def test_a_repeated_request_for_one_person_has_no_new_effect(sessions: Any) -> None:
    processor = consumer(sessions)
    await processor.process([record(SF_TOPIC, join_request())])
    await processor.process(
        [record(SF_TOPIC, join_request(request_ref="sf-0002", phone="13900139000"))]
    )
    events = await published(sessions)
    assert [e["event_type"] for _, e in events].count("membership.member-joined") == 1
    outcomes = [e["data"] for _, e in events if e["event_type"] == "membership.join-outcome"]
    assert [o["outcome"] for o in outcomes] == ["joined", "already_member"]
    assert outcomes[0]["member_id"] == outcomes[1]["member_id"]


async def test_one_batch_joins_newcomers_repeats_and_a_rejoiner_each_once(sessions: Any) -> None:
    rng = random.Random(7)
    newcomer, leaver = adult_resident_id(rng, TODAY), adult_resident_id(rng, TODAY)
    processor = consumer(sessions)
    await processor.process([record(SF_TOPIC, join_request(request_ref="r0", resident_id=leaver))])
    [(_, first)] = [(t, e) for t, e in await published(sessions) if t == "membership.events.v1"]
    async with UnitOfWork(sessions, "membership")() as unit:
        await service.leave(unit, uuid.UUID(first["data"]["member_id"]), "moved", TODAY)
    requests = [
        join_request(request_ref="r1", resident_id=newcomer),
        join_request(request_ref="r2", resident_id="110105201512310023"),  # a child
        join_request(request_ref="r3", resident_id=leaver),
        join_request(request_ref="r4", resident_id=newcomer, phone="13900139000"),
        join_request(request_ref="r5", resident_id=leaver),
    ]
    settled = await processor.process([record(SF_TOPIC, value) for value in requests])
    assert settled == [Settled.HANDLED] * 5
    events = [e for _, e in await published(sessions)]
    outcomes = {
        e["data"]["request_ref"]: (e["data"]["outcome"], e["data"]["member_id"])
        for e in events
        if e["event_type"] == "membership.join-outcome"
    }
    assert [outcomes[r][0] for r in ("r1", "r2", "r3", "r4", "r5")] == [
        "joined",
        "rejected",
        "joined",
        "already_member",
        "already_member",
    ]
    assert outcomes["r4"][1] == outcomes["r1"][1]
    assert outcomes["r3"][1] == outcomes["r5"][1] == first["data"]["member_id"]
    joined = [
        e["data"]["member_id"] for e in events if e["event_type"] == "membership.member-joined"
    ]
    assert sorted(joined) == sorted([first["data"]["member_id"]] * 2 + [outcomes["r1"][1]])
    async with UnitOfWork(sessions, "membership")() as unit:
        rejoiner = await service.get_member(unit, uuid.UUID(first["data"]["member_id"]))
        assert (rejoiner.status, rejoiner.left_on) == ("active", None)
        changes = [h.change for h in await service.history(unit, rejoiner.member_id)]
        assert changes == ["joined", "left", "joined"]


async def test_a_request_naming_another_partner_is_rejected_and_told_to_its_sender(
    sessions: Any,
) -> None:
    forged = join_request(partner_id="meituan-guangzhou")
    assert await consumer(sessions).process([record(SF_TOPIC, forged)]) == [Settled.REJECTED]
    [(topic, outcome)] = await published(sessions)  # no member made
    assert topic == "partner.membership.join-outcomes.v1.sf-express-guangzhou"
    assert outcome["data"]["partner_id"] == "sf-express-guangzhou"
    assert [r["field"] for r in outcome["data"]["reasons"]] == ["partner_id"]


async def test_an_invalid_request_gets_a_rejection_naming_each_field_and_nothing_else(
    sessions: Any,
) -> None:
    bad = join_request(resident_id="110105194912310021", region_code="450103")
    assert await consumer(sessions).process([record(SF_TOPIC, bad)]) == [Settled.REJECTED]
    [(topic, outcome)] = await published(sessions)
    assert topic == "partner.membership.join-outcomes.v1.sf-express-guangzhou"
    assert outcome["data"]["outcome"] == "rejected"
    assert outcome["data"]["request_ref"] == "sf-0001"
    fields = {reason["field"] for reason in outcome["data"]["reasons"]}
    assert fields == {"resident_id", "region_code"}
    assert "110105194912310021" not in json.dumps(outcome)


async def test_an_underage_applicant_is_rejected(sessions: Any) -> None:
    from gonghui_contracts.values.resident_id import check_character

    young = "44010620110101123"
    await consumer(sessions).process(
        [record(SF_TOPIC, join_request(resident_id=young + check_character(young)))]
    )
    [(_, outcome)] = await published(sessions)
    assert outcome["data"]["reasons"] == [
        {"field": "resident_id", "rule": "applicant must be 16 or older"}
    ]


PROVINCE_STAFF = Caller("gd-staff", frozenset({Role.STAFF}), union="440000")


@pytest.fixture
def acting() -> dict[str, Caller]:
    """Who the token names (verification itself is the kit's, tested there)."""
    return {"caller": PROVINCE_STAFF}


@pytest.fixture
def client(sessions: Any, acting: dict[str, Caller]) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, api.ERROR_STATUSES)
    app.include_router(api.router(UnitOfWork(sessions, "membership"), VAULT, lambda: TODAY))
    app.dependency_overrides[authenticated] = lambda: acting["caller"]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://membership")


APPLICATION = {k: v for k, v in REQUEST.items() if k not in {"request_ref", "partner_id"}} | {
    "channel": "county_qr"
}


async def test_joining_in_the_app_then_transferring_and_leaving_keeps_the_history(
    client: httpx.AsyncClient,
) -> None:
    joined = await client.post("/v1/members", json=APPLICATION)
    assert joined.status_code == 201
    member_id = joined.json()["member_id"]
    again = await client.post("/v1/members", json=APPLICATION)
    assert (again.status_code, again.json()["outcome"]) == (200, "already_member")

    moved = await client.post(
        f"/v1/members/{member_id}/transfer",
        json={"region_code": "440304", "industry": "retail", "reason": "new job"},
    )
    assert moved.json()["union_id"] == "440304-county"
    assert (
        await client.post(f"/v1/members/{member_id}/leave", json={"reason": "retired"})
    ).status_code == 200
    refused = await client.post(f"/v1/members/{member_id}/leave", json={"reason": "again"})
    assert refused.status_code == 409

    member = (await client.get(f"/v1/members/{member_id}")).json()
    assert member["status"] == "left"
    assert member["phone"] == "138****8000"
    assert [h["change"] for h in member["history"]] == ["joined", "transferred", "left"]
    coverage = (await client.get("/v1/stats/coverage", params={"by": "county"})).json()
    assert coverage == {"440304": {"active": 0, "left": 1}}


async def test_a_bad_application_gets_a_422_naming_fields_without_echoing_them(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/members", json=APPLICATION | {"phone": "12345", "industry": "pilot"}
    )
    assert response.status_code == 422
    fields = {tuple(d["loc"]) for d in response.json()["detail"]}
    assert fields == {("body", "phone"), ("body", "industry")}
    assert "12345" not in response.text


async def test_unknown_members_are_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/members/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404


async def test_a_member_joins_as_themself_and_sees_only_their_own_record(
    client: httpx.AsyncClient, acting: dict[str, Caller]
) -> None:
    resident_id = APPLICATION["resident_id"]
    acting["caller"] = Caller("app-1", frozenset({Role.MEMBER}), resident_id="110105194912310021")
    assert (await client.post("/v1/members", json=APPLICATION)).status_code == 403
    acting["caller"] = Caller("app-1", frozenset({Role.MEMBER}), resident_id=resident_id)
    joined = await client.post("/v1/members", json=APPLICATION | {"channel": "app"})
    assert joined.status_code == 201
    member_id = joined.json()["member_id"]
    assert (await client.get(f"/v1/members/{member_id}")).status_code == 404  # not linked yet
    acting["caller"] = Caller(
        "app-1", frozenset({Role.MEMBER}), member_id=uuid.UUID(member_id), resident_id=resident_id
    )
    assert (await client.get(f"/v1/members/{member_id}")).status_code == 200
    assert (await client.get("/v1/stats/coverage")).status_code == 403
    acting["caller"] = Caller("app-2", frozenset({Role.MEMBER}), member_id=uuid.uuid4())
    assert (await client.get(f"/v1/members/{member_id}")).status_code == 404
    leave = await client.post(f"/v1/members/{member_id}/leave", json={"reason": "not mine"})
    assert leave.status_code == 404


async def test_staff_reach_the_members_of_their_own_union_only(
    client: httpx.AsyncClient, acting: dict[str, Caller]
) -> None:
    region = APPLICATION["region_code"]
    other = "440106" if region != "440106" else "440111"
    acting["caller"] = Caller("by-01", frozenset({Role.STAFF}), union=other)
    assert (await client.post("/v1/members", json=APPLICATION)).status_code == 403
    acting["caller"] = Caller("by-01", frozenset({Role.STAFF}), union=region)
    member_id = (await client.post("/v1/members", json=APPLICATION)).json()["member_id"]
    assert (await client.get(f"/v1/members/{member_id}")).status_code == 200
    acting["caller"] = Caller("th-01", frozenset({Role.STAFF}), union=other)
    assert (await client.get(f"/v1/members/{member_id}")).status_code == 404
    acting["caller"] = Caller("lw-01", frozenset({Role.LAWYER}))
    assert (await client.get(f"/v1/members/{member_id}")).status_code == 403
