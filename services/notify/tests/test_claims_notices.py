import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gonghui_contracts import Envelope, EventPayload, RejectionReason
from gonghui_contracts.events import (
    ClaimClawedBack,
    ClaimDecided,
    ClaimPaid,
    ClaimPaymentFailed,
    IllnessCondolencePaid,
    MemberLeft,
    ReliefCaseOpened,
)
from gonghui_contracts.topics import BY_NAME
from notify import claims, domain, handlers, templates
from notify.models import Base, Notice
from servicekit import UnitOfWork
from servicekit.testing import sqlite_sessions

CLAIM, PAYMENT, RELIEF, MEMBER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
WHO, DESK, OPERATORS = f"member:{MEMBER}", "union:440106-county", "operators:aid-claims"
NO_COVER = RejectionReason(
    field="admitted_on", rule="the member had no mutual-aid cover on the day of admission"
)
ABOVE_LIMIT = RejectionReason(
    field="out_of_pocket_in_list", rule="the payout is above the limit approved without review"
)
NOT_A_MEMBER = RejectionReason(field="resident_id", rule="the insured person is not a member")


def decided(
    decision: str,
    payout: str = "0.00",
    change: str = "0.00",
    *,
    member_id: uuid.UUID | None = MEMBER,
    reasons: tuple[RejectionReason, ...] = (),
    district_code: str | None = "440106",
) -> ClaimDecided:
    return ClaimDecided(
        claim_id=CLAIM,
        member_id=member_id,
        origin="settlement",
        decision=decision,
        decided_by="auto",
        policy_year=2026,
        payout=Decimal(payout),
        change=change,
        reasons=list(reasons),
        city_code="440100",
        district_code=district_code,
    )


def paid(kind: str) -> ClaimPaid:
    return ClaimPaid(
        claim_id=CLAIM, payment_id=PAYMENT, member_id=MEMBER, amount=Decimal("1680.00"), kind=kind
    )


def payment_failed() -> ClaimPaymentFailed:
    return ClaimPaymentFailed(
        claim_id=CLAIM,
        payment_id=PAYMENT,
        member_id=MEMBER,
        amount=Decimal("1680.00"),
        attempts=5,
        reason="webhook answered 503",
    )


def relief() -> ReliefCaseOpened:
    return ReliefCaseOpened(
        relief_id=RELIEF,
        member_id=MEMBER,
        union_id="440106-county",
        district_code="440106",
        policy_year=2026,
        out_of_pocket_after_payouts=Decimal("23450.00"),
    )


CASES: list[tuple[EventPayload, list[tuple[str, str]]]] = [
    (decided("approved", "1680.00", "1680.00"), [(WHO, "claim_approved")]),
    (decided("approved", "1800.00", "120.00"), [(WHO, "claim_approved_changed")]),
    (decided("approved", "1500.00", "-180.00"), [(WHO, "claim_approved_changed")]),
    (decided("approved"), [(WHO, "claim_approved_nothing_due")]),
    (
        decided("under_review", reasons=(ABOVE_LIMIT,)),
        [(WHO, "claim_under_review"), (DESK, "claim_review_task")],
    ),
    (decided("under_review", district_code=None), [(WHO, "claim_under_review")]),
    (
        decided("under_review", member_id=None, reasons=(NOT_A_MEMBER,)),
        [(DESK, "claim_review_task")],
    ),
    (decided("under_review", member_id=None, district_code=None), []),
    (decided("rejected", reasons=(NO_COVER, ABOVE_LIMIT)), [(WHO, "claim_rejected")]),
    (decided("rejected"), [(WHO, "claim_rejected")]),
    (decided("rejected", member_id=None, reasons=(NOT_A_MEMBER,)), []),
    (decided("reversed", change="-1680.00"), [(WHO, "claim_reversed")]),
    (paid("payout"), [(WHO, "claim_paid")]),
    (paid("condolence"), [(WHO, "claim_condolence_paid")]),
    (payment_failed(), [(OPERATORS, "claim_payment_failed")]),
    (
        ClaimClawedBack(claim_id=CLAIM, member_id=MEMBER, amount=Decimal("180.00")),
        [(WHO, "claim_clawed_back")],
    ),
    (
        IllnessCondolencePaid(
            claim_id=CLAIM,
            member_id=MEMBER,
            amount=Decimal("2000.00"),
            fund_id="illness-2026",
            policy_year=2026,
        ),
        [(WHO, "illness_condolence_paid")],
    ),
    (relief(), [(WHO, "relief_case_opened"), (DESK, "relief_case_task")]),
]


