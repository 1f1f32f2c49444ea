"""Labour disputes through partner → legal → notify, as separate processes on the real stack, on
topics of their own and fresh databases. legal's clock is moved over HTTP."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from gonghui_contracts import Envelope, samples
from gonghui_contracts.events import DisputeFiled

from .conftest import (
    ARBITRATION,
    COURT,
    HOTLINE,
    Platform,
    StartPlatform,
    as_lawyer,
    as_member,
    as_staff,
    as_visitor,
    events_on,
    eventually,
    partner_span,
    read_topic,
    trace_holding,
)

pytestmark = pytest.mark.integration
FILINGS = "partner.legal.filings.v1"
OUTCOMES = "partner.legal.filing-outcomes.v1"
CASES = "legal.cases.v1"
SUPERVISION = "legal.supervision.v1"
BAIYUN_EMPLOYER = "91440111L28BDX9F6J"  # two Baiyun lawyers of the shipped registry act for it
CONFLICTED = {"gz-lw-0051", "gz-lw-0054"}
rng = random.SystemRandom()
BY_CHANNEL = {"hotline_12351": HOTLINE, "court": COURT, "arbitration": ARBITRATION}


def filing(
    *,
    workers: int = 1,
    employer: str | None = None,
    channel: str = "hotline_12351",
    ref: str | None = None,
    kind: str = "wage_arrears",
    people: list[dict[str, Any]] | None = None,
) -> DisputeFiled:
    return DisputeFiled.model_validate(
        {
            "channel": channel,
            "filing_ref": ref or f"wo-{uuid.uuid4().hex[:12]}",
            "employer": {
                "credit_code": employer or samples.employer_credit_code(rng, "440111"),
                "name": "测试制衣厂",
            },
            "industry": "manufacturing",
            "district_code": "440111",
            "kind": kind,
            "arose_on": (date.today() - timedelta(days=20)).isoformat(),
            "workers": people
            or [
                {
                    "name": samples.person_name(rng),
                    "resident_id": samples.adult_resident_id(rng),
                    "phone": samples.mobile_phone(rng),
                    "claimed": "6500.00",
                }
                for _ in range(workers)
            ],
        }
    )


def message(body: DisputeFiled) -> tuple[bytes, bytes]:
    envelope = Envelope.wrap(body, key=body.filing_ref, producer=body.channel)
    return body.filing_ref.encode(), envelope.to_bytes()


async def send(
    platform: Platform,
    body: DisputeFiled,
    value: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """The filing sent by the partner of its channel, on that partner's own topic (`value`:
    other bytes)."""
    key, encoded = message(body)
    await platform.send(
        FILINGS, BY_CHANNEL[body.channel], value or encoded, key=key, headers=headers
    )


async def send_many(platform: Platform, bodies: list[DisputeFiled]) -> None:
    """The 12351 hotline's work orders, as one batch."""
    await platform.send_batch(FILINGS, HOTLINE, [message(body) for body in bodies])


async def answers(platform: Platform, expect: int) -> list[dict[str, Any]]:
    """What the partners were told, on their own topics."""
    topics = [platform.partner_topic(OUTCOMES, partner) for partner in BY_CHANNEL.values()]
    return [json.loads(r.value) for r in await read_topic(*topics, expect=expect, timeout=60)]


async def lawyer_of(platform: Platform, case_id: str) -> str:
    return await platform.once_set("legal", f"/v1/cases/{case_id}", "lawyer_id")


@pytest.fixture
async def platform(start_platform: StartPlatform) -> Platform:
    return await legal_platform(start_platform)


async def legal_platform(start_platform: StartPlatform, **env: str) -> Platform:
    return await start_platform(
        ("legal", "notify"), {"CLOCK_ADJUSTABLE": "true", "LEGAL_SWEEP_SECONDS": "0.5", **env}
    )


async def test_a_repeated_filing_is_one_case_and_bad_filings_are_answered(
    platform: Platform,
) -> None:
    work_order = filing(workers=2)
    for _ in range(2):  # the hotline's system sends the same work order twice
        await send(platform, work_order)
    court = filing(channel="court", people=[w.model_dump(mode="json") for w in work_order.workers])
    court = court.model_copy(update={"employer": work_order.employer})
    broken = json.loads(message(filing())[1])
    broken["data"]["employer"]["credit_code"] = "91440111L28BDX9F6X"  # wrong check character
    await send(platform, court)
    await send(platform, filing(), json.dumps(broken).encode())
    posing = filing(channel="court")  # the hotline, filing as a court
    await send(platform, filing(), message(posing)[1])

    told = [e["data"] for e in await answers(platform, 5)]
    by_outcome = sorted((a["outcome"], a["channel"]) for a in told)
    assert by_outcome == [
        ("merged", "court"),
        ("opened", "hotline_12351"),
        ("opened", "hotline_12351"),
        ("rejected", "hotline_12351"),
        ("rejected", "hotline_12351"),
    ]
    assert len({a["case_id"] for a in told if a["case_id"]}) == 1
    rejected = sorted(r["field"] for a in told if a["outcome"] == "rejected" for r in a["reasons"])
    assert rejected == ["channel", "employer.credit_code"]
    intake = platform.partner_topic(FILINGS, HOTLINE)
    assert await read_topic(intake + ".dlq", expect=1, timeout=2) == []
    (cases,) = await platform.sql("legal", "SELECT count(*), sum(filings) FROM dispute_cases")
    assert tuple(cases) == (1, 2)


