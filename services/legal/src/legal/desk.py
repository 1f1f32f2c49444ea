"""What every legal use case works with: the terms, the stations, the vault, the clock, the
warning windows; and the case with its trace and its history.

Every later step of a case (an acceptance, a move, a deadline) runs in a span of the trace the
first filing started, linked to whatever triggered it: a dispute is one trace from filing to close.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from sqlalchemy import select

from gonghui_contracts import EnvelopeHead, EventPayload
from legal.errors import NotFound
from legal.lawyer_pool import LawyerPool
from legal.models import CaseEvent, DisputeCase
from legal.rules.chain import ChainTerms
from legal.rules.letters import SupervisionTerms
from legal.rules.matching import LawyerProfile, Station
from legal.rules.warnings import WarningTerms
from legal.windows import Windows
from servicekit import Unit, telemetry
from servicekit.clock import Clock
from servicekit.pii import PiiVault


@dataclass(frozen=True)
class LegalTerms:
    stations: Mapping[str, Station]
    chain: ChainTerms = field(default_factory=ChainTerms)
    warnings: WarningTerms = field(default_factory=WarningTerms)
    supervision: SupervisionTerms = field(default_factory=SupervisionTerms)
    accept_within: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class Desk:
    terms: LegalTerms
    vault: PiiVault
    clock: Clock
    windows: Windows
    profiles: dict[tuple[Any, ...], LawyerProfile] = field(default_factory=dict)  # by their row
    lawyers: LawyerPool | None = None  # a batch's, shared out among its new cases


async def find_case(unit: Unit, case_id: uuid.UUID, *, for_update: bool = False) -> DisputeCase:
    query = select(DisputeCase).where(DisputeCase.case_id == case_id)
    if for_update:  # moves, acceptances and deadlines of one case take turns
        query = query.with_for_update()
    case = await unit.session.scalar(query)
    if case is None:
        raise NotFound(f"no dispute case {case_id}")
    return case


@contextmanager
def in_case_trace(case: DisputeCase, step: str) -> Iterator[trace.Span]:
    with telemetry.continued(json.loads(case.trace_headers), f"legal {step}") as span:
        yield span


def emit(
    unit: Unit, case: DisputeCase, payload: EventPayload, cause: EnvelopeHead | None = None
) -> None:
    unit.emit(payload, key=str(case.case_id), cause=cause)


def record(
    desk: Desk,
    unit: Unit,
    case: DisputeCase,
    action: str,
    *,
    by: str,
    reason: str,
    to_stage: str | None = None,
    lawyer_id: str | None = None,
) -> None:
    """One line of the case's history."""
    unit.session.add(
        CaseEvent(
            case_id=case.case_id,
            at=desk.clock.now(),
            action=action,
            stage=case.stage,
            to_stage=to_stage,
            lawyer_id=lawyer_id,
            by=by,
            reason=reason[:200],
        )
    )
