"""The work-injury use cases on SQLite, with the in-memory visitor index and a movable clock."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from aid import funds, handlers
from aid.claims.desk import ClaimsDesk
from aid.claims.rules import DEFAULT_TERMS
from aid.errors import Refused
from aid.injury import deadlines, dispatch, follow_ups, intake, queries, registry, visits
from aid.injury.desk import Desk, InjuryTerms, find_case
from aid.injury.rules import DEFAULT_CONDOLENCE_YUAN, condolence_schedule
from aid.injury.visitor_index import InMemoryVisitorIndex
from aid.main import PERSONAL_DATA
from aid.models import CASE_WORKER_PHONE, Base, Fund, LedgerEntry
from aid.service import FundTerms
from gonghui_contracts import CATALOG, Envelope, samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import InjuryReported
from gonghui_contracts.topics import AID_INJURY_REPORTS
from gonghui_contracts.values import CompensationProblem, PartnerKind
from servicekit import BatchProcessor, Settled, UnitOfWork
from servicekit.clock import Clock
from servicekit.personal_data import reencrypt, rekey
from servicekit.pii import PiiVault
from servicekit.testing import outbox_rows, record, sqlite_sessions
from servicekit.workload import InMemoryWorkload

HOSPITALS = registry.load_hospitals()
FUND_TERMS = FundTerms("gift-test", "入会礼", 0, 60_00)
FUND = "condolence-test"
rng = random.Random(703)


def claims_desk(desk: Desk) -> ClaimsDesk:
    return ClaimsDesk(DEFAULT_TERMS, "claims", "illness", desk.vault, desk.clock)


class World:
    def __init__(self, uow: UnitOfWork, desk: Desk) -> None:
        self.uow, self.desk = uow, desk

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(row.value) for row in await outbox_rows(self.uow.sessions)]
        return [e for e in found if event_type is None or e["event_type"] == event_type]

    async def report(self, body: InjuryReported) -> intake.ReportResult:
        async with self.uow() as unit:
            return await intake.report(self.desk, unit, body)

    async def case(self, case_id: uuid.UUID | None) -> Any:
        assert case_id is not None
        async with self.uow() as unit:
            return await find_case(unit, case_id)

    async def sweep(self) -> dict[str, int]:
        async with self.uow() as unit:
            return await deadlines.sweep(self.desk, unit)

    async def visit(self, case_id: uuid.UUID, visitor_id: str, **kwargs: Any) -> Any:
        async with self.uow() as unit:
            return await visits.record_visit(
                self.desk,
                unit,
                case_id,
                visitor_id=visitor_id,
                needs=kwargs.get("needs", []),
                problem=kwargs.get("problem"),
            )

    async def duty(self, on_duty: bool, *, keep: frozenset[str] = frozenset()) -> None:
        async with self.uow() as unit:
            for entry in registry.load_roster(HOSPITALS):
                if entry.visitor_id not in keep:
                    await dispatch.set_duty(unit, entry.visitor_id, on_duty)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        uow = UnitOfWork(sessions, "aid")
        clock = Clock()
        desk = Desk(
            InjuryTerms(
                hospitals=HOSPITALS,
                condolence=condolence_schedule(DEFAULT_CONDOLENCE_YUAN),
                fund_id=FUND,
            ),
            PiiVault.development(),
            clock,
            InMemoryVisitorIndex(),
            InMemoryWorkload(),
        )
        async with uow() as unit:
            await funds.open_fund(unit, FUND, "慰问金", 700_00, at=clock.now())
            await dispatch.seed_roster(desk, unit, registry.load_roster(HOSPITALS))
        yield World(uow, desk)


def injury(
    reporter: str = "hospital",
    *,
    resident_id: str | None = None,
    hospital: str = "sz-h-016",
    severity: str = "minor",
    admission: str = "admitted",
    employer_code: str | None = None,
) -> InjuryReported:
    return InjuryReported.model_validate(
        {
            "report_ref": f"r-{uuid.uuid4().hex[:12]}",
            "reporter": reporter,
            "hospital_id": hospital,
            "worker": {
                "name": "测试工人",
                "resident_id": resident_id or samples.adult_resident_id(rng),
                "phone": samples.mobile_phone(rng),
            },
            "employer": {
                "credit_code": employer_code or samples.employer_credit_code(rng),
                "name": "某某制造有限公司",
            },
            "industry": "manufacturing",
            "injured_on": Clock().today().isoformat(),
            "injury_kind": "fracture",
            "severity": severity,
            "admission": admission,
        }
    )


async def test_the_worker_and_the_hospital_reporting_one_injury_make_one_case(
    world: World,
) -> None:
    by_hospital = injury("hospital")
    by_worker = injury("worker", resident_id=by_hospital.worker.resident_id)
    opened = await world.report(by_hospital)
    merged = await world.report(by_worker)
    again = await world.report(by_hospital)
    assert (opened.outcome, merged.outcome, again.outcome) == ("opened", "merged", "opened")
    assert opened.case_id == merged.case_id == again.case_id
    assert (await world.case(opened.case_id)).reports == 2  # the repeat changed nothing
    assert len(await world.events("aid.injury-case-opened")) == 1
    assert len(await world.events("aid.visitor-assigned")) == 1


async def test_one_batch_of_reports_has_the_effects_of_the_same_reports_one_by_one(
    world: World,
) -> None:
    first = injury()
    same_worker = injury("worker", resident_id=first.worker.resident_id)
    others = [injury() for _ in range(5)]
    batch = [first, same_worker, *others, first, injury(hospital="gz-h-404")]
    async with world.uow() as unit:
        results = await intake.report_all(world.desk, unit, [(r, None) for r in batch])
    outcomes = [r.outcome for r in results]
    assert outcomes == ["opened", "merged", *["opened"] * 5, "opened", "rejected"]
    assert results[0].case_id == results[1].case_id == results[7].case_id
    assert (await world.case(results[0].case_id)).reports == 2
    assert len(await world.events("aid.injury-case-opened")) == 6
    assigned = [e["data"]["visitor_id"] for e in await world.events("aid.visitor-assigned")]
    assert len(assigned) == 6
    assert len(set(assigned)) > 1  # the batch's own offers push its later cases to others
    # the visitors' loads were written once for the batch, and say what was offered
    loads = await world.desk.open_visits.counts(set(assigned))
    assert loads == {v: assigned.count(v) for v in set(assigned)}


async def test_a_report_from_an_undesignated_hospital_is_rejected_and_opens_nothing(
    world: World,
) -> None:
    result = await world.report(injury(hospital="gz-h-404"))
    assert result.outcome == "rejected"
    assert [r.field for r in result.reasons] == ["hospital_id"]
    assert await world.events() == []


async def test_the_visitor_stationed_at_the_hospital_is_asked_first_then_others_as_load_grows(
    world: World,
) -> None:
    stationed = next(
        v.visitor_id for v in registry.load_roster(HOSPITALS) if v.station_hospital_id == "sz-h-016"
    )
    chosen = [
        (await world.case((await world.report(injury())).case_id)).visitor_id for _ in range(4)
    ]
    assert chosen[0] == stationed
    assert len(set(chosen)) > 1  # open visits push later cases to visitors nearby


async def test_an_offer_not_accepted_in_time_goes_to_another_visitor(world: World) -> None:
    case_id = (await world.report(injury())).case_id
    first = (await world.case(case_id)).visitor_id
    world.desk.clock.advance(timedelta(minutes=31))
    assert (await world.sweep())["reoffered"] == 1
    case = await world.case(case_id)
    assert case.visitor_id not in {None, first}
    assert case.offers == 2
    assigned = await world.events("aid.visitor-assigned")
    assert [e["data"]["attempt"] for e in assigned] == [1, 2]
    assert assigned[1]["data"]["replaces_visitor_id"] == first
    async with world.uow() as unit:  # accepted in time: it stays
        await dispatch.accept(world.desk, unit, case_id, case.visitor_id)
    world.desk.clock.advance(timedelta(minutes=31))
    assert (await world.sweep())["reoffered"] == 0


async def test_a_declined_offer_goes_to_another_visitor_and_the_decliner_cannot_visit(
    world: World,
) -> None:
    case_id = (await world.report(injury())).case_id
    assert case_id is not None
    first = (await world.case(case_id)).visitor_id
    async with world.uow() as unit:
        await dispatch.decline(world.desk, unit, case_id, first)
    case = await world.case(case_id)
    assert case.visitor_id not in {None, first}
    with pytest.raises(Refused, match="another visitor"):
        await world.visit(case_id, first)
    with pytest.raises(Refused, match="not offered to this visitor"):
        async with world.uow() as unit:
            await dispatch.accept(world.desk, unit, case_id, first)


async def test_nobody_on_duty_alerts_the_district_union_once_then_assigns_when_someone_is(
    world: World,
) -> None:
    await world.duty(False)
    case_id = (await world.report(injury())).case_id
    await world.report(injury())
    assert (await world.case(case_id)).visitor_id is None
    await world.sweep()
    unassigned = await world.events("aid.visit-unassigned")
    assert len(unassigned) == 2  # one per case, not one per attempt
    assert unassigned[0]["data"]["union_id"] == "440306-county"  # 宝安区: the hospital's district
    await world.duty(True, keep=frozenset())
    assert (await world.sweep())["offered_late"] == 2
    assert (await world.case(case_id)).visitor_id is not None


async def test_a_visit_not_made_in_time_is_escalated_once_after_a_reminder(world: World) -> None:
    case_id = (await world.report(injury())).case_id
    async with world.uow() as unit:
        case = await find_case(unit, case_id)
        await dispatch.accept(world.desk, unit, case_id, case.visitor_id)
    world.desk.clock.advance(timedelta(hours=21))
    assert (await world.sweep())["reminded"] == 1
    world.desk.clock.advance(timedelta(hours=4))
    assert (await world.sweep())["escalated"] == 1
    assert (await world.sweep())["escalated"] == 0
    (overdue,) = await world.events("aid.visit-overdue")
    assert overdue["data"]["union_id"] == "440306-county"
    visited = await world.visit(case_id, case.visitor_id)
    assert (await world.events("aid.visit-recorded"))[0]["data"]["within_sla"] is False
    assert visited.visited_at is not None


async def test_condolence_is_paid_by_schedule_once_per_case_and_never_past_the_fund(
    world: World,
) -> None:
    # The fund holds 700 yuan: a serious admitted case (500) and one minor (200), then nothing.
    cases = [
        (await world.report(injury(severity=s))).case_id for s in ("serious", "minor", "minor")
    ]
    for case_id in cases:
        await world.visit(case_id, (await world.case(case_id)).visitor_id)
    with pytest.raises(Refused, match="already recorded"):
        await world.visit(cases[0], (await world.case(cases[0])).visitor_id)
    paid = await world.events("aid.condolence-paid")
    assert [e["data"]["amount"] for e in paid] == ["500.00", "200.00"]
    (exhausted,) = await world.events("aid.condolence-fund-exhausted")
    assert exhausted["data"]["first_unpaid_case_id"] == str(cases[2])
    assert (await world.case(cases[2])).condolence_unpaid
    async with world.uow.sessions() as session:
        fund = await session.get(Fund, FUND)
        spent = await session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "condolence")
        )
    assert fund is not None
    assert (fund.balance_cents, fund.payments, spent) == (0, 2, -700_00)


async def test_a_compensation_problem_is_referred_to_legal_aid_once_with_the_workers_identity(
    world: World,
) -> None:
    report = injury()
    case_id = (await world.report(report)).case_id
    assert case_id is not None
    visitor = (await world.case(case_id)).visitor_id
    await world.visit(
        case_id, visitor, needs=["legal_help"], problem=CompensationProblem.NO_INJURY_INSURANCE
    )
    async with world.uow() as unit:
        case = await find_case(unit, case_id, for_update=True)
        await follow_ups.discharge(world.desk, unit, case, world.desk.clock.today(), "visitor")
    world.desk.clock.advance(timedelta(days=7))
    async with world.uow() as unit:
        await follow_ups.record(
            world.desk,
            unit,
            case_id,
            1,
            outcome="done",
            problem=CompensationProblem.EMPLOYER_REFUSES,
        )
    (referral,) = await world.events("aid.legal-referral-raised")
    assert referral["data"]["worker"]["resident_id"] == report.worker.resident_id
    assert referral["data"]["problem"] == "no_injury_insurance"
    assert referral["data"]["raised_by"] == "visit"


async def test_personal_data_stays_out_of_every_event_but_the_referral(world: World) -> None:
    report = injury()
    case_id = (await world.report(report)).case_id
    assert case_id is not None
    await world.visit(case_id, (await world.case(case_id)).visitor_id)
    stored = [row.value for row in await outbox_rows(world.uow.sessions)]
    for secret in (report.worker.resident_id, report.worker.phone, report.worker.name):
        assert not any(secret.encode() in value for value in stored)


async def test_discharge_schedules_follow_ups_that_fall_due_and_escalate(world: World) -> None:
    case_id = (await world.report(injury())).case_id
    assert case_id is not None
    async with world.uow() as unit:
        case = await find_case(unit, case_id, for_update=True)
        today = world.desk.clock.today()
        assert await follow_ups.discharge(world.desk, unit, case, today, "visitor")
        assert not await follow_ups.discharge(world.desk, unit, case, today, "hospital")
    (scheduled,) = await world.events("aid.follow-ups-scheduled")
    assert len(scheduled["data"]["due_dates"]) == 3
    world.desk.clock.advance(timedelta(days=7))
    assert (await world.sweep())["follow_ups_due"] == 1
    with pytest.raises(Refused, match="due on"):
        async with world.uow() as unit:
            await follow_ups.record(world.desk, unit, case_id, 2, outcome="done", problem=None)
    world.desk.clock.advance(timedelta(days=4))
    assert (await world.sweep())["follow_ups_escalated"] == 1
    async with world.uow() as unit:  # recorded late, after the escalation: still recorded
        done = await follow_ups.record(world.desk, unit, case_id, 1, outcome="done", problem=None)
    assert done.status == "done"


async def test_repeat_employers_are_listed_for_inspectors(world: World) -> None:
    repeat = samples.employer_credit_code(rng)
    for hospital in ("sz-h-016", "sz-h-061", "sz-h-016"):
        await world.report(injury(employer_code=repeat, hospital=hospital, severity="serious"))
    await world.report(injury())
    since, until = (
        world.desk.clock.now() - timedelta(days=1),
        world.desk.clock.now() + timedelta(days=1),
    )
    async with world.uow() as unit:
        found = await queries.repeat_employers(
            unit, since, until, region="4403", min_cases=3, limit=10
        )
        by_district = await queries.injuries_by(
            unit, "district", since, until, region="44", limit=10
        )
        # a district's union sees its own district's cases only
        in_one = await queries.repeat_employers(
            unit, since, until, region="440304", min_cases=1, limit=10
        )
        one_by_district = await queries.injuries_by(
            unit, "district", since, until, region="440304", limit=10
        )
        elsewhere = await queries.summary(unit, since, until, "4401")
    assert found == [(repeat, "某某制造有限公司", 3, 3, ["440304", "440306"])]
    assert by_district[0][0] == "440306"
    assert sum(n for _, _, n, _ in by_district) == 4
    assert [(code, n, d) for code, _, n, _, d in in_one] == [(repeat, 1, ["440304"])]
    assert {k for k, _, _, _ in one_by_district} == {"440304"}
    assert (elsewhere.cases, elsewhere.reports) == (0, 0)


async def test_a_worker_hurt_again_the_same_day_is_one_case_through_a_key_rotation(
    world: World,
) -> None:
    one, two = os.urandom(32), os.urandom(32)
    world.desk = replace(world.desk, vault=PiiVault({1: one}))
    first = injury()
    opened = await world.report(first)
    ring = PiiVault({1: one, 2: two})
    world.desk = replace(world.desk, vault=ring)
    by_app = first.model_copy(update={"report_ref": "r-app-1", "reporter": "worker"})
    assert (await world.report(by_app)).case_id == opened.case_id

    sessions = world.uow.sessions
    assert [(p.moved, p.failed) for p in await rekey(sessions, ring, PERSONAL_DATA)] == [
        (1, 0),  # the case's key
        (1, 0),  # its worker's fingerprint
        (0, 0),  # no insured person here
    ]
    moved = await reencrypt(sessions, ring, PERSONAL_DATA)
    assert [p.moved for p in moved] == [1, 1, 1, 0]
    world.desk = replace(world.desk, vault=PiiVault({2: two}))  # key 1 has left the ring
    later = first.model_copy(update={"report_ref": "r-later"})
    assert (await world.report(later)).case_id == opened.case_id
    case = await world.case(opened.case_id)
    place = CASE_WORKER_PHONE.at(case.case_id)
    assert world.desk.vault.decrypt(case.worker_phone, place) == first.worker.phone


async def test_a_hospital_reports_as_itself_and_hears_back_on_its_own_topic(world: World) -> None:
    hospital = Partner("sz-h-016", PartnerKind.HOSPITAL)
    intake_topic = next(
        s
        for s in handlers.subscriptions(FUND_TERMS, world.desk, claims_desk(world.desk))
        if s.reject
    )
    consumer = BatchProcessor(
        intake_topic,
        sessions=world.uow.sessions,
        catalog=CATALOG,
        group="aid",
        producer="aid",
        sender=hospital,
    )
    own_topic = f"{AID_INJURY_REPORTS.name}.{hospital.partner_id}"
    reports = [
        injury(hospital="sz-h-016"),
        injury(hospital="sz-h-017"),  # another hospital's name
        injury("worker", hospital="sz-h-016"),  # a worker's report, from the hospital
    ]
    settled = await consumer.process(
        [
            record(own_topic, Envelope.wrap(r, key=r.report_ref, producer="h").to_bytes())
            for r in reports
        ]
    )
    assert settled == [Settled.HANDLED, Settled.REJECTED, Settled.HANDLED]
    answers = [
        (row.topic, json.loads(row.value)["data"])
        for row in await outbox_rows(world.uow.sessions)
        if json.loads(row.value)["event_type"] == "aid.injury-report-outcome"
    ]
    assert {topic for topic, _ in answers} == {"partner.aid.injury-outcomes.v1.sz-h-016"}
    assert [(a["outcome"], [r["field"] for r in a["reasons"]]) for _, a in answers] == [
        ("opened", []),
        ("rejected", ["hospital_id"]),
        ("rejected", ["reporter"]),
    ]
    assert len(await world.events("aid.injury-case-opened")) == 1


async def test_each_funds_balance_share_is_measured_from_the_database(world: World) -> None:
    from aid import metrics

    async with world.uow() as unit:
        await funds.debit(
            unit,
            FUND,
            funds.Payment(kind="condolence", amount_cents=175_00, at=world.desk.clock.now()),
        )
    async with world.uow() as unit:
        await funds.measure(unit)
    assert metrics.FUND_BALANCE_SHARE.labels(FUND)._value.get() == 0.75
