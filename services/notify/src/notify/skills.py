"""Which notices a course seat event causes. Pure: no I/O.

Members hear that their seat is confirmed, that a seat is offered to them (and until when), that
an offer lapsed, that a hold ran out, and that a session they were on was cancelled; of their
degree-aid application, a failed screening (with the reason), the grant and its payment; of
the craftsman ladder, their nomination, selection as a candidate and title; a competition's
medal. The duty desk of the union where a session is held hears that it sold out, that of a
region that its yearly quota of a tier is used up, and the organising union whom a competition
recommends for its award.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gonghui_contracts.events import (
    AwardRecommended,
    CandidateSelected,
    CraftsmanNominated,
    CraftsmanTitleRecorded,
    DegreeAidGranted,
    DegreeAidPaid,
    DegreeAidScreened,
    HoldExpired,
    LadderQuotaExhausted,
    MedalAwarded,
    OfferLapsed,
    SeatConfirmed,
    SeatReleased,
    SessionSoldOut,
    WaitlistOffered,
)
from gonghui_contracts.values import local_federation
from notify.legal import Label
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


def _screened(payload: DegreeAidScreened) -> list[NoticeRequest]:
    if payload.passed:
        return []  # what counts is the ranking: told with the grant
    values: dict[str, Value] = {"reason": payload.reason or ""}
    return [NoticeRequest(member(payload.member_id), "degree_aid_not_passed", values)]


def _granted(payload: DegreeAidGranted) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "cycle_name": payload.cycle_name,
        "rank": str(payload.rank),
        "amount": str(payload.amount),
    }
    return [NoticeRequest(member(payload.member_id), "degree_aid_granted", values)]


def _grant_paid(payload: DegreeAidPaid) -> list[NoticeRequest]:
    values: dict[str, Value] = {"amount": str(payload.amount)}
    return [NoticeRequest(member(payload.member_id), "degree_aid_paid", values)]


TIERS: dict[str, Label] = {
    "enterprise": {"zh": "企业工匠", "en": "enterprise craftsman"},
    "district": {"zh": "区级工匠", "en": "district craftsman"},
    "industry": {"zh": "行业工匠", "en": "industry craftsman"},
    "city": {"zh": "市级工匠（羊城工匠）", "en": "city craftsman"},
    "province": {"zh": "南粤工匠", "en": "Guangdong craftsman"},
    "national": {"zh": "大国工匠", "en": "national craftsman"},
}


def _nominated(payload: CraftsmanNominated) -> list[NoticeRequest]:
    values: dict[str, Value] = {"tier": TIERS[payload.tier], "year": str(payload.year)}
    return [NoticeRequest(member(payload.member_id), "craftsman_nominated", values)]


def _candidate(payload: CandidateSelected) -> list[NoticeRequest]:
    values: dict[str, Value] = {"tier": TIERS[payload.tier], "year": str(payload.year)}
    return [NoticeRequest(member(payload.member_id), "craftsman_candidate", values)]


def _title(payload: CraftsmanTitleRecorded) -> list[NoticeRequest]:
    values: dict[str, Value] = {"tier": TIERS[payload.tier], "reference": payload.reference}
    return [NoticeRequest(member(payload.member_id), "craftsman_title", values)]


def _quota_used_up(payload: LadderQuotaExhausted) -> list[NoticeRequest]:
    union_id, _ = local_federation(payload.region_code)
    values: dict[str, Value] = {
        "tier": TIERS[payload.tier],
        "year": str(payload.year),
        "quota": str(payload.quota),
    }
    return [NoticeRequest(union(union_id), "ladder_quota_exhausted", values)]


MEDALS: dict[str, Label] = {
    "gold": {"zh": "金奖", "en": "gold"},
    "silver": {"zh": "银奖", "en": "silver"},
    "bronze": {"zh": "铜奖", "en": "bronze"},
}


def _medal(payload: MedalAwarded) -> list[NoticeRequest]:
    values: dict[str, Value] = {"title": payload.title, "medal": MEDALS[payload.medal]}
    if payload.version > 1:  # results scored again: say these are the ones that stand
        values["title"] = f"{payload.title}（v{payload.version}）"
    return [NoticeRequest(member(m), "competition_medal", values) for m in payload.members]


def _recommended(payload: AwardRecommended) -> list[NoticeRequest]:
    union_id, _ = local_federation(payload.region_code)
    values: dict[str, Value] = {
        "title": payload.title,
        "entrant": payload.entrant_name,
        "award": payload.award,
    }
    return [NoticeRequest(union(union_id), "award_recommendation", values)]


TELL: dict[type, Callable[[Any], list[NoticeRequest]]] = {
    MedalAwarded: _medal,
    AwardRecommended: _recommended,
    CraftsmanNominated: _nominated,
    CandidateSelected: _candidate,
    CraftsmanTitleRecorded: _title,
    LadderQuotaExhausted: _quota_used_up,
    DegreeAidScreened: _screened,
    DegreeAidGranted: _granted,
    DegreeAidPaid: _grant_paid,
    SeatConfirmed: _confirmed,
    WaitlistOffered: _offered,
    OfferLapsed: _lapsed,
    HoldExpired: _expired,
    SeatReleased: _released,
    SessionSoldOut: _sold_out,
}
