"""legal's use cases on SQLite, with in-memory warning windows, a small registry and a
movable clock."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from gonghui_contracts import Envelope, samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import Claimant, DisputeDetails, DisputeFiled
from gonghui_contracts.events.injury import Employer
from gonghui_contracts.values import (
    CaseOutcome,
    CaseStage,
    DisputeKind,
    EmployerResponse,
    FilingChannel,
    Industry,
    PartnerKind,
    PriorityGroup,
)
from legal import (
    api,
    assignment,
    deadlines,
    handlers,
    intake,
    progress,
    queries,
    registry,
    supervision,
)
from legal.desk import Desk, LegalTerms, find_case
from legal.errors import ERROR_STATUSES, Refused
from legal.intake import FilingResult
from legal.main import PERSONAL_DATA
from legal.models import CLAIMANT_RESIDENT_ID, Base, CaseEvent, DisputeCase, Lawyer, Letter
from legal.models import Claimant as ClaimantRow
from legal.rules.chain import IllegalMove
from legal.windows import InMemoryWindows
from servicekit import UnitOfWork
from servicekit.app import install_error_handlers
from servicekit.clock import Clock
from servicekit.identity import Caller, Role, authenticated
from servicekit.personal_data import reencrypt, rekey
from servicekit.pii import PiiVault
from servicekit.testing import outbox_rows, sqlite_sessions

rng = random.Random(6)
EMPLOYER = Employer(credit_code=samples.employer_credit_code(rng, "440111"), name="某电子厂")
REGISTRY = {
    "stations": [
        {"station_id": "by-1", "name": "白云一站", "district_code": "440111"},
        {"station_id": "th-1", "name": "天河一站", "district_code": "440106"},
    ],
    "lawyers": [
        # the best match on paper, but retained by the employer
        {
            "lawyer_id": "conflicted",
            "name": "甲律师",
            "station_id": "by-1",
            "specialties": ["wage_arrears"],
            "capacity": 40,
            "acts_for": [EMPLOYER.credit_code],
        },
        {
            "lawyer_id": "baiyun",
            "name": "乙律师",
            "station_id": "by-1",
            "specialties": ["wage_arrears"],
            "capacity": 2,
        },
        {
            "lawyer_id": "tianhe",
            "name": "丙律师",
            "station_id": "th-1",
            "specialties": ["dismissal"],
            "capacity": 1,
        },
    ],
}


PARTNERS = {
    FilingChannel.HOTLINE_12351: Partner("gz-12351", PartnerKind.HOTLINE_12351),
    FilingChannel.COURT: Partner("gz-intermediate-court", PartnerKind.COURT),
    FilingChannel.ARBITRATION: Partner("gz-labour-arbitration", PartnerKind.ARBITRATION),
}


class World:
    def __init__(self, uow: UnitOfWork, desk: Desk) -> None:
        self.uow, self.desk = uow, desk

    async def events_all(self) -> list[dict[str, Any]]:
        return [json.loads(row.value) for row in await outbox_rows(self.uow.sessions)]

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in await self.events_all() if e["event_type"] == event_type]

    async def file(
        self,
        details: DisputeDetails,
        ref: str | None = None,
        channel: FilingChannel = FilingChannel.HOTLINE_12351,
    ) -> FilingResult:
        partner = PARTNERS.get(channel)
        async with self.uow() as unit:
            return await intake.file(
                self.desk,
                unit,
                channel,
                ref or uuid.uuid4().hex,
                details,
                partner_id=partner.partner_id if partner else None,
            )

    async def case(self, case_id: uuid.UUID | None) -> DisputeCase:
        assert case_id is not None
        async with self.uow() as unit:
            return await find_case(unit, case_id)

    async def sweep(self) -> dict[str, int]:
        async with self.uow() as unit:
            return await deadlines.sweep(self.desk, unit)

    async def count(self, model: type, *where: Any) -> int:
        async with self.uow() as unit:
            return (
                await unit.session.scalar(select(func.count()).select_from(model).where(*where))
            ) or 0


def dispute(
    workers: int = 1,
    kind: DisputeKind = DisputeKind.WAGE_ARREARS,
    employer: Employer = EMPLOYER,
    industry: Industry = Industry.MANUFACTURING,
    groups: list[PriorityGroup] | None = None,
) -> DisputeDetails:
    people: list[Claimant] = []
    while len(people) < workers:
        rid = samples.adult_resident_id(rng)
        if int(rid[16]) % 2 == 1 or groups:  # men, unless groups are asked for: no women's priority
            people.append(
                Claimant(
                    name=samples.person_name(rng),
                    resident_id=rid,
                    phone=samples.mobile_phone(rng),
                    claimed=Decimal("8000.00"),
                    groups=groups or [],
                )
            )
    return DisputeDetails(
        employer=employer,
        industry=industry,
        district_code="440111",
        kind=kind,
        arose_on=Clock().today() - timedelta(days=30),
        workers=people,
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(REGISTRY, ensure_ascii=False), "utf-8")
    stations, lawyers = registry.load(path)
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        uow = UnitOfWork(sessions, "legal")
        desk = Desk(
            LegalTerms(stations=stations),
            PiiVault.development(),
            Clock(),
            InMemoryWindows(),
        )
        async with uow() as unit:
            await assignment.seed_lawyers(unit, lawyers)
        yield World(uow, desk)


async def test_a_repeated_filing_or_the_same_dispute_again_is_one_case(world: World) -> None:
    details = dispute(workers=3)
    first = await world.file(details, ref="WO-1")
    again = await world.file(details, ref="WO-1")
    walk_in = await world.file(details, ref="desk-7", channel=FilingChannel.WALK_IN)
    assert first.outcome == "opened"
    assert (again.outcome, again.case_id) == ("opened", first.case_id)
    assert (walk_in.outcome, walk_in.case_id) == ("merged", first.case_id)
    assert await world.count(DisputeCase) == 1
    assert (await world.case(first.case_id)).filings == 2
    assert len(await world.events("legal.lawyer-assigned")) == 1


async def test_a_future_dispute_is_rejected_with_its_reason(world: World) -> None:
    details = dispute().model_copy(update={"arose_on": Clock().today() + timedelta(days=2)})
    result = await world.file(details)
    assert result.outcome == "rejected"
    assert [(r.field, r.rule) for r in result.reasons] == [("arose_on", "is in the future")]
    assert await world.count(DisputeCase) == 0


async def test_conflicted_never_assigned_capacity_then_city_then_queue(world: World) -> None:
    opened = [await world.file(dispute()) for _ in range(4)]
    cases = [await world.case(r.case_id) for r in opened]
    assert [c.lawyer_id for c in cases] == ["baiyun", "baiyun", "tianhe", None]
    alerts = await world.events("legal.case-unassigned")
    assert [a["data"]["case_id"] for a in alerts] == [str(cases[3].case_id)]
    priority = await world.file(dispute(groups=[PriorityGroup.HARDSHIP]))
    assert (await world.case(priority.case_id)).lawyer_id is None
    await world.sweep()
    assert len(await world.events("legal.case-unassigned")) == 2  # once per case
    async with world.uow() as unit:
        await progress.close(
            world.desk,
            unit,
            cases[0].case_id,
            CaseOutcome.WITHDRAWN,
            amount=None,
            workers_accepting=None,
            by="baiyun",
            reason="paid before talks",
        )
    await world.sweep()
    assert (await world.case(priority.case_id)).lawyer_id == "baiyun"  # served first
    assert (await world.case(cases[3].case_id)).lawyer_id is None
    offered = await world.count(
        CaseEvent, CaseEvent.action == "offered", CaseEvent.lawyer_id == "conflicted"
    )
    assert offered == 0


async def test_one_batch_of_filings_has_the_effects_of_the_same_filings_one_by_one(
    world: World,
) -> None:
    """Lawyers shared out within one batch never pass their capacity; a repeat and the same
    dispute from another channel in the batch are one case; the employer's letter goes once."""
    repeated = dispute(workers=2, kind=DisputeKind.NO_CONTRACT)
    hotline = "gz-12351"
    filings = [
        intake.Filed(FilingChannel.HOTLINE_12351, hotline, f"WO-{n}", dispute()) for n in range(4)
    ] + [
        intake.Filed(FilingChannel.HOTLINE_12351, hotline, "WO-r", repeated),
        intake.Filed(FilingChannel.HOTLINE_12351, hotline, "WO-r", repeated),
        intake.Filed(FilingChannel.WALK_IN, "walk_in", "desk-r", repeated),
    ]
    async with world.uow() as unit:
        results = await intake.file_all(world.desk, unit, filings)
    assert [r.outcome for r in results] == ["opened"] * 5 + ["opened", "merged"]
    assert results[4].case_id == results[5].case_id == results[6].case_id
    lawyers = [(await world.case(r.case_id)).lawyer_id for r in results[:5]]
    assert lawyers == ["baiyun", "baiyun", "tianhe", None, None]  # capacities 2 and 1
    async with world.uow() as unit:
        open_cases = dict(
            (await unit.session.execute(select(Lawyer.lawyer_id, Lawyer.open_cases))).tuples().all()
        )
    assert open_cases == {"conflicted": 0, "baiyun": 2, "tianhe": 1}
    assert (await world.case(results[4].case_id)).filings == 2
    issued = [e["data"] for e in await world.events("legal.supervision-letter-issued")]
    assert [(x["letter"], x["cases"]) for x in issued] == [("prompt", 5)]  # once, for all five


