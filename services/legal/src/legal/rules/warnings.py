"""Early warning (早发现、早报告): what is watched, over which sliding window, and from what count a
warning is raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from gonghui_contracts.events.legal import WarningKind
from gonghui_contracts.values import DisputeKind, Industry


@dataclass(frozen=True)
class WarningTerms:
    window: timedelta = timedelta(days=30)
    employer_filings: int = 3  # (design) filings against one employer in the window
    employer_workers: int = 30  # (design) workers in those filings
    hotspot_window: timedelta = timedelta(days=7)
    hotspot_filings: int = 10  # (design) wage-arrears filings in one district and industry


@dataclass(frozen=True)
class Watch:
    """One sliding window a filing counts in, and the warning it can raise."""

    kind: WarningKind
    series: str  # the window's name: what is counted together
    threshold: int
    window: timedelta
    measure: Literal["filings", "workers"]


def watches(
    terms: WarningTerms,
    employer_code: str,
    district_code: str,
    industry: Industry,
    kind: DisputeKind,
) -> list[Watch]:
    employer = f"employer:{employer_code}"
    found = [
        Watch("employer_filings", employer, terms.employer_filings, terms.window, "filings"),
        Watch("employer_workers", employer, terms.employer_workers, terms.window, "workers"),
    ]
    if kind is DisputeKind.WAGE_ARREARS:
        hotspot = f"arrears:{district_code}:{industry.value}"
        found.append(
            Watch(
                "arrears_hotspot", hotspot, terms.hotspot_filings, terms.hotspot_window, "filings"
            )
        )
    return found


def reached(watch: Watch, filings: int, workers: int) -> int | None:
    """The count that reached the watch's threshold, or None."""
    count = filings if watch.measure == "filings" else workers
    return count if count >= watch.threshold else None
