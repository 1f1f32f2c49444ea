"""Who hears of course seats, and what they are told."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gonghui_contracts import EventPayload
from gonghui_contracts.events import (
    AttendanceRecorded,
    HoldExpired,
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


def test_an_offer_says_until_when_in_local_time_and_a_sell_out_how_fast() -> None:
    offer = CASES[1][0]
    [request] = domain.notices_for(offer)
    _, text = templates.render(request.template, "zh", request.values)
    assert "12月07日23:30前确认" in text  # 20 hours before 19:30 local on the 8th
    assert TITLE in text
    [request] = domain.notices_for(sold_out())
    _, text = templates.render(request.template, "zh", request.values)
    assert "300个名额开放4分钟内已约满" in text


def test_notify_reads_the_seats_topic() -> None:
    assert "skills.seats.v1" in handlers.TOPICS