async def test_accept_answers_the_hotline_and_decline_or_lapse_passes_it_on(world: World) -> None:
    first = await world.file(dispute(), ref="WO-9")
    assert first.case_id is not None
    async with world.uow() as unit:
        await assignment.decline(world.desk, unit, first.case_id, "baiyun", "on leave")
    case = await world.case(first.case_id)
    assert case.lawyer_id == "tianhe"
    world.desk.clock.advance(world.desk.terms.accept_within + timedelta(minutes=1))
    assert (await world.sweep())["reoffered"] == 1
    assert (await world.case(first.case_id)).lawyer_id == "baiyun"  # everyone asked: round again
    async with world.uow() as unit:
        with pytest.raises(Refused, match="not offered to this lawyer"):
            await assignment.accept(world.desk, unit, first.case_id, "tianhe")
    async with world.uow() as unit:
        await assignment.accept(world.desk, unit, first.case_id, "baiyun")
    answers = [e["data"] for e in await world.events("legal.filing-outcome")]
    assert [(a["filing_ref"], a["outcome"], a["work_order_closed"]) for a in answers] == [
        ("WO-9", "answered", True)
    ]
    assert (await world.file(dispute(), ref="WO-9")).answered_by == ("baiyun", "by-1")


async def test_illegal_move_changes_nothing_and_the_chain_runs_to_a_settlement(
    world: World,
) -> None:
    opened = await world.file(dispute(workers=12), ref="WO-2")
    assert opened.case_id is not None
    case_id = opened.case_id
    history_before = await world.count(CaseEvent, CaseEvent.case_id == case_id)
    async with world.uow() as unit:
        with pytest.raises(IllegalMove, match="仲裁前置"):
            await progress.move(world.desk, unit, case_id, CaseStage.LITIGATION, by="x", reason="y")
    case = await world.case(case_id)
    assert case.stage == "negotiation"
    assert await world.count(CaseEvent, CaseEvent.case_id == case_id) == history_before
    assert await world.events("legal.stage-changed") == []
    async with world.uow() as unit:
        await progress.move(
            world.desk, unit, case_id, CaseStage.MEDIATION, by="baiyun", reason="talks failed"
        )
    async with world.uow() as unit:
        with pytest.raises(IllegalMove, match="cannot be extended"):
            await progress.extend(world.desk, unit, case_id, by="baiyun", reason="more time")
    async with world.uow() as unit:
        await progress.close(
            world.desk,
            unit,
            case_id,
            CaseOutcome.SETTLED,
            amount=Decimal("90000.00"),
            workers_accepting=11,
            by="baiyun",
            reason="mediation agreement",
        )
    closed = await world.case(case_id)
    assert (closed.outcome, closed.amount_cents, closed.open_key) == ("settled", 9_000_000, None)
    moved = (await world.events("legal.stage-changed"))[0]["data"]
    assert (moved["from_stage"], moved["to_stage"], moved["by"]) == (
        "negotiation",
        "mediation",
        "baiyun",
    )
    concluded = [e["data"] for e in await world.events("legal.filing-outcome")]
    assert [(c["outcome"], c["case_outcome"], c["amount"]) for c in concluded] == [
        ("concluded", "settled", "90000.00")
    ]
    async with world.uow() as unit:
        with pytest.raises(Refused, match="closed"):
            await progress.move(
                world.desk, unit, case_id, CaseStage.ARBITRATION, by="x", reason="y"
            )


