"""Mutual-aid claims on SQLite: settlements decided without a form, corrections and reversals
that move only the difference, the yearly cap, review by staff, condolence, relief, payments."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from aid import funds
from aid.api import ERROR_STATUSES
from aid.claims import api as claims_api
from aid.claims import payments, queries, reconcile, review, rules, settlements
from aid.claims.desk import ClaimsDesk, find_claim
from aid.claims.payments import PaymentOrder, PaymentRefused, Retries, SinkPayments
from aid.claims.rules import Figures
from aid.errors import Refused
from aid.injury import intake, registry
from aid.injury.desk import Desk, InjuryTerms
from aid.injury.rules import DEFAULT_CONDOLENCE_YUAN, condolence_schedule
from aid.injury.visitor_index import InMemoryVisitorIndex
from aid.models import Base, ClaimPayment, ClaimYear, Enrolment, Fund, LedgerEntry
from gonghui_contracts import samples
from gonghui_contracts.access import Partner
from gonghui_contracts.events import (
    InjuryReported,
    MemberIdentified,
    SettlementRecorded,
    SettlementReversed,
)
from gonghui_contracts.values import DiagnosisCategory, PartnerKind
from servicekit import UnitOfWork
from servicekit.app import install_error_handlers
from servicekit.clock import Clock
from servicekit.identity import Caller, Role, authenticated
from servicekit.pii import PiiVault
from servicekit.testing import outbox_rows, sqlite_sessions
from servicekit.workload import InMemoryWorkload

BUREAU = Partner("gz-medical-insurance", PartnerKind.MEDICAL_INSURANCE)
TERMS = rules.DEFAULT_TERMS
JOINED = date(2024, 6, 27)


class World:
    def __init__(self, uow: UnitOfWork, desk: ClaimsDesk) -> None:
        self.uow, self.desk = uow, desk
        rng = random.Random(1688)
        self.people = iter(lambda: samples.adult_resident_id(rng), None)

    async def member(self, *, covered: bool = True) -> tuple[uuid.UUID, str]:
        member_id, resident_id = uuid.uuid4(), next(self.people)
        async with self.uow() as unit:
            await settlements.identified(
                self.desk.vault,
                unit,
                [
                    MemberIdentified(
                        member_id=member_id,
                        resident_id=resident_id,
                        union_id="440111-union",
                        region_code="440111",
                        city_code="440100",
                    )
                ],
            )
            unit.session.add(
                Enrolment(
                    member_id=member_id,
                    policy_year=2024,
                    status="covered" if covered else "offered",
                    premium_cents=60_00,
                    period_start=JOINED,
                    period_end=date(2025, 6, 26),
                )
            )
        return member_id, resident_id

    async def send(self, message: SettlementRecorded | SettlementReversed) -> settlements.Answer:
        async with self.uow() as unit:
            unit.sender = BUREAU
            return await settlements.settle(self.desk, unit, message)

    async def events(self, event_type: str) -> list[dict[str, Any]]:
        found = [json.loads(row.value) for row in await outbox_rows(self.uow.sessions)]
        return [e["data"] for e in found if e["event_type"] == event_type]

    async def balance(self, fund_id: str = "claims") -> int:
        async with self.uow() as unit:
            return (await funds.get(unit, fund_id, fresh=True)).balance_cents

    async def count(self, model: type, **where: Any) -> int:
        async with self.uow() as unit:
            query = select(func.count()).select_from(model).filter_by(**where)
            return int(await unit.session.scalar(query) or 0)


async def injury_case(world: World, resident_id: str) -> uuid.UUID:
    """A work-injury case of this worker, reported by a Shenzhen hospital."""
    desk = Desk(
        InjuryTerms(
            hospitals=registry.load_hospitals(),
            condolence=condolence_schedule(DEFAULT_CONDOLENCE_YUAN),
            fund_id="condolence",
        ),
        world.desk.vault,
        world.desk.clock,
        InMemoryVisitorIndex(),
        InMemoryWorkload(),
    )
    rng = random.Random(resident_id)
    report = InjuryReported.model_validate(
        {
            "report_ref": f"r-{uuid.uuid4().hex[:12]}",
            "reporter": "hospital",
            "hospital_id": "sz-h-016",
            "worker": {
                "name": "测试工人",
                "resident_id": resident_id,
                "phone": samples.mobile_phone(rng),
            },
            "employer": {"credit_code": samples.employer_credit_code(rng), "name": "某某公司"},
            "industry": "manufacturing",
            "injured_on": world.desk.clock.today().isoformat(),
            "injury_kind": "fracture",
            "severity": "minor",
            "admission": "admitted",
        }
    )
    async with world.uow() as unit:
        opened = await intake.report(desk, unit, report)
    assert opened.case_id is not None
    return opened.case_id


def settlement(
    resident_id: str, out_of_pocket: str, *, ref: str = "s-1", revision: int = 0, **changes: Any
) -> SettlementRecorded:
    fields: dict[str, Any] = {
        "settlement_id": ref,
        "revision": revision,
        "bureau_id": BUREAU.partner_id,
        "resident_id": resident_id,
        "hospital": "广州市第一人民医院",
        "admitted_on": date(2024, 8, 1),
        "discharged_on": date(2024, 8, 9),
        "total_cost": Decimal(out_of_pocket) * 4,
        "basic_paid": Decimal(out_of_pocket) * 2,
        "out_of_pocket_in_list": Decimal(out_of_pocket),
        "diagnosis": DiagnosisCategory.GENERAL,
    }
    return SettlementRecorded(**{**fields, **changes})


def reversal(ref: str = "s-1", revision: int = 1) -> SettlementReversed:
    return SettlementReversed(
        settlement_id=ref, revision=revision, bureau_id=BUREAU.partner_id, reason="冲正"
    )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        uow = UnitOfWork(sessions, "aid")
        clock = Clock()
        desk = ClaimsDesk(TERMS, "claims", "illness", PiiVault.development(), clock)
        async with uow() as unit:
            await funds.open_fund(unit, "claims", "互助金", 100_000_00, at=clock.now())
            await funds.open_fund(unit, "illness", "大病慰问金", 2_000_00, at=clock.now())
        yield World(uow, desk)


async def test_a_covered_members_settlement_is_paid_without_a_form(world: World) -> None:
    member_id, resident_id = await world.member()
    answer = await world.send(settlement(resident_id, "10000.00"))
    assert (answer.outcome, answer.payout_cents, answer.reasons) == ("approved", 4_750_00, ())
    assert await world.balance() == 100_000_00 - 4_750_00
    [decided] = await world.events("aid.claim-decided")
    assert decided["member_id"] == str(member_id)
    assert (decided["decision"], decided["decided_by"], decided["change"]) == (
        "approved",
        "auto",
        "4750.00",
    )
    assert decided["district_code"] == "440111"
    assert await world.count(ClaimPayment, status="pending", amount_cents=4_750_00) == 1


async def test_the_same_settlement_twice_pays_once_and_is_answered_the_same(world: World) -> None:
    _, resident_id = await world.member()
    first = await world.send(settlement(resident_id, "10000.00"))
    again = await world.send(settlement(resident_id, "10000.00"))
    assert again == first
    assert await world.count(ClaimPayment) == 1
    assert await world.balance() == 100_000_00 - 4_750_00


async def test_a_person_who_is_not_a_member_is_reviewed_not_paid(world: World) -> None:
    stranger = next(world.people)
    answer = await world.send(settlement(stranger, "10000.00"))
    assert answer.outcome == "under_review"
    assert [r.field for r in answer.reasons] == ["resident_id"]
    assert await world.balance() == 100_000_00
    [decided] = await world.events("aid.claim-decided")
    assert decided["member_id"] is None


async def test_a_stay_outside_the_cover_is_reviewed(world: World) -> None:
    _, resident_id = await world.member()
    before = await world.send(settlement(resident_id, "900.00", admitted_on=date(2024, 6, 1)))
    assert [r.rule for r in before.reasons] == [
        "the member had no mutual-aid cover on the day of admission"
    ]
    _, unpaid = await world.member(covered=False)
    assert (await world.send(settlement(unpaid, "900.00", ref="s-2"))).outcome == "under_review"


@pytest.mark.parametrize("order", list(itertools.permutations(["r0", "r1", "r2", "reverse3"], 4)))
async def test_revisions_pay_what_the_last_one_says_whatever_their_order(
    world: World, order: tuple[str, ...]
) -> None:
    _, resident_id = await world.member()
    messages = {
        "r0": settlement(resident_id, "10000.00"),
        "r1": settlement(resident_id, "6000.00", revision=1),
        "r2": settlement(resident_id, "12000.00", revision=2),
        "reverse3": reversal(revision=3),
    }
    # without the reversal, the highest correction stands
    for name in [n for n in order if n != "reverse3"]:
        await world.send(messages[name])
    async with world.uow() as unit:
        paid = await unit.session.scalar(select(func.sum(ClaimPayment.amount_cents)))
    assert paid == 5_750_00 == 100_000_00 - await world.balance()
    await world.send(messages["reverse3"])
    assert await world.balance() == 100_000_00
    async with world.uow() as unit:
        net = await unit.session.scalar(select(func.sum(ClaimPayment.amount_cents)))
        year = await unit.session.scalar(select(ClaimYear))
    assert net == 0
    assert year is not None
    assert year.paid_cents == 0


async def test_a_late_older_revision_is_superseded_and_changes_nothing(world: World) -> None:
    _, resident_id = await world.member()
    await world.send(settlement(resident_id, "8000.00", revision=2))
    late = await world.send(settlement(resident_id, "20000.00", revision=1))
    assert (late.outcome, late.payout_cents) == ("superseded", 3_750_00)
    assert await world.balance() == 100_000_00 - 3_750_00


async def test_a_correction_claws_back_only_the_difference(world: World, tmp_path: Path) -> None:
    _, resident_id = await world.member()
    await world.send(settlement(resident_id, "10000.00"))
    sink = SinkPayments(tmp_path / "payments.jsonl")
    assert await payments.pay_due(world.desk, world.uow, sink, Retries()) == 1  # 4,750 sent
    lower = await world.send(settlement(resident_id, "4000.00", revision=1))
    assert lower.payout_cents == 1_750_00
    [clawed] = await world.events("aid.claim-clawed-back")
    assert clawed["amount"] == "3000.00"  # the member owes it: it was paid
    assert await world.balance() == 100_000_00 - 1_750_00
    async with world.uow() as unit:
        kinds = [row.kind for row in await funds.ledger(unit, "claims", 10, None)]
    assert kinds == ["clawback", "payout", "opening"]


async def test_a_correction_before_the_payout_went_out_sends_less_instead(world: World) -> None:
    _, resident_id = await world.member()
    await world.send(settlement(resident_id, "10000.00"))
    await world.send(settlement(resident_id, "4000.00", revision=1))
    assert await world.events("aid.claim-clawed-back") == []  # nothing owed: nothing was sent
    async with world.uow() as unit:
        rows = list(await unit.session.scalars(select(ClaimPayment)))
    assert [(p.kind, p.status, p.amount_cents) for p in rows] == [("payout", "pending", 1_750_00)]
    reversed_ = await world.send(reversal(revision=2))
    assert reversed_.payout_cents == 0
    async with world.uow() as unit:
        rows = list(await unit.session.scalars(select(ClaimPayment)))
    assert [(p.status, p.amount_cents) for p in rows] == [("cancelled", 0)]
    assert await world.balance() == 100_000_00


async def test_the_yearly_cap_holds_across_a_members_claims(world: World) -> None:
    _, resident_id = await world.member()
    answers = [
        await world.send(settlement(resident_id, "20000.00", ref=f"s-{n}")) for n in range(5)
    ]
    assert [a.payout_cents for a in answers] == [9_750_00, 9_750_00, 9_750_00, 750_00, 0]
    async with world.uow() as unit:
        year = await unit.session.scalar(select(ClaimYear))
    assert year is not None
    assert year.paid_cents == TERMS.yearly_cap_cents


async def test_staff_decide_a_claim_above_the_auto_limit(world: World) -> None:
    _, resident_id = await world.member()
    big = await world.send(settlement(resident_id, "60000.00"))
    assert (big.outcome, [r.field for r in big.reasons]) == (
        "under_review",
        ["out_of_pocket_in_list"],
    )
    assert big.claim_id is not None
    async with world.uow() as unit:
        claim = await find_claim(unit, big.claim_id, for_update=True)
        with pytest.raises(Refused, match="say why"):
            await review.decide(world.desk, unit, claim, review.StaffDecision("reduce", "s-9"))
        decision = review.StaffDecision("reduce", "s-9", "receipts cover less", 25_000_00)
        await review.decide(world.desk, unit, claim, decision)
        assert (claim.status, claim.decided_by, claim.payout_cents) == (
            "approved",
            "staff",
            25_000_00,
        )
        with pytest.raises(Refused, match="not under review"):
            await review.decide(world.desk, unit, claim, review.StaffDecision("approve", "s-9"))
    assert await world.balance() == 75_000_00
    # a later correction of a claim staff decided goes back to them
    corrected = await world.send(settlement(resident_id, "61000.00", revision=1))
    assert "revision" in [r.field for r in corrected.reasons]
    assert corrected.payout_cents == 25_000_00


async def test_staff_reject_with_a_reason(world: World) -> None:
    stranger = next(world.people)
    answer = await world.send(settlement(stranger, "1000.00"))
    assert answer.claim_id is not None
    async with world.uow() as unit:
        claim = await find_claim(unit, answer.claim_id, for_update=True)
        with pytest.raises(Refused, match="only be rejected"):
            await review.decide(world.desk, unit, claim, review.StaffDecision("approve", "s-1"))
        await review.decide(
            world.desk, unit, claim, review.StaffDecision("reject", "s-1", "not a member")
        )
        assert claim.status == "rejected"
    rejected = [e for e in await world.events("aid.claim-decided") if e["decision"] == "rejected"]
    assert [r["rule"] for r in rejected[0]["reasons"]] == ["not a member"]
    # the bureau's last answer was under_review: it hears the decision on its own topic
    [told] = [
        (row.topic, json.loads(row.value)["data"])
        for row in await outbox_rows(world.uow.sessions)
        if b"aid.settlement-outcome" in row.value
    ]
    assert told[0] == "partner.aid.settlement-outcomes.v1.gz-medical-insurance"
    assert (told[1]["outcome"], told[1]["settlement_id"], told[1]["reasons"]) == (
        "rejected",
        "s-1",
        [{"field": "claim", "rule": "not a member"}],
    )


async def test_serious_illness_brings_condolence_once_per_episode(world: World) -> None:
    member_id, resident_id = await world.member()
    serious = DiagnosisCategory.SERIOUS_ILLNESS
    await world.send(settlement(resident_id, "8000.00", diagnosis=serious))
    await world.send(settlement(resident_id, "8000.00", ref="s-2", diagnosis=serious))
    [condolence] = await world.events("aid.illness-condolence-paid")
    assert (condolence["member_id"], condolence["amount"]) == (str(member_id), "1000.00")
    assert await world.balance("illness") == 1_000_00
    # the fund has one more condolence in it; the next episode takes it, the one after finds none
    _, other = await world.member()
    await world.send(settlement(other, "8000.00", ref="s-3", diagnosis=serious))
    _, third = await world.member()
    await world.send(settlement(third, "8000.00", ref="s-4", diagnosis=serious))
    assert len(await world.events("aid.illness-condolence-paid")) == 2
    assert await world.balance("illness") == 0


async def test_a_members_own_costs_past_the_line_open_one_relief_case(world: World) -> None:
    member_id, resident_id = await world.member()
    injured = await injury_case(world, resident_id)
    await injury_case(world, next(world.people))  # somebody else's
    for n in range(4):  # 4 x (19,000 - 9,250) = 39,000 of own costs after payouts
        await world.send(settlement(resident_id, "19000.00", ref=f"s-{n}"))
    [relief] = await world.events("aid.relief-case-opened")
    assert relief["member_id"] == str(member_id)
    assert relief["district_code"] == "440111"
    assert relief["linked_injury_cases"] == [str(injured)]  # linked, not opened again
    assert Decimal(relief["out_of_pocket_after_payouts"]) >= Decimal("30000.00")
    relief_id = uuid.UUID(relief["relief_id"])
    async with world.uow() as unit:
        await review.decide_relief(
            world.desk, unit, relief_id, granted_cents=5_000_00, note="困难救助", staff="s-4"
        )
        with pytest.raises(Refused, match="granted"):
            await review.decide_relief(
                world.desk, unit, relief_id, granted_cents=None, note="again", staff="s-4"
            )
        now = world.desk.clock.now()
        figures = await queries.summary(unit, "44", now - timedelta(days=1), now)
    assert (figures.total.relief_cases, figures.total.relief_granted_cents) == (1, 5_000_00)


async def test_payments_go_out_once_and_failures_are_retried_then_reported(
    world: World, tmp_path: Path
) -> None:
    _, resident_id = await world.member()
    await world.send(settlement(resident_id, "10000.00"))
    await world.send(settlement(resident_id, "3000.00", ref="s-2"))

    class Refusing:
        name = "refusing"
        calls = 0

        async def pay(self, order: PaymentOrder) -> None:
            self.calls += 1
            raise PaymentRefused("gateway answered 503")

    refusing, retries = Refusing(), Retries(attempts=2, first_delay=timedelta(seconds=30))
    assert await payments.pay_due(world.desk, world.uow, refusing, retries) == 0
    assert await payments.pay_due(world.desk, world.uow, refusing, retries) == 0  # not yet due
    world.desk.clock.advance(timedelta(seconds=31))
    assert await payments.pay_due(world.desk, world.uow, refusing, retries) == 0
    assert refusing.calls == 4
    failed = await world.events("aid.claim-payment-failed")
    assert sorted(f["attempts"] for f in failed) == [2, 2]

    _, other = await world.member()
    await world.send(settlement(other, "5000.00", ref="s-3"))
    sink = SinkPayments(tmp_path / "payments.jsonl")
    assert await payments.pay_due(world.desk, world.uow, sink, retries) == 1
    assert await payments.pay_due(world.desk, world.uow, sink, retries) == 0
    [paid] = await world.events("aid.claim-paid")
    [order] = payments.sink_records(tmp_path / "payments.jsonl")
    assert (
        (paid["payment_id"], paid["amount"])
        == (order.payment_id, order.amount)
        == (
            order.payment_id,
            "2250.00",
        )
    )


async def test_a_members_own_claim_is_reviewed_by_staff(world: World) -> None:
    member_id, _ = await world.member()
    figures = Figures(
        admitted_on=date(2024, 8, 1),
        discharged_on=date(2024, 8, 3),
        total_cents=9_000_00,
        basic_paid_cents=4_000_00,
        out_of_pocket_cents=3_000_00,
        diagnosis=DiagnosisCategory.GENERAL,
    )
    async with world.uow() as unit:
        claim = await review.member_claim(
            world.desk, unit, member_id, reference="hn-2024-1", figures=figures, hospital="海南"
        )
        again = await review.member_claim(
            world.desk, unit, member_id, reference="hn-2024-1", figures=figures, hospital="海南"
        )
        assert again is claim
        assert (claim.status, claim.proposed_cents) == ("under_review", 1_250_00)
        await review.decide(world.desk, unit, claim, review.StaffDecision("approve", "s-2"))
        assert claim.payout_cents == 1_250_00


async def test_the_fund_never_pays_past_its_balance(world: World) -> None:
    async with world.uow() as unit:
        fund = await unit.session.get(Fund, "claims")
        assert fund is not None
        fund.balance_cents = 5_000_00
    _, resident_id = await world.member()
    first = await world.send(settlement(resident_id, "10000.00"))
    second = await world.send(settlement(resident_id, "10000.00", ref="s-2"))
    assert first.outcome == "approved"
    assert (second.outcome, [r.rule for r in second.reasons]) == (
        "under_review",
        ["the claims fund cannot pay it now"],
    )
    assert await world.balance() == 250_00
    async with world.uow() as unit:
        spent = await unit.session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "payout")
        )
    assert spent == -4_750_00


async def test_reconciliation_finds_what_the_channel_and_aid_disagree_on(
    world: World, tmp_path: Path
) -> None:
    for n in range(3):
        _, resident_id = await world.member()
        await world.send(settlement(resident_id, f"{2000 + n * 1000}.00", ref=f"s-{n}"))
    statement = tmp_path / "payments.jsonl"
    sink = SinkPayments(statement)
    retries = Retries()
    assert await payments.pay_due(world.desk, world.uow, sink, retries, limit=2) == 2
    ours = await reconcile.stored(f"sqlite+aiosqlite:///{tmp_path}/test.db")
    report = reconcile.compare(ours, payments.sink_records(statement))
    assert [p.status for p in report.not_paid] == ["pending"]  # the third, not sent yet
    assert report.never_received == report.without_claim == report.amount_differs == []

    [first, second] = payments.sink_records(statement)
    stranger = replace(first, payment_id=str(uuid.uuid4()))
    altered = replace(second, amount="1.00")
    theirs = [first, first, altered, stranger]
    report = reconcile.compare(ours, theirs)
    assert report.received_twice == [first.payment_id]
    assert report.without_claim == [stranger]
    assert [(p.payment_id, o.amount) for p, o in report.amount_differs] == [
        (second.payment_id, "1.00")
    ]
    assert report.never_received == []
    missing = reconcile.compare(ours, [second])
    assert [p.payment_id for p in missing.never_received] == [first.payment_id]
    assert not missing.clean


def api_client(world: World, caller: dict[str, Caller]) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, ERROR_STATUSES)
    app.include_router(claims_api.router(world.uow, world.desk))
    app.dependency_overrides[authenticated] = lambda: caller["as"]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://aid")


async def test_staff_of_the_region_decide_over_http_and_members_see_only_their_own(
    world: World,
) -> None:
    member_id, resident_id = await world.member()
    big = await world.send(settlement(resident_id, "60000.00"))
    other_district = Caller("sz-1", frozenset({Role.STAFF}), union="440304")
    guangzhou = Caller("gz-1", frozenset({Role.STAFF}), union="440100")
    caller = {"as": other_district}
    async with api_client(world, caller) as client:
        assert (await client.get("/v1/claims")).json() == []  # Shenzhen's queue
        decide = f"/v1/claims/{big.claim_id}/decision"
        assert (await client.post(decide, json={"action": "approve"})).status_code == 404
        caller["as"] = guangzhou
        [queued] = (await client.get("/v1/claims")).json()
        assert queued["reasons"][0]["field"] == "out_of_pocket_in_list"
        no_reason = await client.post(decide, json={"action": "reject"})
        assert no_reason.status_code == 422
        decided = await client.post(decide, json={"action": "approve"})
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert (body["status"], body["payout"], body["decided_by"]) == (
            "approved",
            "30000.00",
            "staff",
        )
        assert [h["actor"] for h in body["history"]] == ["auto", "gz-1"]
        assert (await client.post(decide, json={"action": "approve"})).status_code == 409

        caller["as"] = Caller("app-1", frozenset({Role.MEMBER}), member_id=member_id)
        [mine] = (await client.get(f"/v1/members/{member_id}/claims")).json()
        assert mine["claim_id"] == str(big.claim_id)
        assert (await client.get(f"/v1/claims/{big.claim_id}")).status_code == 200
        caller["as"] = Caller("app-2", frozenset({Role.MEMBER}), member_id=uuid.uuid4())
        assert (await client.get(f"/v1/claims/{big.claim_id}")).status_code == 404
        assert (await client.get(f"/v1/members/{member_id}/claims")).status_code == 404

        caller["as"] = guangzhou
        summary = (await client.get("/v1/claims-summary", params={"days": 366})).json()
        assert summary["total"]["approved_by_staff"] == 1
        assert summary["total"]["payout"] == "30000.00"
        assert list(summary["by_district"]) == ["440111"]
        assert list(summary["by_city"]) == ["440100"]


async def test_a_correction_naming_another_person_leaves_the_payment_where_it_was(
    world: World,
) -> None:
    first_id, first = await world.member()
    _, second = await world.member()
    paid = await world.send(settlement(first, "10000.00"))
    moved = await world.send(settlement(second, "10000.00", revision=1))
    assert (moved.outcome, moved.payout_cents) == ("under_review", paid.payout_cents)
    assert "the revision moves a paid stay to another person" in moved.reasons[-1].rule
    assert moved.claim_id is not None
    async with world.uow() as unit:
        claim = await find_claim(unit, moved.claim_id, for_update=True)
        assert claim.member_id == first_id
        decision = review.StaffDecision("reject", "s-3", "the bureau named the wrong person")
        await review.decide(world.desk, unit, claim, decision)
        assert (claim.status, claim.payout_cents) == ("rejected", 0)
    async with world.uow() as unit:
        [payment] = list(await unit.session.scalars(select(ClaimPayment)))
    # the first member's payout, not sent yet, is not sent at all
    assert (payment.member_id, payment.status, payment.amount_cents) == (first_id, "cancelled", 0)
    assert await world.balance() == 100_000_00