async def test_a_conflicted_lawyer_is_never_assigned(platform: Platform) -> None:
    lawyers = (await platform.call("legal", "GET", "/v1/lawyers")).json()
    baiyun = [lw for lw in lawyers if lw["district_code"] == "440111"]
    keep = CONFLICTED | {"gz-lw-0001"}  # the conflicted two are the district's least loaded
    for lawyer in baiyun:
        if lawyer["lawyer_id"] not in keep:
            path = f"/v1/lawyers/{lawyer['lawyer_id']}/duty"
            assert (await platform.call("legal", "PUT", path, {"on_duty": False})).is_success
    await send_many(platform, [filing(employer=BAIYUN_EMPLOYER) for _ in range(40)])
    await answers(platform, 40)

    async def all_assigned() -> bool:
        (row,) = await platform.sql(
            "legal", "SELECT count(*) FROM dispute_cases WHERE lawyer_id IS NOT NULL"
        )
        return int(row[0]) == 40

    assert await eventually(all_assigned, timeout=30)
    rows = await platform.sql(
        "legal", "SELECT lawyer_id, count(*) AS n FROM dispute_cases GROUP BY lawyer_id"
    )
    assigned = {r["lawyer_id"]: r["n"] for r in rows}
    assert not CONFLICTED & set(assigned)
    capacity = next(lw["capacity"] for lw in lawyers if lw["lawyer_id"] == "gz-lw-0001")
    assert assigned["gz-lw-0001"] == min(capacity, 40)  # then the rest of the city
    (offers,) = await platform.sql(
        "legal",
        "SELECT count(*) FROM case_history WHERE action = 'offered' AND lawyer_id = ANY($1)",
        list(CONFLICTED),
    )
    assert offers[0] == 0


async def test_an_illegal_stage_move_is_refused_and_changes_nothing(platform: Platform) -> None:
    await send(platform, filing())
    (opened,) = await answers(platform, 1)
    case_id = opened["data"]["case_id"]
    lawyer = await lawyer_of(platform, case_id)
    before = (await platform.call("legal", "GET", f"/v1/cases/{case_id}")).json()
    move = {"to": "litigation", "reason": "employer will not talk"}
    path = f"/v1/cases/{case_id}/moves"
    refused = await platform.call("legal", "POST", path, move, as_=as_lawyer(lawyer))
    assert refused.status_code == 409
    assert "仲裁前置" in refused.json()["detail"]
    assert "arbitration" in refused.json()["detail"]
    after = (await platform.call("legal", "GET", f"/v1/cases/{case_id}")).json()
    for view in (before, after):
        del view["seconds_to_due"]  # the clock read when asked
    assert after == before
    mediation = {**move, "to": "mediation"}
    moved = await platform.call("legal", "POST", path, mediation, as_=as_lawyer(lawyer))
    assert moved.status_code == 200
    assert moved.json()["stage"] == "mediation"
    assert moved.json()["history"][-1]["by"] == lawyer  # the token's lawyer
    kinds = [e["event_type"] for e in await events_on(platform, CASES, expect=3)]
    assert kinds.count("legal.stage-changed") == 1
    bad = await platform.call("legal", "POST", path, {"to": "nowhere"}, as_=as_lawyer(lawyer))
    assert bad.status_code == 422