async def test_deadline_reminds_then_escalates_once(world: World) -> None:
    opened = await world.file(dispute())
    assert opened.case_id is not None
    async with world.uow() as unit:
        await assignment.accept(world.desk, unit, opened.case_id, "baiyun")
    world.desk.clock.advance(timedelta(days=13))  # negotiation: 15 days, reminded 3 before
    assert (await world.sweep())["stage_reminders"] == 1
    world.desk.clock.advance(timedelta(days=3))
    assert (await world.sweep())["stage_escalations"] == 1
    assert (await world.sweep())["stage_escalations"] == 0
    missed = [e["data"] for e in await world.events("legal.deadline-missed")]
    assert [(m["deadline"], m["stage"], m["union_id"]) for m in missed] == [
        ("stage", "negotiation", "440111-county")
    ]


async def test_limitation_runs_out_before_arbitration(world: World) -> None:
    old = dispute().model_copy(update={"arose_on": Clock().today() - timedelta(days=340)})
    opened = await world.file(old)
    assert opened.case_id is not None
    async with world.uow() as unit:
        await assignment.accept(world.desk, unit, opened.case_id, "baiyun")
    assert (await world.sweep())["limitation_reminders"] == 1
    world.desk.clock.advance(timedelta(days=30))
    assert (await world.sweep())["limitation_escalations"] == 1
    kinds = [e["data"]["deadline"] for e in await world.events("legal.deadline-missed")]
    assert "limitation" in kinds


