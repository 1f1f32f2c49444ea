"""Work injuries through hospital → aid → notify (→ legal referral), as separate processes on the
real stack, on topics of their own and fresh databases. aid's clock is moved over HTTP."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from datetime import date
from typing import Any

import pytest

from gonghui_contracts import Envelope, samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import InjuryReported

from .conftest import (
    Platform,
    StartPlatform,
    as_member,
    as_staff,
    as_visitor,
    events_on,
    eventually,
    partner_span,
    random_resident_id,
    read_topic,
    trace_holding,
)
from .conftest import hospital as designated

pytestmark = pytest.mark.integration
REPORTS = "partner.aid.injury-reports.v1"
OUTCOMES = "partner.aid.injury-outcomes.v1"
CASES = "aid.injury-cases.v1"
REFERRALS = "aid.legal-referrals.v1"
MINOR_ADMITTED = 200  # yuan, by the default condolence schedule
HOSPITALS = [designated(n) for n in range(1, 88)]  # the local directory's 87
rng = random.SystemRandom()


def report(
    reporter: str = "hospital",
    *,
    hospital: str = "sz-h-016",
    resident_id: str | None = None,
    ref: str | None = None,
) -> InjuryReported:
    return InjuryReported.model_validate(
        {
            "report_ref": ref or f"r-{uuid.uuid4().hex[:12]}",
            "reporter": reporter,
            "hospital_id": hospital,
            "worker": {
                "name": samples.person_name(rng),
                "resident_id": resident_id or samples.adult_resident_id(rng),
                "phone": samples.mobile_phone(rng),
            },
            "employer": {"credit_code": samples.employer_credit_code(rng), "name": "测试工厂"},
            "industry": "manufacturing",
            "injured_on": date.today().isoformat(),
            "injury_kind": "fracture",
            "severity": "minor",
            "admission": "admitted",
        }
    )


def message(body: InjuryReported) -> tuple[bytes, bytes]:
    envelope = Envelope.wrap(body, key=body.report_ref, producer=body.hospital_id)
    return body.report_ref.encode(), envelope.to_bytes()


def hospital_of(body: InjuryReported) -> Partner:
    return designated(int(body.hospital_id.removeprefix("sz-h-")))


async def from_hospital(
    platform: Platform,
    body: InjuryReported,
    value: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """The report sent by the hospital it names, on its own topic (`value`: other bytes)."""
    key, encoded = message(body)
    await platform.send(REPORTS, hospital_of(body), value or encoded, key=key, headers=headers)


async def by_hospitals(platform: Platform, bodies: list[InjuryReported]) -> None:
    """Each hospital's reports sent as one batch by that hospital, all hospitals at once."""
    sent: dict[Partner, list[tuple[bytes, bytes]]] = {}
    for body in bodies:
        sent.setdefault(hospital_of(body), []).append(message(body))
    await asyncio.gather(*(platform.send_batch(REPORTS, h, b) for h, b in sent.items()))


async def answers(platform: Platform, expect: int, *hospitals: Partner) -> list[dict[str, Any]]:
    """The outcomes on these hospitals' own topics (default sz-h-016's)."""
    topics = [platform.partner_topic(OUTCOMES, h) for h in hospitals or (designated(16),)]
    return [json.loads(r.value) for r in await read_topic(*topics, expect=expect, timeout=60)]


async def visitor_of(platform: Platform, case_id: str) -> str:
    return await platform.once_set("aid", f"/v1/injury-cases/{case_id}", "visitor_id")


@pytest.fixture
async def platform(start_platform: StartPlatform) -> Platform:
    return await injury_platform(start_platform)


async def injury_platform(start_platform: StartPlatform, **env: str) -> Platform:
    return await start_platform(
        ("aid", "notify"),
        {
            "CLOCK_ADJUSTABLE": "true",
            "INJURY_SWEEP_SECONDS": "0.5",
            "CONDOLENCE_FUND_BUDGET": str(10 * MINOR_ADMITTED),  # pays for ten cases
            **env,
        },
        partners=HOSPITALS,
    )


