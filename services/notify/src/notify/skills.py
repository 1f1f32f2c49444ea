"""Which notices a course seat event causes. Pure: no I/O.

Members hear that their seat is confirmed, that a seat is offered to them (and until when), that
an offer lapsed, that a hold ran out, and that a session they were on was cancelled. The duty
desk of the union where a session is held hears that it sold out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gonghui_contracts.events import (
    HoldExpired,
    OfferLapsed,
    SeatConfirmed,
    SeatReleased,
    SessionSoldOut,
    WaitlistOffered,
)
from gonghui_contracts.values import local_federation
from notify.recipients import NoticeRequest, member, union
from notify.templates import Value
from notify.wording import ref, when


def skills_notices(payload: Any) -> list[NoticeRequest] | None:
    """The notices a seat event calls for; None if `payload` is not one of them."""
    tell = TELL.get(type(payload))
    return None if tell is None else tell(payload)


def _confirmed(payload: SeatConfirmed) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "course_title": payload.course_title,
        "campus": payload.campus,
        "starts_at": when(payload.starts_at),
        "seat_ref": ref(payload.seat_id),
    }
    return [NoticeRequest(member(payload.member_id), "seat_confirmed", values)]


def _offered(payload: WaitlistOffered) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "course_title": payload.course_title,
        "campus": payload.campus,
        "starts_at": when(payload.starts_at),
        "offer_until": when(payload.offer_until),
    }
    return [NoticeRequest(member(payload.member_id), "seat_offered", values)]


def _lapsed(payload: OfferLapsed) -> list[NoticeRequest]:
    values: dict[str, Value] = {"course_title": payload.course_title}
    return [NoticeRequest(member(payload.member_id), "seat_offer_lapsed", values)]


def _expired(payload: HoldExpired) -> list[NoticeRequest]:
    return [NoticeRequest(member(payload.member_id), "seat_hold_expired", {})]


def _released(payload: SeatReleased) -> list[NoticeRequest]:
    if payload.reason != "session_cancelled":
        return []  # the member gave it up, or left the union: nothing to tell
    values: dict[str, Value] = {
        "course_title": payload.course_title,
        "starts_at": when(payload.starts_at),
    }
    return [NoticeRequest(member(payload.member_id), "session_cancelled", values)]


def _sold_out(payload: SessionSoldOut) -> list[NoticeRequest]:
    union_id, _ = local_federation(payload.region_code)
    minutes = max(0, int((payload.sold_out_at - payload.opened_at).total_seconds() // 60))
    values: dict[str, Value] = {
        "course_title": payload.course_title,
        "capacity": str(payload.capacity),
        "minutes": str(minutes),
        "session_ref": ref(payload.session_id),
    }
    return [NoticeRequest(union(union_id), "session_sold_out", values)]


TELL: dict[type, Callable[[Any], list[NoticeRequest]]] = {
    SeatConfirmed: _confirmed,
    WaitlistOffered: _offered,
    OfferLapsed: _lapsed,
    HoldExpired: _expired,
    SeatReleased: _released,
    SessionSoldOut: _sold_out,
}