async def test_early_warning_once_per_window(world: World) -> None:
    for _ in range(5):
        await world.file(dispute())
    raised = [e["data"] for e in await world.events("legal.early-warning-raised")]
    assert [(w["kind"], w["count"]) for w in raised] == [("employer_filings", 3)]
    world.desk.clock.advance(timedelta(days=31))
    for _ in range(2):
        await world.file(dispute())
    assert len(await world.events("legal.early-warning-raised")) == 1  # window slid: only 2 now
    await world.file(dispute())
    assert len(await world.events("legal.early-warning-raised")) == 2


async def test_a_big_group_raises_the_workers_warning_at_once(world: World) -> None:
    await world.file(dispute(workers=30))
    raised = [e["data"] for e in await world.events("legal.early-warning-raised")]
    assert [(w["kind"], w["count"]) for w in raised] == [("employer_workers", 30)]


async def test_letters_prompt_then_opinion_when_unanswered_then_suggestion_on_refusal(
    world: World,
) -> None:
    for _ in range(3):
        await world.file(dispute(kind=DisputeKind.NO_CONTRACT))
    issued = [e["data"] for e in await world.events("legal.supervision-letter-issued")]
    assert [(x["letter"], x["cases"]) for x in issued] == [("prompt", 3)]
    world.desk.clock.advance(timedelta(days=31))
    assert (await world.sweep())["letters"] == 1
    async with world.uow() as unit:
        opinion = await unit.session.scalar(select(Letter).where(Letter.letter == "opinion"))
        assert opinion is not None
        await supervision.respond(
            world.desk, unit, opinion.letter_id, EmployerResponse.REFUSED, "union-staff-1"
        )
    letters = [e["data"]["letter"] for e in await world.events("legal.supervision-letter-issued")]
    assert letters == ["prompt", "opinion", "suggestion"]


async def test_personal_data_stays_out_of_every_event_but_the_case(world: World) -> None:
    details = dispute(workers=2)
    await world.file(details, ref="WO-pii")
    text = " ".join(json.dumps(e) for e in await world.events_all())
    for worker in details.workers:
        assert worker.resident_id not in text
        assert worker.phone not in text
        assert worker.name not in text


