"""How notices say times, days and case references: in Shanghai time (all of Guangdong), as the
people told read them, in each language's way (a value by language: see `templates.render`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def when(moment: datetime) -> dict[str, str]:
    """A moment to the minute: 11月28日10:30, 28 Nov 10:30."""
    local = moment.astimezone(LOCAL)
    return {"zh": local.strftime("%m月%d日%H:%M"), "en": f"{local.day} {local:%b %H:%M}"}


def day(on: date) -> dict[str, str]:
    """A day: 11月28日, 28 Nov."""
    return {"zh": f"{on.month}月{on.day}日", "en": f"{on.day} {on:%b}"}


def days(dates: Iterable[date]) -> dict[str, str]:
    """Days in a list: 12月4日、12月27日, 4 Dec, 27 Dec."""
    said = [day(on) for on in dates]
    return {"zh": "、".join(d["zh"] for d in said), "en": ", ".join(d["en"] for d in said)}


def local_day(moment: datetime) -> dict[str, str]:
    """The day a moment falls on in Shanghai time."""
    return day(moment.astimezone(LOCAL).date())


def ref(case_id: object) -> str:
    """The short case reference people are told: the first 8 characters of its id."""
    return str(case_id)[:8]
