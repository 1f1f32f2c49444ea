"""The rules of scarce seats, pure: when a session takes requests, where a freed seat goes, how
long holds and offers last. Figures marked (design) are settings, not in the seeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

# A booking in one of these states is the worker's: it blocks another in the same scope.
LIVE = ("held", "confirmed", "waiting", "offered")
# These hold one of the session's seats (`taken`).
SEATED = frozenset({"held", "confirmed", "offered"})

Availability = Literal["open", "not_open", "closed", "cancelled"]
FreedSeat = Literal["offer", "back_on_sale"]


@dataclass(frozen=True)
class SeatTerms:
    hold: timedelta = timedelta(seconds=120)  # (design)
    offer_time: timedelta = timedelta(hours=2)  # (design)
    no_offers_before_start: timedelta = timedelta(hours=2)  # (design)
    waitlist_cap: int = 200  # (design)


DEFAULT_TERMS = SeatTerms()


def availability(
    now: datetime, opens_at: datetime, starts_at: datetime, status: str
) -> Availability:
    """Whether a session takes requests now: from its opening until it starts."""
    if status == "cancelled":
        return "cancelled"
    if now < opens_at:
        return "not_open"
    if now >= starts_at:
        return "closed"
    return "open"


def offers_allowed(now: datetime, starts_at: datetime, terms: SeatTerms) -> bool:
    """Freed seats are offered to the waitlist only until shortly before the start: later, the
    waitlisted could not plan to come, and the seat goes back on sale."""
    return now < starts_at - terms.no_offers_before_start


def freed_seat_goes(
    now: datetime, starts_at: datetime, anyone_waiting: bool, terms: SeatTerms
) -> FreedSeat:
    if anyone_waiting and offers_allowed(now, starts_at, terms):
        return "offer"
    return "back_on_sale"


def offer_deadline(now: datetime, starts_at: datetime, terms: SeatTerms) -> datetime:
    """An offer lasts the offer time, and never past the session's start."""
    return min(now + terms.offer_time, starts_at)


def hold_deadline(now: datetime, starts_at: datetime, hold_seconds: int) -> datetime:
    return min(now + timedelta(seconds=hold_seconds), starts_at)
