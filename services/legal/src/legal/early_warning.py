"""Early warning: each new case counts in its sliding windows (Redis); a count that reaches its
threshold raises a warning for the district union — once per window, which the database guards
in the same transaction as the warning event, so a crash can neither lose it nor send it twice."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_

from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import EarlyWarningRaised
from gonghui_contracts.values import DisputeKind, Industry
from legal import metrics
from legal.desk import Desk
from legal.models import DisputeCase, EarlyWarning, WarningGuard
from legal.rules.warnings import Watch, reached, watches
from servicekit import Unit

Observed = tuple[DisputeCase, str, EnvelopeHead | None]  # a new case, its filing, its cause


async def observe_all(
    desk: Desk, unit: Unit, observed: Sequence[Observed]
) -> list[EarlyWarningRaised]:
    """Count new cases, in order, in their windows (one round trip to Redis for all); the
    warnings they raise. The guards of the windows that reached their thresholds are read and
    locked with one query."""
    now = desk.clock.now()
    reaching = []  # (case, cause, watch, count), in order
    watched = [
        watches(
            desk.terms.warnings,
            case.employer_code,
            case.district_code,
            Industry(case.industry),
            DisputeKind(case.kind),
        )
        for case, _, _ in observed
    ]
    series = [list({w.series: w.window for w in case_watches}.items()) for case_watches in watched]
    recorded = await desk.windows.record_all(
        [
            (case_series, entry, case.workers, now)
            for case_series, (case, entry, _) in zip(series, observed, strict=True)
        ]
    )
    for (case, _, cause), case_watches, case_series, tallies in zip(
        observed, watched, series, recorded, strict=True
    ):
        tally_of = dict(zip(case_series, tallies, strict=True))
        for watch in case_watches:
            tally = tally_of[watch.series, watch.window]
            if (count := reached(watch, tally.filings, tally.workers)) is not None:
                reaching.append((case, cause, watch, count))
    guards = await _guards(unit, {(watch.kind, watch.series) for _, _, watch, _ in reaching})
    raised = []
    for case, cause, watch, count in reaching:
        if not _first_in_window(unit, guards, watch, now):
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


async def _guards(unit: Unit, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], WarningGuard]:
    """The guards of these windows (kind, subject) that exist, locked until commit so that two
    replicas cannot both claim one (in one order, so that they take turns)."""
    if not wanted:
        return {}
    found = await unit.session.scalars(
        select(WarningGuard)
        .where(tuple_(WarningGuard.kind, WarningGuard.subject).in_(sorted(wanted)))
        .order_by(WarningGuard.kind, WarningGuard.subject)
        .with_for_update()
    )
    return {(guard.kind, guard.subject): guard for guard in found}


def _first_in_window(
    unit: Unit, guards: dict[tuple[str, str], WarningGuard], watch: Watch, now: datetime
) -> bool:
    """Claim the window for this warning; False if one was raised within it. A guard this
    batch made is found among its pending rows."""
    key = (watch.kind, watch.series)
    guard = unit.added(WarningGuard, key) or guards.get(key)
    if guard is None:
        guard = WarningGuard(kind=watch.kind, subject=watch.series, quiet_until=now + watch.window)
        unit.add(guard, key=key)
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