async def test_the_summary_and_district_figures_add_up(world: World) -> None:
    settled = await world.file(dispute(workers=2), ref="WO-s")
    await world.file(
        dispute(kind=DisputeKind.DISMISSAL), ref="desk-1", channel=FilingChannel.WALK_IN
    )
    await world.file(dispute(workers=2), ref="x")
    assert settled.case_id is not None
    async with world.uow() as unit:
        await progress.move(
            world.desk, unit, settled.case_id, CaseStage.MEDIATION, by="b", reason="r"
        )
    world.desk.clock.advance(timedelta(days=2))
    async with world.uow() as unit:
        await progress.close(
            world.desk,
            unit,
            settled.case_id,
            CaseOutcome.SETTLED,
            amount=Decimal("12000.00"),
            workers_accepting=None,
            by="b",
            reason="agreed",
        )
    since = world.desk.clock.now() - timedelta(days=30)
    until = world.desk.clock.now() + timedelta(seconds=1)
    async with world.uow() as unit:
        found = await queries.summary(unit, since, until, "44")
        districts = await queries.by_district(unit, since, until, "4401")
        tianhe = await queries.summary(unit, since, until, "440106")
        elsewhere = await queries.by_district(unit, since, until, "440106")
    assert (tianhe.cases, tianhe.filings, tianhe.stages_reached["negotiation"]) == (0, {}, 0)
    assert elsewhere == []
    assert found.filings == {"hotline_12351": 2, "walk_in": 1}
    assert (found.cases, found.workers, found.claimed_cents) == (3, 5, 5 * 8000_00)
    assert found.stages_reached == {
        "negotiation": 3,
        "mediation": 1,
        "arbitration": 0,
        "litigation": 0,
        "legal_aid": 0,
        "enforcement": 0,
    }
    assert (found.closed, found.settled_cents, found.recovered_cents) == (
        {"settled": 1},
        12000_00,
        12000_00,
    )
    (baiyun,) = districts
    assert (baiyun.district_code, baiyun.cases, baiyun.settled) == ("440111", 3, 1)
    assert baiyun.stage_days == {"negotiation": 0.0, "mediation": 2.0}


async def test_a_partner_filing_of_a_dispute_already_taken_up_is_answered_at_once(
    world: World,
) -> None:
    details = dispute(workers=2)
    hotline = await world.file(details, ref="WO-first")
    assert hotline.case_id is not None
    async with world.uow() as unit:
        await assignment.accept(world.desk, unit, hotline.case_id, "baiyun")
    court = DisputeFiled.model_validate(
        {**details.model_dump(mode="json"), "channel": "court", "filing_ref": "court-77"}
    )
    on_filing = handlers.subscriptions(world.desk)[0].handler_of(DisputeFiled.EVENT_TYPE)
    assert on_filing is not None
    answer_fields = ("filing_ref", "outcome", "work_order_closed")
    async with world.uow() as unit:
        unit.sender = PARTNERS[FilingChannel.COURT]
        await on_filing(unit, [Envelope.wrap(court, key="court-77", producer="court")])
    told = [
        (row.topic, *(json.loads(row.value)["data"][f] for f in answer_fields))
        for row in await outbox_rows(world.uow.sessions)
        if row.topic.startswith("partner.legal.filing-outcomes.v1.")
    ]
    assert told == [
        ("partner.legal.filing-outcomes.v1.gz-12351", "WO-first", "answered", True),
        ("partner.legal.filing-outcomes.v1.gz-intermediate-court", "court-77", "merged", False),
        ("partner.legal.filing-outcomes.v1.gz-intermediate-court", "court-77", "answered", False),
    ]


async def test_a_confirmed_mediation_agreement_the_employer_ignores_is_enforced(
    world: World,
) -> None:
    opened = await world.file(dispute(), channel=FilingChannel.COURT)  # starts in mediation
    assert opened.case_id is not None
    case_id = opened.case_id
    async with world.uow() as unit:
        with pytest.raises(IllegalMove, match="司法确认"):
            await progress.move(
                world.desk, unit, case_id, CaseStage.ENFORCEMENT, by="b", reason="r"
            )
    async with world.uow() as unit:
        await progress.confirm(world.desk, unit, case_id, by="baiyun", reason="法院确认调解协议")
    async with world.uow() as unit:
        await progress.move(
            world.desk, unit, case_id, CaseStage.ENFORCEMENT, by="baiyun", reason="逾期未履行"
        )
    async with world.uow() as unit:
        await progress.close(
            world.desk,
            unit,
            case_id,
            CaseOutcome.ENFORCED,
            amount=Decimal("8000.00"),
            workers_accepting=None,
            by="baiyun",
            reason="执行到位",
        )
    moved = (await world.events("legal.stage-changed"))[0]["data"]
    assert (moved["from_stage"], moved["to_stage"]) == ("mediation", "enforcement")
    assert moved["skipped"] == ["arbitration", "litigation", "legal_aid"]
    assert len(await world.events("legal.settlement-confirmed")) == 1
    case = await world.case(case_id)
    assert (case.outcome, case.confirmed_at is not None) == ("enforced", True)