@pytest.mark.parametrize(("payload", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_each_claim_event_tells_the_right_people(
    payload: EventPayload, expected: list[tuple[str, str]]
) -> None:
    requests = domain.notices_for(payload)
    assert [(r.recipient, r.template) for r in requests] == expected
    for request in requests:  # every value the template needs is there, in both languages
        for locale in ("zh", "en"):
            used, _ = templates.render(request.template, locale, request.values)
            assert used == locale


def zh(payload: EventPayload) -> list[str]:
    return [templates.render(r.template, "zh", r.values)[1] for r in domain.notices_for(payload)]


def en(payload: EventPayload) -> list[str]:
    return [templates.render(r.template, "en", r.values)[1] for r in domain.notices_for(payload)]


def test_the_member_hears_what_the_claim_pays_and_what_a_correction_changed() -> None:
    [text] = zh(decided("approved", "1680.00", "1680.00"))
    assert "1680.00元" in text
    assert str(CLAIM)[:8] in text
    [text] = zh(decided("approved", "1800.00", "120.00"))
    assert "增加120.00元" in text
    assert "合计1800.00元" in text
    [text] = zh(decided("approved", "1500.00", "-180.00"))
    assert "减少180.00元" in text
    assert "-" not in text
    assert "180.00 yuan less" in en(decided("approved", "1500.00", "-180.00"))[0]


def test_a_rejection_gives_the_first_reasons_rule() -> None:
    [text] = zh(decided("rejected", reasons=(NO_COVER, ABOVE_LIMIT)))
    assert NO_COVER.rule in text
    assert ABOVE_LIMIT.rule not in text
    [text] = zh(decided("rejected"))
    assert "不符合互助保障条件" in text


def test_staff_reviewing_a_claim_hear_every_reason_at_the_district_union() -> None:
    [_, to_staff] = zh(decided("under_review", reasons=(NO_COVER, ABOVE_LIMIT)))
    assert NO_COVER.rule in to_staff
    assert ABOVE_LIMIT.rule in to_staff
    assert "医保结算" in to_staff
    [_, desk] = domain.notices_for(decided("under_review", district_code="440306"))
    assert desk.recipient == "union:440306-county"


def test_money_paid_clawed_back_and_granted_is_told_in_yuan() -> None:
    assert "1680.00元已到账" in zh(paid("payout"))[0]
    assert "慰问金1680.00元已到账" in zh(paid("condolence"))[0]
    claw = ClaimClawedBack(claim_id=CLAIM, member_id=MEMBER, amount=Decimal("180.00"))
    assert "180.00元须退回" in zh(claw)[0]


def test_relief_tells_the_member_the_costs_and_the_desk_only_whom_and_which_case() -> None:
    to_member, to_staff = zh(relief())
    assert "23450.00元" in to_member
    assert "天河区总工会" in to_member
    assert "23450" not in to_staff
    assert str(MEMBER)[:8] in to_staff
    assert str(RELIEF)[:8] in to_staff


def test_a_failed_payment_tells_operators_what_to_look_into_and_nothing_of_the_member() -> None:
    [request] = domain.notices_for(payment_failed())
    [text] = zh(payment_failed())
    assert str(PAYMENT)[:8] in text
    assert "5次" in text
    assert "webhook answered 503" in text
    for said in (request.recipient, *zh(payment_failed()), *en(payment_failed())):
        assert str(MEMBER) not in said
        assert str(MEMBER)[:8] not in said


def test_english_texts_have_no_chinese_but_the_unions_name() -> None:
    for payload, _ in CASES:
        for text in en(payload):
            words = text.replace("天河区总工会", "")
            assert not any("\u4e00" <= char <= "\u9fff" for char in words), text


def test_claim_events_are_claims_and_others_are_not() -> None:
    assert claims.claims_notices(paid("payout")) is not None
    left = MemberLeft(member_id=MEMBER, union_id="u", reason="r", left_on=date(2026, 12, 1))
    assert claims.claims_notices(left) is None


def test_notify_reads_the_claims_topic_and_it_carries_every_event_told_of() -> None:
    assert "aid.claims.v1" in handlers.TOPICS_READ
    carried = set(BY_NAME["aid.claims.v1"].carries)
    assert {type(payload) for payload, expected in CASES if expected} <= carried


@pytest.fixture
async def uow(tmp_path: Path) -> Any:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        yield UnitOfWork(sessions, "notify")


async def test_a_claim_under_review_is_recorded_once_for_the_member_and_once_for_the_desk(
    uow: UnitOfWork,
) -> None:
    event = Envelope.wrap(
        decided("under_review", reasons=(ABOVE_LIMIT,)), key=str(MEMBER), producer="aid"
    )
    [subscription] = [s for s in handlers.subscriptions("zh") if s.name == "aid.claims.v1"]
    handle = subscription.handler_of(event.event_type)
    assert handle is not None
    for _ in range(2):  # the event comes again: nobody is told twice
        async with uow() as unit:
            await handle(unit, [event])
    async with uow.sessions() as session:
        notices = (await session.scalars(select(Notice).order_by(Notice.recipient))).all()
    assert [(n.recipient, n.template, n.locale) for n in notices] == [
        (WHO, "claim_under_review", "zh"),
        (DESK, "claim_review_task", "zh"),
    ]
    assert all(n.cause_event_id == event.event_id for n in notices)
