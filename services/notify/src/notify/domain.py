"""Which notices an event causes. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gonghui_contracts.events import (
    CoverageEnded,
    InsuranceEnrolled,
    MemberJoined,
    SelfPaidOffered,
)
from notify.claims import claims_notices
from notify.injury import injury_notices
from notify.legal import legal_notices
from notify.recipients import NoticeRequest, member
from notify.skills import skills_notices

NoticesOf = Callable[[Any], list[NoticeRequest] | None]
FAMILIES: tuple[NoticesOf, ...] = (injury_notices, legal_notices, claims_notices, skills_notices)
_FAMILY_OF: dict[type, NoticesOf | None] = {}  # which family answers each payload type


def notices_for(payload: Any) -> list[NoticeRequest]:
    """The notices `payload` calls for; empty for events nobody is told about."""
    kind = type(payload)
    if kind not in _FAMILY_OF:  # a family answers None for types not its own: found once a type
        _FAMILY_OF[kind] = next((f for f in FAMILIES if f(payload) is not None), None)
    family = _FAMILY_OF[kind]
    told = family(payload) if family is not None else None
    if told is not None:
        return told
    if isinstance(payload, MemberJoined):
        return [
            NoticeRequest(
                member(payload.member_id),
                "welcome",
                {
                    "union_name": payload.union_name or payload.union_id,
                    "member_ref": str(payload.member_id)[:8],
                },
            )
        ]
    if isinstance(payload, InsuranceEnrolled):
        template = "coverage_gifted" if payload.paid_by == "gift_fund" else "coverage_self_paid"
        period = {"period_start": str(payload.period_start), "period_end": str(payload.period_end)}
        return [
            NoticeRequest(
                member(payload.member_id), template, {**period, "premium": str(payload.premium)}
            )
        ]
    if isinstance(payload, SelfPaidOffered):
        return [
            NoticeRequest(
                member(payload.member_id), "self_paid_offer", {"premium": str(payload.premium)}
            )
        ]
    if isinstance(payload, CoverageEnded):
        return [
            NoticeRequest(
                member(payload.member_id), "coverage_ended", {"ended_on": str(payload.ended_on)}
            )
        ]
    return []


def backoff_seconds(attempts: int, base: float = 1.0, cap: float = 300.0) -> float:
    """Wait before the next try of a notice whose channel failed `attempts` times."""
    return float(min(cap, base * 2 ** (attempts - 1)))
