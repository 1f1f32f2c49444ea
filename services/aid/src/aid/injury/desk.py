"""What every work-injury use case works with: the terms, the vault, the clock, where visitors
are and how many open visits they have, and the case with its trace.

Every later step of a case (a deadline, a visit recorded over HTTP) runs in a span of the trace the
report started, linked to whatever triggered it: an injury is one trace from report to referral.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from opentelemetry import trace
from sqlalchemy import select

from aid.errors import NotFound
from aid.injury.rules import CondolenceSchedule, Hospital
from aid.injury.visitor_index import VisitorIndex
from aid.models import InjuryCase
from gonghui_contracts import EnvelopeHead, EventPayload
from servicekit import Unit, telemetry
from servicekit.clock import Clock
from servicekit.pii import PiiVault
from servicekit.workload import Workload


@dataclass(frozen=True)
class InjuryTerms:
    hospitals: Mapping[str, Hospital]
    condolence: CondolenceSchedule
    fund_id: str
    visit_sla: timedelta = timedelta(hours=24)
    reminder_before: timedelta = timedelta(hours=4)
    accept_within: timedelta = timedelta(minutes=30)
    km_per_open_visit: float = 3.0
    nearby_candidates: int = 8
    follow_up_days: tuple[int, ...] = (7, 30, 90)
    follow_up_grace_days: int = 3


@dataclass(frozen=True)
class Desk:
    terms: InjuryTerms
    vault: PiiVault
    clock: Clock
    visitors: VisitorIndex
    open_visits: Workload


async def find_case(unit: Unit, case_id: uuid.UUID, *, for_update: bool = False) -> InjuryCase:
    query = select(InjuryCase).where(InjuryCase.case_id == case_id)
    if for_update:  # visits, acceptances and deadlines of one case take turns
        query = query.with_for_update()
    case = await unit.session.scalar(query)
    if case is None:
        raise NotFound(f"no injury case {case_id}")
    return case


@contextmanager
def in_case_trace(case: InjuryCase, step: str) -> Iterator[trace.Span]:
    with telemetry.continued(json.loads(case.trace_headers), f"aid {step}") as span:
        yield span


def emit(
    unit: Unit, case: InjuryCase, payload: EventPayload, cause: EnvelopeHead | None = None
) -> None:
    unit.emit(payload, key=str(case.case_id), cause=cause)