async def test_the_same_injury_from_hospital_and_worker_is_one_case_and_bad_reports_are_answered(
    platform: Platform,
) -> None:
    by_hospital = report()
    for _ in range(2):  # the hospital's system sends the same report twice, as two messages
        await from_hospital(platform, by_hospital)
    first, repeat = await answers(platform, 2)
    assert first["data"] == repeat["data"]  # the same answer, and nothing else done
    by_worker = report("worker", resident_id=by_hospital.worker.resident_id)
    body = by_worker.model_dump(mode="json")
    someone_else = await platform.call(
        "aid", "POST", "/v1/injury-reports", body, as_=as_member(resident_id=random_resident_id())
    )
    assert someone_else.status_code == 403  # a worker reports their own injury only
    answer = await platform.call(
        "aid",
        "POST",
        "/v1/injury-reports",
        body,
        as_=as_member(resident_id=by_worker.worker.resident_id),
    )
    assert (answer.status_code, answer.json()["outcome"]) == (200, "merged")
    assert answer.json()["case_id"] == first["data"]["case_id"]
    forged = report(hospital="sz-h-050")  # sz-h-016 reporting as another hospital
    forged_value = message(forged)[1]
    unparseable = json.loads(message(report())[1])
    unparseable["data"]["worker"]["resident_id"] = "44030619900101123"  # 17 characters
    await from_hospital(platform, report(), forged_value)
    await from_hospital(platform, report(), json.dumps(unparseable).encode())

    outcomes = [e["data"] for e in await answers(platform, 4)]
    assert len(outcomes) == 4
    assert sorted(o["outcome"] for o in outcomes) == ["opened", "opened", "rejected", "rejected"]
    case_ids = {o["case_id"] for o in outcomes if o["outcome"] == "opened"}
    assert len(case_ids) == 1  # the repeat was answered the same and opened nothing
    reasons = {r["field"] for o in outcomes for r in o["reasons"]}
    assert reasons == {"hospital_id", "worker.resident_id"}
    assert {o["hospital_id"] for o in outcomes} == {"sz-h-016"}  # told to the sender only
    assert await answers(platform, 0, designated(50)) == []
    assert [e["event_type"] for e in await events_on(platform, CASES, expect=2)].count(
        "aid.injury-case-opened"
    ) == 1
    intake = platform.partner_topic(REPORTS, designated(16))
    assert await read_topic(intake + ".dlq", expect=1, timeout=2) == []
    (cases,) = await platform.sql("aid", "SELECT count(*), sum(reports) FROM injury_cases")
    assert tuple(cases) == (1, 2)


async def test_a_visit_not_made_within_the_sla_is_escalated_to_the_district_union(
    platform: Platform,
) -> None:
    await from_hospital(platform, report(hospital="sz-h-061"))  # 福田区
    (opened,) = await answers(platform, 1, designated(61))
    case_id = opened["data"]["case_id"]
    visitor = await visitor_of(platform, case_id)
    await platform.call(
        "aid", "POST", f"/v1/injury-cases/{case_id}/accept", as_=as_visitor(visitor)
    )
    await platform.call("aid", "POST", "/admin/clock/advance", {"seconds": 21 * 3600})

    def reminded() -> list[dict[str, Any]]:
        return [n for n in platform.notices() if n["template"] == "visit_due_soon"]

    (reminder,) = await eventually(reminded, timeout=30)
    assert reminder["recipient"] == f"staff:{visitor}"
    clock = (
        await platform.call("aid", "POST", "/admin/clock/advance", {"seconds": 4 * 3600})
    ).json()
    assert clock["offset_seconds"] == 25 * 3600

    def escalated() -> list[dict[str, Any]]:
        return [n for n in platform.notices() if n["template"] == "visit_overdue"]

    (notice,) = await eventually(escalated, timeout=30)
    assert notice["recipient"] == "union:440304-county"
    kinds = [e["event_type"] for e in await events_on(platform, CASES, expect=4)]
    assert kinds.count("aid.visit-overdue") == 1  # once, though the sweep runs twice a second
    assert kinds.count("aid.visit-due-soon") == 1
    case = (await platform.call("aid", "GET", f"/v1/injury-cases/{case_id}")).json()
    assert case["sla_state"] == "overdue"
    assert case["seconds_to_due"] < 0


async def test_concurrent_visits_never_pay_past_the_fund_nor_twice_for_a_case(
    platform: Platform,
) -> None:
    reports = [report(hospital=f"sz-h-{n:03d}") for n in range(1, 31)]
    await by_hospitals(platform, reports)
    outcomes = await answers(platform, 30, *map(hospital_of, reports))
    case_ids = [o["data"]["case_id"] for o in outcomes]
    visitors = [await visitor_of(platform, case_id) for case_id in case_ids]

    async def visit(case_id: str, visitor: str) -> int:
        path = f"/v1/injury-cases/{case_id}/visit"
        return (await platform.call("aid", "POST", path, {}, as_=as_visitor(visitor))).status_code

    twice = list(zip(case_ids, visitors, strict=True)) * 2
    rng.shuffle(twice)
    codes = await asyncio.gather(*(visit(c, v) for c, v in twice))
    assert sorted(codes) == [200] * 30 + [409] * 30  # each case visited once; repeats refused
    fund = (await platform.call("aid", "GET", "/v1/funds/sz-injury-condolence")).json()
    assert (fund["balance"], fund["payments"]) == ("0.00", 10)
    rows = await platform.sql(
        "aid",
        "SELECT case_id, count(*) AS n, -sum(amount_cents) AS paid FROM fund_ledger "
        "WHERE kind = 'condolence' GROUP BY case_id",
    )
    assert len(rows) == 10
    assert {(r["n"], r["paid"]) for r in rows} == {(1, MINOR_ADMITTED * 100)}
    (unpaid,) = await platform.sql(
        "aid", "SELECT count(*) FROM injury_cases WHERE condolence_unpaid"
    )
    assert unpaid[0] == 20


