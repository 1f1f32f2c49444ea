"""The service's clock: every deadline, SLA and schedule reads the time from here.

In production it is the system clock. With CLOCK_ADJUSTABLE=true (tests and demos only) it can
be moved forward over HTTP (by the operator's token), so a process's deadlines can be made to
run out without waiting.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from servicekit.identity import Role, requires


class Clock:
    def __init__(self, zone: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(zone)
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """The calendar day where the service works (dates in events are local dates)."""
        return self.now().astimezone(self.zone).date()

    def advance(self, by: timedelta) -> None:
        if by < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.offset += by


class ClockView(BaseModel):
    now: datetime
    today: date
    offset_seconds: float


class Advance(BaseModel):
    seconds: float = Field(gt=0, le=400 * 86400)


def clock_router(clock: Clock) -> APIRouter:
    api = APIRouter(
        prefix="/admin/clock", tags=["admin"], dependencies=[Depends(requires(Role.OPERATOR))]
    )

    def view() -> ClockView:
        return ClockView(
            now=clock.now(), today=clock.today(), offset_seconds=clock.offset.total_seconds()
        )

    @api.get("", response_model=ClockView)
    async def read() -> ClockView:
        return view()

    @api.post("/advance", response_model=ClockView)
    async def advance(body: Advance) -> ClockView:
        clock.advance(timedelta(seconds=body.seconds))
        return view()

    return api
