"""Who hears of course seats, and what they are told."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gonghui_contracts import EventPayload
from gonghui_contracts.events import (
    AttendanceRecorded,
    AwardRecommended,
    CandidateSelected,
    CraftsmanNominated,
    CraftsmanTitleRecorded,
    CraftsmanTitleRevoked,
    DegreeAidGranted,
    DegreeAidPaid,
    DegreeAidRanked,
    DegreeAidScreened,
    HoldExpired,
    LadderQuotaExhausted,
    MedalAwarded,
    OfferLapsed,
    SeatConfirmed,
    SeatHeld,
    SeatReleased,
    SessionSoldOut,
    WaitlistJoined,
    WaitlistOffered,
)
from notify import domain, handlers, templates

SEAT, SESSION, COURSE, MEMBER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
WHO = f"member:{MEMBER}"
STARTS = datetime(2026, 12, 8, 11, 30, tzinfo=UTC)  # 19:30 in Shenzhen
TITLE, CAMPUS = "深工夜校·短视频运营", "福田校区"


def released(reason: str) -> SeatReleased:
    return SeatReleased(
        seat_id=SEAT,
        session_id=SESSION,
        member_id=MEMBER,
        was="confirmed",
        reason=reason,
        course_title=TITLE,
        starts_at=STARTS,
    )


def sold_out() -> SessionSoldOut:
    opened = STARTS - timedelta(days=2)
    return SessionSoldOut(
        session_id=SESSION,
        course_id=COURSE,
        course_title=TITLE,
        region_code="440304",
        capacity=300,
        opened_at=opened,
        sold_out_at=opened + timedelta(minutes=4, seconds=50),
    )


CASES: list[tuple[EventPayload, list[tuple[str, str]]]] = [
    (
        SeatConfirmed(
            seat_id=SEAT,
            session_id=SESSION,
            course_id=COURSE,
            member_id=MEMBER,
            course_title=TITLE,
            campus=CAMPUS,
            starts_at=STARTS,
            via="hold",
        ),
        [(WHO, "seat_confirmed")],
    ),
    (
        WaitlistOffered(
            seat_id=SEAT,
            session_id=SESSION,
            member_id=MEMBER,
            offer_until=STARTS - timedelta(hours=20),
            course_title=TITLE,
            campus=CAMPUS,
            starts_at=STARTS,
        ),
        [(WHO, "seat_offered")],
    ),
    (
        OfferLapsed(seat_id=SEAT, session_id=SESSION, member_id=MEMBER, course_title=TITLE),
        [(WHO, "seat_offer_lapsed")],
    ),
    (HoldExpired(seat_id=SEAT, session_id=SESSION, member_id=MEMBER), [(WHO, "seat_hold_expired")]),
    (released("session_cancelled"), [(WHO, "session_cancelled")]),
    (released("cancelled_by_member"), []),
    (released("member_left"), []),
    (sold_out(), [("union:440304-county", "session_sold_out")]),
    (
        SeatHeld(
            seat_id=SEAT, session_id=SESSION, course_id=COURSE, member_id=MEMBER, hold_until=STARTS
        ),
        [],  # the app shows the hold at once: no notice
    ),
    (WaitlistJoined(seat_id=SEAT, session_id=SESSION, member_id=MEMBER, position=3), []),
    (AttendanceRecorded(seat_id=SEAT, session_id=SESSION, member_id=MEMBER, attended=True), []),
    (
        DegreeAidScreened(
            application_id=SEAT,
            cycle_id=COURSE,
            member_id=MEMBER,
            passed=False,
            reason="非本市职工",
        ),
        [(WHO, "degree_aid_not_passed")],
    ),
    (DegreeAidScreened(application_id=SEAT, cycle_id=COURSE, member_id=MEMBER, passed=True), []),
    (DegreeAidRanked(cycle_id=COURSE, cycle_name="河源2025", ranked=280, grants=66), []),
    (
        DegreeAidGranted(
            application_id=SEAT,
            cycle_id=COURSE,
            cycle_name="河源市2025年求学圆梦",
            member_id=MEMBER,
            rank=12,
            amount="7500.00",
        ),
        [(WHO, "degree_aid_granted")],
    ),
    (
        DegreeAidPaid(application_id=SEAT, cycle_id=COURSE, member_id=MEMBER, amount="7500.00"),
        [(WHO, "degree_aid_paid")],
    ),
]


@pytest.mark.parametrize(("payload", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_each_seat_event_tells_the_right_people(
    payload: EventPayload, expected: list[tuple[str, str]]
) -> None:
    requests = domain.notices_for(payload)
    assert [(r.recipient, r.template) for r in requests] == expected
    for request in requests:
        for locale in ("zh", "en"):
            assert templates.render(request.template, locale, request.values)[0] == locale


LADDER: list[tuple[EventPayload, list[tuple[str, str]]]] = [
    (
        CraftsmanNominated(
            nomination_id=SEAT,
            member_id=MEMBER,
            tier="city",
            year=2025,
            region_code="440100",
            source="competition",
            source_ref="职业健康技能大赛",
        ),
        [(WHO, "craftsman_nominated")],
    ),
    (
        CandidateSelected(
            nomination_id=SEAT, member_id=MEMBER, tier="city", year=2025, region_code="440100"
        ),
        [(WHO, "craftsman_candidate")],
    ),
    (
        LadderQuotaExhausted(region_code="440100", tier="city", year=2025, quota=100),
        [("union:440100-county", "ladder_quota_exhausted")],
    ),
    (
        CraftsmanTitleRecorded(
            title_id=SEAT,
            member_id=MEMBER,
            tier="national",
            year=2025,
            source="decided_elsewhere",
            reference="全总〔2025〕3号",
        ),
        [(WHO, "craftsman_title")],
    ),
    (CraftsmanTitleRevoked(title_id=SEAT, member_id=MEMBER, tier="city", reason="r"), []),
    (
        MedalAwarded(
            competition_id=COURSE,
            title="职业健康技能大赛",
            entrant_id=SEAT,
            entrant_name="广州地铁职业健康队",
            medal="gold",
            version=1,
            members=[MEMBER, SESSION],
        ),
        [(WHO, "competition_medal"), (f"member:{SESSION}", "competition_medal")],
    ),
    (
        AwardRecommended(
            competition_id=COURSE,
            title="职业健康技能大赛",
            entrant_id=SEAT,
            entrant_name="广州地铁职业健康队",
            region_code="440100",
            award="五一劳动奖章",
            version=1,
        ),
        [("union:440100-county", "award_recommendation")],
    ),
]


@pytest.mark.parametrize(("payload", "expected"), LADDER, ids=lambda v: type(v).__name__)
def test_each_ladder_event_tells_the_right_people(
    payload: EventPayload, expected: list[tuple[str, str]]
) -> None:
    requests = domain.notices_for(payload)
    assert [(r.recipient, r.template) for r in requests] == expected
    for request in requests:
        for locale in ("zh", "en"):
            assert templates.render(request.template, locale, request.values)[0] == locale
    if isinstance(payload, CraftsmanTitleRecorded):
        [request] = requests
        assert "大国工匠" in templates.render(request.template, "zh", request.values)[1]


def test_an_offer_says_until_when_in_local_time_and_a_sell_out_how_fast() -> None:
    offer = CASES[1][0]
    [request] = domain.notices_for(offer)
    _, text = templates.render(request.template, "zh", request.values)
    assert "12月07日23:30前确认" in text  # 20 hours before 19:30 local on the 8th
    assert TITLE in text
    [request] = domain.notices_for(sold_out())
    _, text = templates.render(request.template, "zh", request.values)
    assert "300个名额开放4分钟内已约满" in text


def test_a_grant_says_the_rank_and_the_amount_and_a_failure_why() -> None:
    granted = CASES[-2][0]
    [request] = domain.notices_for(granted)
    text = templates.render(request.template, "zh", request.values)[1]
    assert "排名第12位" in text
    assert "7500.00元" in text
    [request] = domain.notices_for(CASES[-5][0])
    assert "非本市职工" in templates.render(request.template, "zh", request.values)[1]


def test_notify_reads_the_skills_topics() -> None:
    skills = {"seats", "degree-aid", "ladder", "competitions"}
    assert {f"skills.{name}.v1" for name in skills} <= set(handlers.TOPICS_READ)