async def test_an_open_dispute_is_found_through_a_key_rotation(world: World) -> None:
    one, two = os.urandom(32), os.urandom(32)
    world.desk = replace(world.desk, vault=PiiVault({1: one}))
    details, other = dispute(workers=3), dispute(workers=2)
    first = await world.file(details)
    await world.file(other)

    ring = PiiVault({1: one, 2: two})
    world.desk = replace(world.desk, vault=ring)
    again = await world.file(details, channel=FilingChannel.WALK_IN)
    assert (again.outcome, again.case_id) == ("merged", first.case_id)
    sessions = world.uow.sessions
    rekeyed = await rekey(sessions, ring, PERSONAL_DATA, batch_size=1, max_batches=1)
    assert [(p.moved, p.finished) for p in rekeyed] == [(1, False)]
    rekeyed = await rekey(sessions, ring, PERSONAL_DATA, batch_size=1)
    assert [(p.moved, p.failed) for p in rekeyed] == [(1, 0)]
    moved = await reencrypt(sessions, ring, PERSONAL_DATA)
    assert [(p.column, p.moved) for p in moved] == [
        ("claimants.name", 5),
        ("claimants.resident_id", 5),
        ("claimants.phone", 5),
    ]

    world.desk = replace(world.desk, vault=PiiVault({2: two}))  # key 1 has left the ring
    court = await world.file(details, channel=FilingChannel.COURT)
    assert (court.outcome, court.case_id) == ("merged", first.case_id)
    assert (await world.file(other, channel=FilingChannel.WALK_IN)).outcome == "merged"
    assert (await world.case(first.case_id)).open_key == intake.open_keys(
        world.desk.vault, details
    )[0]
    async with world.uow() as unit:
        claimants = (
            await unit.session.scalars(
                select(ClaimantRow)
                .order_by(ClaimantRow.sequence)
                .where(ClaimantRow.case_id == first.case_id)
            )
        ).all()
    assert [
        world.desk.vault.decrypt(c.resident_id, CLAIMANT_RESIDENT_ID.at(c.case_id, c.sequence))
        for c in claimants
    ] == [w.resident_id for w in details.workers]


class Acting:
    """The caller the token names (verification itself is the kit's, tested there)."""

    def __init__(self) -> None:
        self.caller = Caller("gd-staff", frozenset({Role.STAFF}), union="440000")

    def lawyer(self, lawyer_id: str) -> None:
        self.caller = Caller(lawyer_id, frozenset({Role.LAWYER}))

    def staff(self, union: str) -> None:
        self.caller = Caller(f"staff-{union}", frozenset({Role.STAFF}), union=union)


def http(world: World, acting: Acting) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, ERROR_STATUSES)
    for router in api.routers(world.uow, world.desk):
        app.include_router(router)
    app.dependency_overrides[authenticated] = lambda: acting.caller
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://legal")


async def test_a_lawyer_acts_on_their_own_cases_only_and_as_the_token_says(world: World) -> None:
    opened = await world.file(dispute())
    assert (await world.case(opened.case_id)).lawyer_id == "baiyun"
    acting, path = Acting(), f"/v1/cases/{opened.case_id}"
    async with http(world, acting) as client:
        acting.lawyer("tianhe")  # another lawyer: the case does not exist for them
        assert (await client.get(path)).status_code == 404
        assert (await client.post(f"{path}/accept")).status_code == 404
        assert (await client.post(f"{path}/decline", json={"reason": "r"})).status_code == 404
        move = {"to": "mediation", "reason": "the employer came to the table"}
        assert (await client.post(f"{path}/moves", json=move)).status_code == 404
        assert (await client.get("/v1/lawyers/baiyun/cases")).status_code == 404
        assert (
            await client.put("/v1/lawyers/baiyun/duty", json={"on_duty": False})
        ).status_code == 404
        assert (await client.get("/v1/queue")).status_code == 403  # staff read the queue
        confirmation = await client.post(f"{path}/judicial-confirmation", json={"reason": "r"})
        assert confirmation.status_code == 403  # staff record it

        acting.lawyer("baiyun")
        assert (await client.get("/v1/lawyers/baiyun/cases")).json() == [str(opened.case_id)]
        assert (await client.post(f"{path}/accept")).status_code == 200
        naming = await client.post(f"{path}/moves", json=move | {"by": "someone-else"})
        assert naming.status_code == 422  # the body never names who acts
        moved = await client.post(f"{path}/moves", json=move)
        assert moved.status_code == 200
        assert moved.json()["history"][-1]["by"] == "baiyun"
        assert (await client.put("/v1/lawyers/baiyun/duty", json={"on_duty": False})).json() == {
            "on_duty": False
        }

        acting.staff("440111")
        assert (await client.post(f"{path}/accept")).status_code == 403  # lawyers accept
        confirmed = await client.post(f"{path}/judicial-confirmation", json={"reason": "司法确认"})
        assert confirmed.status_code == 200
        assert confirmed.json()["history"][-1]["by"] == "staff-440111"


