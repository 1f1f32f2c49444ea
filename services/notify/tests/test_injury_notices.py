import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from gonghui_contracts import EventPayload
from gonghui_contracts.events import (
    CaseReferredToLegal,
    CondolencePaid,
    FollowUpDue,
    FollowUpEscalated,
    FollowUpsScheduled,
    InjuryCaseOpened,
    VisitDueSoon,
    VisitorAssigned,
    VisitOverdue,
    VisitRecorded,
    VisitUnassigned,
)
from notify import domain, templates

CASE = uuid.uuid4()
DUE = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)  # 10:30 in Shenzhen
WORKER, VISITOR, UNION = f"injured:{CASE}", "staff:sz-v-07", "union:440306-county"


def assigned(attempt: int) -> VisitorAssigned:
    return VisitorAssigned(
        case_id=CASE,
        visitor_id="sz-v-07",
        visitor_name="陈志强",
        hospital_id="sz-h-016",
        hospital_name="深圳市宝安区骨科医院",
        attempt=attempt,
        accept_by=DUE,
        visit_due_at=DUE,
    )


CASES: list[tuple[EventPayload, list[tuple[str, str]]]] = [
    (
        InjuryCaseOpened(
            case_id=CASE,
            hospital_id="sz-h-016",
            district_code="440306",
            union_id="440306-county",
            industry="manufacturing",
            employer_code="91440300708461136T",
            injury_kind="fracture",
            severity="serious",
            admission="admitted",
            injured_on=date(2026, 11, 27),
            reported_at=DUE,
            visit_due_at=DUE,
        ),
        [(WORKER, "injury_case_opened")],
    ),
    (assigned(1), [(VISITOR, "visit_assignment"), (WORKER, "injury_visitor_assigned")]),
    (assigned(2), [(VISITOR, "visit_assignment")]),
    (
        VisitDueSoon(case_id=CASE, visitor_id="sz-v-07", visit_due_at=DUE),
        [(VISITOR, "visit_due_soon")],
    ),
    (
        VisitOverdue(
            case_id=CASE,
            union_id="440306-county",
            district_code="440306",
            visitor_id=None,
            visit_due_at=DUE,
        ),
        [(UNION, "visit_overdue")],
    ),
    (
        VisitUnassigned(
            case_id=CASE, union_id="440306-county", district_code="440306", visit_due_at=DUE
        ),
        [(UNION, "visit_unassigned")],
    ),
    (
        CondolencePaid(
            case_id=CASE, amount=Decimal(500), fund_id="f", severity="serious", admission="admitted"
        ),
        [(WORKER, "condolence_paid")],
    ),
    (
        FollowUpsScheduled(
            case_id=CASE,
            discharged_on=date(2026, 12, 1),
            recorded_by="hospital",
            due_dates=[date(2026, 12, 8), date(2026, 12, 31)],
        ),
        [(WORKER, "follow_ups_scheduled")],
    ),
    (
        FollowUpDue(case_id=CASE, sequence=1, due_on=date(2026, 12, 8), visitor_id="sz-v-07"),
        [(WORKER, "follow_up_due"), (VISITOR, "follow_up_task")],
    ),
    (
        FollowUpEscalated(
            case_id=CASE, sequence=1, due_on=date(2026, 12, 8), union_id="440306-county"
        ),
        [(UNION, "follow_up_escalated")],
    ),
    (
        VisitRecorded(case_id=CASE, visitor_id="sz-v-07", visited_at=DUE, within_sla=True),
        [],
    ),
    (
        CaseReferredToLegal(
            case_id=CASE, referral_id=uuid.uuid4(), problem="employer_refuses", raised_by="visit"
        ),
        [(WORKER, "legal_referral")],
    ),
]


@pytest.mark.parametrize(("payload", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_each_injury_event_tells_the_right_people(
    payload: EventPayload, expected: list[tuple[str, str]]
) -> None:
    requests = domain.notices_for(payload)
    assert [(r.recipient, r.template) for r in requests] == expected
    for request in requests:  # every value the template needs is there, in both languages
        for locale in ("zh", "en"):
            templates.render(request.template, locale, request.values)


def test_times_are_told_in_shenzhen_time_and_the_worker_hears_the_visitors_name() -> None:
    (_, told) = domain.notices_for(assigned(1))
    _, text = templates.render(told.template, "zh", told.values)
    assert "陈志强" in text
    assert "11月28日10:30" in text


def test_days_and_times_are_said_the_way_of_each_language() -> None:
    (_, told) = domain.notices_for(assigned(1))
    assert "28 Nov 10:30" in templates.render(told.template, "en", told.values)[1]
    scheduled = next(p for p, _ in CASES if isinstance(p, FollowUpsScheduled))
    [request] = domain.notices_for(scheduled)
    assert "12月8日、12月31日" in templates.render(request.template, "zh", request.values)[1]
    assert "8 Dec, 31 Dec" in templates.render(request.template, "en", request.values)[1]
