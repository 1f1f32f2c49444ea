"""Lottery sessions: entries are taken until the draw time; then the session is drawn once, with a
seed stored beside it, so that anyone with the seed and the entries can draw again and get the
same result. The winners are offered their seat; the next are the waitlist, in the drawn order;
the rest are not drawn."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import select, update

from gonghui_contracts.events import LotteryDrawn
from servicekit import Unit, UnitOfWork
from skills import rules
from skills.models import Booking, CourseSession
from skills.rules import SeatTerms
from skills.seats import SWEEP_BATCH, find_session, mark_sold_out, move, tell_offered


async def draw_due(uow: UnitOfWork, terms: SeatTerms, now: datetime) -> int:
    """Lottery sessions whose entries have closed are drawn, each once, in its own transaction;
    returns how many were drawn."""
    async with uow() as unit:
        due = list(
            await unit.session.scalars(
                select(CourseSession.session_id)
                .where(
                    CourseSession.drawn_at.is_(None),
                    CourseSession.draw_at <= now,
                    CourseSession.status == "open",
                )
                .limit(SWEEP_BATCH)
            )
        )
    drawn = 0
    for session_id in due:
        async with uow() as unit:
            drawn += await _draw(unit, terms, session_id, now)
    return drawn


async def _draw(unit: Unit, terms: SeatTerms, session_id: uuid.UUID, now: datetime) -> int:
    seed = secrets.randbits(62)
    claimed = (
        await unit.session.execute(
            update(CourseSession)
            .where(CourseSession.session_id == session_id, CourseSession.drawn_at.is_(None))
            .values(drawn_at=now, lottery_seed=seed)
            .returning(CourseSession.session_id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if claimed is None:
        return 0  # another replica drew it
    session = await find_session(unit, session_id)
    entries = {
        b.member_id: b
        for b in await unit.session.scalars(
            select(Booking).where(Booking.session_id == session_id, Booking.state == "entered")
        )
    }
    result = rules.draw(entries, seed, session.capacity, session.waitlist_cap)
    due = rules.offer_deadline(now, session.starts_at, terms)
    for member_id in result.won:
        await move(unit, entries[member_id], "entered", "offered", now, due_at=due)
        tell_offered(unit, session, entries[member_id], due)
    for position, member_id in enumerate(result.waiting, start=1):
        await move(unit, entries[member_id], "entered", "waiting", now, position=position)
    for member_id in result.not_drawn:
        await move(unit, entries[member_id], "entered", "not_drawn", now)
    await unit.session.execute(
        update(CourseSession)
        .where(CourseSession.session_id == session_id)
        .values(
            taken=len(result.won),
            waiting=len(result.waiting),
            last_position=len(result.waiting),
        )
        .execution_options(synchronize_session=False)
    )
    unit.emit(
        LotteryDrawn(
            session_id=session_id,
            seed=seed,
            entries=len(entries),
            won=len(result.won),
            waitlisted=len(result.waiting),
        ),
        key=str(session_id),
    )
    if len(result.won) == session.capacity:
        await mark_sold_out(unit, session, now)
    return 1