async def test_staff_see_and_count_the_cases_of_their_own_region_only(world: World) -> None:
    opened = await world.file(dispute())
    path = f"/v1/cases/{opened.case_id}"
    acting = Acting()
    async with http(world, acting) as client:
        for union in ("440111", "440100", "440000"):
            acting.staff(union)
            assert (await client.get(path)).status_code == 200
            assert [q["case_id"] for q in (await client.get("/v1/queue")).json()] == [
                str(opened.case_id)
            ]
            assert (await client.get("/v1/disputes/summary")).json()["cases"] == 1
        acting.staff("440106")  # Tianhe's union: another district's case does not exist
        assert (await client.get(path)).status_code == 404
        close = {"outcome": "withdrawn", "reason": "r"}
        assert (await client.post(f"{path}/close", json=close)).status_code == 404
        assert (await client.get("/v1/queue")).json() == []
        assert (await client.get("/v1/disputes/summary")).json()["cases"] == 0
        assert (await client.get("/v1/disputes/by-district")).json() == []
        assert [lw["lawyer_id"] for lw in (await client.get("/v1/lawyers")).json()] == ["tianhe"]
        assert [s["station_id"] for s in (await client.get("/v1/stations")).json()] == ["th-1"]
        assert (await client.get("/v1/lawyers/baiyun/cases")).status_code == 404


async def test_walk_ins_are_filed_at_the_lawyers_station_or_within_the_staffs_union(
    world: World,
) -> None:
    def walk_in(station: str) -> dict[str, Any]:
        details = dispute().model_dump(mode="json")
        return details | {"station_id": station, "filing_ref": uuid.uuid4().hex[:12]}

    acting = Acting()
    async with http(world, acting) as client:
        acting.lawyer("tianhe")
        assert (await client.post("/v1/filings", json=walk_in("by-1"))).status_code == 403
        assert (await client.post("/v1/filings", json=walk_in("th-1"))).status_code == 201
        acting.staff("440103")  # Liwan's union: neither the station's nor the dispute's
        assert (await client.post("/v1/filings", json=walk_in("th-1"))).status_code == 403
        acting.staff("440106")  # the station's union
        assert (await client.post("/v1/filings", json=walk_in("th-1"))).status_code == 201
        acting.staff("440111")  # the dispute's union
        assert (await client.post("/v1/filings", json=walk_in("th-1"))).status_code == 201


async def test_a_letter_is_answered_by_the_staff_of_its_district_as_themself(
    world: World,
) -> None:
    for _ in range(3):
        await world.file(dispute(kind=DisputeKind.NO_CONTRACT))
    acting = Acting()
    async with http(world, acting) as client:
        acting.staff("440106")
        assert (await client.get("/v1/supervision/employers")).json() == []
        acting.staff("440111")
        (letter,) = (await client.get("/v1/supervision/employers")).json()
        path = f"/v1/supervision/letters/{letter['letter_id']}/response"
        acting.staff("440106")
        assert (await client.post(path, json={"response": "rectified"})).status_code == 404
        acting.staff("440111")
        naming = {"response": "rectified", "recorded_by": "someone-else"}
        assert (await client.post(path, json=naming)).status_code == 422
        assert (await client.post(path, json={"response": "rectified"})).status_code == 200
    async with world.uow() as unit:
        answered = await unit.session.get(Letter, uuid.UUID(letter["letter_id"]))
        assert answered is not None
        assert answered.recorded_by == "staff-440111"
