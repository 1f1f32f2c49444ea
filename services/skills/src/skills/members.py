"""Who may book: membership's events kept as skills's own list of active members. A leaver's
holds, offers and places on waitlists end (their confirmed seats stay: booked as a member)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from gonghui_contracts.events import MemberJoined, MemberLeft, MemberTransferred
from servicekit import Unit
from skills import seats
from skills.models import Booking, Member
from skills.rules import SeatTerms

ENDED_BY_LEAVING = ("held", "offered", "waiting", "entered")


async def joined(unit: Unit, event: MemberJoined) -> None:
    member = await unit.session.get(Member, event.member_id)
    if member is None:
        unit.session.add(
            Member(
                member_id=event.member_id,
                union_id=event.union_id,
                region_code=event.region_code,
                active=True,
            )
        )
    else:  # joined again after leaving
        member.union_id, member.region_code, member.active = (
            event.union_id,
            event.region_code,
            True,
        )


async def transferred(unit: Unit, event: MemberTransferred) -> None:
    member = await unit.session.get(Member, event.member_id)
    if member is not None:
        member.union_id = event.to_union_id


async def left(unit: Unit, terms: SeatTerms, event: MemberLeft, now: datetime) -> int:
    """The member is no longer eligible; returns how many of their bookings ended."""
    member = await unit.session.get(Member, event.member_id)
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
