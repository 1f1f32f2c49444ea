"""How notices say times, days and case references: in Shanghai time (all of Guangdong), as the
people told read them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def when(moment: datetime) -> str:
    """A moment to the minute: 11月28日10:30."""
    return moment.astimezone(LOCAL).strftime("%m月%d日%H:%M")


def day(on: date) -> str:
    """A day: 11月28日."""
    return f"{on.month}月{on.day}日"


def local_day(moment: datetime) -> str:
    """The day a moment falls on in Shanghai time."""
    return day(moment.astimezone(LOCAL).date())


def ref(case_id: object) -> str:
    """The short case reference people are told: the first 8 characters of its id."""
    return str(case_id)[:8]
