"""The rules of scarce seats, pure: when a session takes requests, where a freed seat goes, how
long holds and offers last. Figures marked (design) are settings, not in the seeds."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

# A booking in one of these states is the worker's: it blocks another in the same scope.
LIVE = ("held", "confirmed", "waiting", "offered", "entered")
# These hold one of the session's seats (`taken`).
SEATED = frozenset({"held", "confirmed", "offered"})

Availability = Literal["open", "not_open", "closed", "cancelled", "drawing"]


@dataclass(frozen=True)
class SeatTerms:
    hold: timedelta = timedelta(seconds=120)  # (design)
    offer_time: timedelta = timedelta(hours=2)  # (design)
    no_offers_before_start: timedelta = timedelta(hours=2)  # (design)
    waitlist_cap: int = 200  # (design)


DEFAULT_TERMS = SeatTerms()


def availability(
    now: datetime,
    opens_at: datetime,
    starts_at: datetime,
    status: str,
    draw_at: datetime | None = None,
    *,
    drawn: bool = True,
) -> Availability:
    """Whether a session takes requests now: from its opening until it starts. A lottery
    session takes entries until `draw_at`; once that is past, nothing until it is drawn, then
    requests as any session (the waitlist, or seats the draw left)."""
    if status == "cancelled":
        return "cancelled"
    if now < opens_at:
        return "not_open"
    if now >= starts_at:
        return "closed"
    if draw_at is not None and now >= draw_at and not drawn:
        return "drawing"
    return "open"


def takes_entries(now: datetime, draw_at: datetime | None) -> bool:
    """A lottery session, before its draw: a request is an entry, not a hold."""
    return draw_at is not None and now < draw_at


def offers_allowed(now: datetime, starts_at: datetime, terms: SeatTerms) -> bool:
    """Freed seats are offered to the waitlist only until shortly before the start: later, the
    waitlisted could not plan to come, and the seat goes back on sale."""
    return now < starts_at - terms.no_offers_before_start


def offer_deadline(now: datetime, starts_at: datetime, terms: SeatTerms) -> datetime:
    """An offer lasts the offer time, and never past the session's start."""
    return min(now + terms.offer_time, starts_at)


def hold_deadline(now: datetime, starts_at: datetime, hold_seconds: int) -> datetime:
    return min(now + timedelta(seconds=hold_seconds), starts_at)


@dataclass(frozen=True)
class Draw:
    """A lottery's outcome: who won a seat, who waits (in order), who did not get in."""

    seed: int
    won: tuple[uuid.UUID, ...]
    waiting: tuple[uuid.UUID, ...]
    not_drawn: tuple[uuid.UUID, ...]


def draw(entries: Iterable[uuid.UUID], seed: int, seats: int, waitlist_cap: int) -> Draw:
    """Draw the seats among the entries with `seed`: the entries are put in a fixed order first,
    so the same seed gives the same draw whatever order the entries were read in (an auditor
    with the seed and the entries can do it again)."""
    order = sorted(entries, key=str)
    random.Random(seed).shuffle(order)
    return Draw(
        seed=seed,
        won=tuple(order[:seats]),
        waiting=tuple(order[seats : seats + waitlist_cap]),
        not_drawn=tuple(order[seats + waitlist_cap :]),
    )
