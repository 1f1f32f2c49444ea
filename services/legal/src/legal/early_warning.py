"""Early warning: each new case counts in its sliding windows (Redis); a count that reaches its
threshold raises a warning for the district union — once per window, which the database guards
in the same transaction as the warning event, so a crash can neither lose it nor send it twice."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import EarlyWarningRaised
from gonghui_contracts.values import DisputeKind, Industry
from legal import metrics
from legal.desk import Desk
from legal.models import DisputeCase, EarlyWarning, WarningGuard
from legal.rules.warnings import Watch, reached, watches
from servicekit import Unit


async def observe(
    desk: Desk, unit: Unit, case: DisputeCase, entry: str, cause: EnvelopeHead | None = None
) -> list[EarlyWarningRaised]:
    """Count the new `case` (its filing `entry`) in its windows; the warnings it raises."""
    now = desk.clock.now()
    watched = watches(
        desk.terms.warnings,
        case.employer_code,
        case.district_code,
        Industry(case.industry),
        DisputeKind(case.kind),
    )
    series = list({w.series: w.window for w in watched}.items())
    tallies = dict(
        zip(series, await desk.windows.record(series, entry, case.workers, now), strict=True)
    )
    raised = []
    for watch in watched:
        tally = tallies[watch.series, watch.window]
        count = reached(watch, tally.filings, tally.workers)
        if count is None or not await _first_in_window(unit, watch, now):
            continue
        warning = _warning(case, watch, count, now)
        unit.session.add(
            EarlyWarning(
                warning_id=warning.warning_id,
                kind=watch.kind,
                subject=watch.series,
                union_id=case.union_id,
                district_code=case.district_code,
                count=count,
                threshold=watch.threshold,
                raised_at=now,
            )
        )
        key = case.employer_code if watch.kind != "arrears_hotspot" else watch.series
        unit.emit(warning, key=key, cause=cause)
        metrics.WARNINGS.labels(watch.kind).inc()
        raised.append(warning)
    return raised


async def _first_in_window(unit: Unit, watch: Watch, now: datetime) -> bool:
    """Claim the window for this warning; False if one was raised within it. The guard row is
    locked until commit, so two replicas cannot both claim it."""
    guard = unit.added(WarningGuard, (watch.kind, watch.series)) or await unit.session.scalar(
        select(WarningGuard)
        .where(WarningGuard.kind == watch.kind, WarningGuard.subject == watch.series)
        .with_for_update()
    )
    if guard is None:
        guard = WarningGuard(kind=watch.kind, subject=watch.series, quiet_until=now + watch.window)
        unit.add(guard, key=(watch.kind, watch.series))
        return True
    if guard.quiet_until > now:
        return False
    guard.quiet_until = now + watch.window
    return True


def _warning(case: DisputeCase, watch: Watch, count: int, now: datetime) -> EarlyWarningRaised:
    by_employer = watch.kind != "arrears_hotspot"
    return EarlyWarningRaised(
        warning_id=uuid.uuid4(),
        kind=watch.kind,
        union_id=case.union_id,
        district_code=case.district_code,
        employer_code=case.employer_code if by_employer else None,
        employer_name=case.employer_name if by_employer else None,
        industry=None if by_employer else Industry(case.industry),
        count=count,
        threshold=watch.threshold,
        window_days=watch.window.days,
        raised_at=now,
    )