async def test_who_may_act_on_a_case_is_the_tokens_lawyer_or_its_districts_staff(
    platform: Platform,
) -> None:
    await send(platform, filing())
    (opened,) = await answers(platform, 1)
    case_id = opened["data"]["case_id"]
    lawyer = await lawyer_of(platform, case_id)
    other = "gz-lw-0001" if lawyer != "gz-lw-0001" else "gz-lw-0002"
    case, move = f"/v1/cases/{case_id}", {"to": "mediation", "reason": "the employer talks"}

    async def status(method: str, path: str, as_: dict[str, str], body: Any = None) -> int:
        return (await platform.call("legal", method, path, body, as_=as_)).status_code

    refused = {
        # no token, or one that does not verify: 401
        ("GET", case, "none"): await status("GET", case, {}),
        ("POST", f"{case}/accept", "none"): await status("POST", f"{case}/accept", {}),
        ("POST", f"{case}/accept", "forged"): await status(
            "POST", f"{case}/accept", {"Authorization": "Bearer not.a.token"}
        ),
        ("GET", "/v1/queue", "none"): await status("GET", "/v1/queue", {}),
        # the wrong role: 403
        ("POST", f"{case}/accept", "staff"): await status("POST", f"{case}/accept", as_staff()),
        ("GET", case, "member"): await status("GET", case, as_member()),
        ("GET", case, "visitor"): await status("GET", case, as_visitor(lawyer)),
        ("GET", "/v1/queue", "lawyer"): await status("GET", "/v1/queue", as_lawyer(lawyer)),
        ("GET", "/v1/disputes/summary", "lawyer"): await status(
            "GET", "/v1/disputes/summary", as_lawyer(lawyer)
        ),
        ("POST", f"{case}/judicial-confirmation", "lawyer"): await status(
            "POST", f"{case}/judicial-confirmation", as_lawyer(lawyer), {"reason": "r"}
        ),
        # another district's staff, another lawyer: as if the case did not exist, 404
        ("GET", case, "tianhe staff"): await status("GET", case, as_staff("440106")),
        ("POST", f"{case}/moves", "tianhe staff"): await status(
            "POST", f"{case}/moves", as_staff("440106"), move
        ),
        ("GET", case, "other lawyer"): await status("GET", case, as_lawyer(other)),
        ("POST", f"{case}/accept", "other lawyer"): await status(
            "POST", f"{case}/accept", as_lawyer(other)
        ),
        ("POST", f"{case}/moves", "other lawyer"): await status(
            "POST", f"{case}/moves", as_lawyer(other), move
        ),
        ("POST", f"{case}/close", "other lawyer"): await status(
            "POST", f"{case}/close", as_lawyer(other), {"outcome": "withdrawn", "reason": "r"}
        ),
        # a body naming who acts: refused
        ("POST", f"{case}/moves", "naming"): await status(
            "POST", f"{case}/moves", as_lawyer(lawyer), move | {"by": other}
        ),
    }
    expected = {k: 401 for k in refused if k[2] in ("none", "forged")}
    expected |= {k: 403 for k in refused if k[2] in ("staff", "member", "visitor", "lawyer")}
    expected |= {k: 404 for k in refused if k[2] in ("tianhe staff", "other lawyer")}
    expected |= {k: 422 for k in refused if k[2] == "naming"}
    assert refused == expected
    tianhe = await platform.call("legal", "GET", "/v1/queue", as_=as_staff("440106"))
    assert case_id not in {q["case_id"] for q in tianhe.json()}
    baiyun = await platform.call("legal", "GET", "/v1/queue", as_=as_staff("440111"))
    assert case_id in {q["case_id"] for q in baiyun.json()}
    for union, cases in (("440106", 0), ("440100", 1)):  # Tianhe's union; Guangzhou's
        summary = await platform.call("legal", "GET", "/v1/disputes/summary", as_=as_staff(union))
        assert summary.json()["cases"] == cases
    accepted = await platform.call("legal", "POST", f"{case}/accept", as_=as_lawyer(lawyer))
    assert accepted.status_code == 200
    moved = await platform.call("legal", "POST", f"{case}/moves", move, as_=as_staff("440111"))
    assert moved.json()["history"][-1]["by"] == "it-staff"  # staff of the district, as themself


async def test_a_stage_deadline_runs_out_and_is_escalated_once(platform: Platform) -> None:
    await send(platform, filing())
    (opened,) = await answers(platform, 1)
    case_id = opened["data"]["case_id"]
    lawyer = await lawyer_of(platform, case_id)
    accepted = await platform.call(
        "legal", "POST", f"/v1/cases/{case_id}/accept", as_=as_lawyer(lawyer)
    )
    assert accepted.status_code == 200
    move = {"to": "mediation", "reason": "the employer came to the table"}
    path = f"/v1/cases/{case_id}/moves"
    moved = await platform.call("legal", "POST", path, move, as_=as_lawyer(lawyer))
    assert moved.status_code == 200, moved.text
    advanced = await platform.call("legal", "POST", "/admin/clock/advance", {"seconds": 16 * 86400})
    assert advanced.status_code == 200, advanced.text

    def escalated() -> list[dict[str, Any]]:
        return [n for n in platform.notices() if n["template"] == "legal_deadline_missed"]

    (notice,) = await eventually(escalated, timeout=30)
    assert notice["recipient"] == "union:440111-county"
    events = await events_on(platform, CASES, expect=6)
    missed = [e["data"] for e in events if e["event_type"] == "legal.deadline-missed"]
    assert [(m["deadline"], m["stage"]) for m in missed] == [("stage", "mediation")]
    case = (await platform.call("legal", "GET", f"/v1/cases/{case_id}")).json()
    assert case["deadline_state"] == "overdue"
    assert [h["action"] for h in case["history"]][-1] == "escalated"


