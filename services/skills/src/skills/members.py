"""Who may book: membership's events kept as skills's own list of active members. A leaver's
holds, offers and places on waitlists end (their confirmed seats stay: booked as a member)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from gonghui_contracts.events import MemberJoined, MemberLeft, MemberTransferred
from servicekit import Unit
from servicekit.db import upsert
from skills import seats
from skills.models import Booking, Member
from skills.rules import SeatTerms

ENDED_BY_LEAVING = ("held", "offered", "waiting", "entered")


async def joined(unit: Unit, events: Sequence[MemberJoined]) -> None:
    """Members who joined, or joined again after leaving, in one statement."""
    await upsert(
        unit.session,
        Member,
        [
            {
                "member_id": event.member_id,
                "union_id": event.union_id,
                "region_code": event.region_code,
                "active": True,
            }
            for event in events
        ],
        key="member_id",
    )


async def transferred(unit: Unit, event: MemberTransferred) -> None:
    member = await unit.session.get(Member, event.member_id, populate_existing=True)
    if member is not None:
        member.union_id = event.to_union_id


async def left(unit: Unit, terms: SeatTerms, event: MemberLeft, now: datetime) -> int:
    """The member is no longer eligible; returns how many of their bookings ended."""
    member = await unit.session.get(Member, event.member_id, populate_existing=True)
    if member is None:
        return 0
    member.active = False
    live = (
        await unit.session.scalars(
            select(Booking).where(
                Booking.member_id == event.member_id, Booking.state.in_(ENDED_BY_LEAVING)
            )
        )
    ).all()
    return sum([await seats.release(unit, terms, booking, "member_left", now) for booking in live])
