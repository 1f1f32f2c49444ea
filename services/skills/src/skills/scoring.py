"""Competition scoring, pure: a stage's rubric (criteria with weights and scales), judges' score
sheets, standings computed from frozen sheets with a tie-break that never leaves two entrants
level, and medals. (design) The tie-break: the higher mean on the heaviest criterion, then who
registered first, then the entrant id.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Medal = Literal["gold", "silver", "bronze"]
MEDALS: tuple[Medal, ...] = ("gold", "silver", "bronze")
HUNDREDTHS = Decimal("0.01")


@dataclass(frozen=True)
class Criterion:
    name: str
    weight: int  # percent; a rubric's weights add up to 100
    scale: int  # the most points a judge gives


@dataclass(frozen=True)
class Sheet:
    judge_id: str
    entrant_id: uuid.UUID
    points: Mapping[str, int]


@dataclass(frozen=True)
class Standing:
    entrant_id: uuid.UUID
    rank: int
    score: Decimal  # 0 to 100
    judges: int


def rubric_problems(criteria: Sequence[Criterion]) -> list[str]:
    problems = []
    if sum(c.weight for c in criteria) != 100:
        problems.append("the criteria's weights add up to 100")
    if len({c.name for c in criteria}) != len(criteria):
        problems.append("each criterion has a name of its own")
    return problems


def sheet_problems(criteria: Sequence[Criterion], points: Mapping[str, int]) -> list[str]:
    """What is wrong with a judge's points for one entrant (nothing: it can be taken)."""
    names = {c.name for c in criteria}
    problems = [f"{name}: no such criterion" for name in sorted(set(points) - names)]
    for criterion in criteria:
        given = points.get(criterion.name)
        if given is None:
            problems.append(f"{criterion.name}: missing")
        elif not 0 <= given <= criterion.scale:
            problems.append(f"{criterion.name}: from 0 to {criterion.scale}")
    return problems


def weighted(criteria: Sequence[Criterion], points: Mapping[str, int]) -> Decimal:
    """One judge's score of one entrant, out of 100."""
    return sum((Decimal(c.weight) * points[c.name] / c.scale for c in criteria), start=Decimal(0))


def standings(
    criteria: Sequence[Criterion],
    sheets: Iterable[Sheet],
    registered: Mapping[uuid.UUID, datetime],
) -> list[Standing]:
    """Every entrant with at least one sheet, best first: the mean of their judges' scores."""
    by_entrant: dict[uuid.UUID, list[Sheet]] = defaultdict(list)
    for sheet in sheets:
        by_entrant[sheet.entrant_id].append(sheet)
    heaviest = max(criteria, key=lambda c: (c.weight, c.name))

    def mean(values: list[Decimal]) -> Decimal:
        return sum(values, start=Decimal(0)) / len(values)

    scored = [
        (
            mean([weighted(criteria, s.points) for s in mine]),
            mean([Decimal(s.points[heaviest.name]) for s in mine]),
            entrant_id,
            len(mine),
        )
        for entrant_id, mine in by_entrant.items()
    ]
    scored.sort(key=lambda e: (-e[0], -e[1], registered[e[2]], str(e[2])))
    return [
        Standing(entrant_id, rank, score.quantize(HUNDREDTHS, ROUND_HALF_UP), judges)
        for rank, (score, _, entrant_id, judges) in enumerate(scored, start=1)
    ]


def medals(ranked: Sequence[Standing], counts: Mapping[Medal, int]) -> dict[uuid.UUID, Medal]:
    """Gold to the first `counts["gold"]`, then silver, then bronze, down the standings."""
    awarded: dict[uuid.UUID, Medal] = {}
    place = 0
    for medal in MEDALS:
        for standing in ranked[place : place + counts.get(medal, 0)]:
            awarded[standing.entrant_id] = medal
        place += counts.get(medal, 0)
    return awarded