async def test_the_early_warning_fires_once_per_window(platform: Platform) -> None:
    employer = samples.employer_credit_code(rng, "440111")
    await send_many(platform, [filing(employer=employer, kind="dismissal") for _ in range(5)])
    await answers(platform, 5)
    await platform.call("legal", "POST", "/admin/clock/advance", {"seconds": 10 * 86400})
    await send_many(platform, [filing(employer=employer)])
    await answers(platform, 6)
    warnings = [
        e["data"]
        for e in await events_on(platform, SUPERVISION, expect=3)
        if e["event_type"] == "legal.early-warning-raised"
    ]
    assert [(w["kind"], w["employer_code"], w["count"]) for w in warnings] == [
        ("employer_filings", employer, 3)
    ]
    await platform.call("legal", "POST", "/admin/clock/advance", {"seconds": 31 * 86400})
    await send_many(platform, [filing(employer=employer, kind="dismissal") for _ in range(3)])
    await answers(platform, 9)

    async def two_warnings() -> list[dict[str, Any]]:
        found = await events_on(platform, SUPERVISION, expect=4)
        return [e for e in found if e["event_type"] == "legal.early-warning-raised"]

    assert len(await eventually(two_warnings, timeout=20)) == 2
    told = [n for n in platform.notices() if n["template"].startswith("legal_warning_")]
    assert {n["recipient"] for n in told} == {"union:440111-county"}


async def test_sigkill_of_legal_mid_burst_loses_nothing_and_assigns_nothing_twice(
    start_platform: StartPlatform,
) -> None:
    # small batches, so that the kill lands between commits (one batch could take the burst)
    platform = await legal_platform(start_platform, KAFKA_CONSUME_BATCH_SIZE="30")
    filings = [filing() for _ in range(400)]
    await send_many(platform, filings + filings[:100])  # a hundred work orders sent twice

    async def midway() -> bool:
        (row,) = await platform.sql("legal", "SELECT count(*) FROM dispute_cases")
        return 20 <= int(row[0]) < 300

    assert await eventually(midway, timeout=60, interval=0.05)
    platform.services["legal"].kill()
    platform.services["legal"].start()

    async def all_taken() -> bool:
        (row,) = await platform.sql("legal", "SELECT count(*) FROM filings")
        return int(row[0]) == 400

    assert await eventually(all_taken, timeout=120)
    (cases,) = await platform.sql(
        "legal", "SELECT count(*), count(lawyer_id), count(DISTINCT open_key) FROM dispute_cases"
    )
    assert tuple(cases) == (400, 400, 400)
    (offers,) = await platform.sql(
        "legal",
        "SELECT count(*), count(DISTINCT case_id) FROM case_history WHERE action = 'offered'",
    )
    assert tuple(offers) == (400, 400)  # one lawyer asked per case, none twice
    per_case: dict[str, set[str]] = {}
    for event in await events_on(platform, CASES, expect=800):
        if event["event_type"] == "legal.lawyer-assigned":
            per_case.setdefault(event["data"]["case_id"], set()).add(event["event_id"])
    assert len(per_case) == 400
    assert {len(ids) for ids in per_case.values()} == {1}


async def test_a_filing_is_one_trace_from_the_hotline_through_legal_to_notify(
    platform: Platform,
) -> None:
    with partner_span(f"send {FILINGS}", service_name="it-hotline") as (trace_id, headers):
        await send(platform, filing(), headers=headers)
    (opened,) = await answers(platform, 1)
    case_id = opened["data"]["case_id"]
    lawyer = await lawyer_of(platform, case_id)
    await platform.call("legal", "POST", f"/v1/cases/{case_id}/accept", as_=as_lawyer(lawyer))
    (_, answered) = await answers(platform, 2)
    assert answered["data"]["outcome"] == "answered"
    assert answered["data"]["work_order_closed"] is True

    await trace_holding(
        trace_id,
        {
            "it-hotline": [f"send {FILINGS}"],
            "legal": [
                f"process {platform.partner_topic(FILINGS, HOTLINE)}",
                "legal lawyer accepts",
            ],
            "notify": [f"process {platform.topic(CASES)}", "notify sink"],
        },
    )