async def test_sigkill_of_aid_mid_burst_loses_no_case_and_assigns_each_once(
    start_platform: StartPlatform,
) -> None:
    # small batches, so that the kill lands between commits (one batch could take the burst)
    platform = await injury_platform(start_platform, KAFKA_CONSUME_BATCH_SIZE="30")
    injuries = [report(hospital=f"sz-h-{1 + n % 87:03d}") for n in range(300)]
    transfers = [  # the same worker and day, reported again by the hospital they moved to
        report(hospital="sz-h-050", resident_id=i.worker.resident_id) for i in injuries[:50]
    ]
    # and a hundred messages sent twice
    await by_hospitals(platform, injuries + transfers + injuries[:100])

    async def midway() -> bool:
        (row,) = await platform.sql("aid", "SELECT count(*) FROM injury_cases")
        return 20 <= int(row[0]) < 250

    assert await eventually(midway, timeout=60, interval=0.05)
    platform.services["aid"].kill()
    platform.services["aid"].start()

    async def all_answered() -> bool:
        (row,) = await platform.sql("aid", "SELECT count(*) FROM injury_reports")
        return int(row[0]) == 350

    assert await eventually(all_answered, timeout=120)
    (cases,) = await platform.sql(
        "aid", "SELECT count(*), sum(reports), count(DISTINCT case_key) FROM injury_cases"
    )
    assert tuple(cases) == (300, 350, 300)
    (offers,) = await platform.sql(
        "aid",
        "SELECT count(*), count(DISTINCT case_id) FROM visit_offers",
    )
    assert tuple(offers) == (300, 300)  # one visitor asked per case, none twice
    assigned = await events_on(platform, CASES, expect=600)
    per_case: dict[str, set[str]] = {}
    for event in assigned:
        if event["event_type"] == "aid.visitor-assigned":
            per_case.setdefault(event["data"]["case_id"], set()).add(event["event_id"])
    assert len(per_case) == 300
    assert {len(ids) for ids in per_case.values()} == {1}


async def test_a_referral_becomes_a_legal_case_in_the_trace_the_hospital_started(
    start_platform: StartPlatform,
) -> None:
    platform = await start_platform(("aid", "legal", "notify"), {"CLOCK_ADJUSTABLE": "true"})
    body = report()
    with partner_span(f"send {REPORTS}", service_name="it-hospital") as (trace_id, headers):
        await from_hospital(platform, body, headers=headers)
    (opened,) = await answers(platform, 1)
    case_id = opened["data"]["case_id"]
    visitor = await visitor_of(platform, case_id)
    visit = {"needs": ["legal_help"], "compensation_problem": "employer_refuses"}
    path = f"/v1/injury-cases/{case_id}/visit"
    assert (await platform.call("aid", "POST", path, visit, as_={})).status_code == 401
    naming = await platform.call("aid", "POST", path, visit | {"visitor_id": visitor})
    assert naming.status_code == 403  # staff are not visitors
    another = await platform.call("aid", "POST", path, visit, as_=as_visitor("sz-v-none"))
    assert another.status_code in (404, 409)  # not this visitor's case
    elsewhere = await platform.call(
        "aid", "GET", f"/v1/injury-cases/{case_id}", as_=as_staff("440106")
    )
    assert elsewhere.status_code == 404  # another district's union
    assert (await platform.call("aid", "POST", path, visit, as_=as_visitor(visitor))).is_success

    (referral,) = await read_topic(platform.topic(REFERRALS), expect=1)
    data = json.loads(referral.value)["data"]
    assert (data["case_id"], data["problem"]) == (case_id, "employer_refuses")
    assert data["worker"]["resident_id"] == body.worker.resident_id
    traceparent = dict(referral.headers)["traceparent"].decode()
    assert traceparent.split("-")[1] == trace_id

    (opened,) = [
        e["data"]
        for e in await events_on(platform, "legal.cases.v1", expect=2)
        if e["event_type"] == "legal.case-opened"
    ]
    assert (opened["channel"], opened["filing_ref"]) == ("injury_referral", data["referral_id"])
    assert (opened["kind"], opened["district_code"]) == ("injury_compensation", "440306")

    cases = platform.topic("legal.cases.v1")
    await trace_holding(
        trace_id,
        {
            "it-hospital": [f"send {REPORTS}"],
            "aid": ["aid record visit", f"send {platform.topic(REFERRALS)}"],
            "legal": [f"process {platform.topic(REFERRALS)}", f"send {cases}"],
            "notify": [f"process {cases}", "notify sink"],
        },
    )
