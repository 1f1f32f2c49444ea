"""Rankings frozen once and grants within a budget, pure: degree aid's applicants by their exam
score. Ties are broken the same way every time, so a ranking computed again is the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Ranked:
    entry_id: uuid.UUID
    score: int
    entered_at: datetime


def ranking(entries: Iterable[Ranked]) -> list[Ranked]:
    """Best score first; on a tie, who entered first; then by id (never equal)."""
    return sorted(entries, key=lambda e: (-e.score, e.entered_at, str(e.entry_id)))


def grants(budget_cents: int, amount_cents: int, cap: int) -> int:
    """How many grants of `amount_cents` a cycle makes: as many as the budget pays, at most
    `cap`."""
    if amount_cents <= 0:
        raise ValueError("a grant is a positive amount")
    return max(0, min(cap, budget_cents // amount_cents))
