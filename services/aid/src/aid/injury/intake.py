"""Reports in: from the hospital (partner topic) or the worker (app). The same worker hurt on the
same day is one case; a report seen before gets the same answer and changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select, tuple_

from aid import metrics
from aid.errors import Refused
from aid.injury import dispatch, follow_ups
from aid.injury.desk import Desk, emit, find_case
from aid.injury.rules import case_key, report_problems
from aid.models import (
    CASE_WORKER_NAME,
    CASE_WORKER_PHONE,
    CASE_WORKER_RESIDENT_ID,
    InjuryCase,
    InjuryReport,
    Visitor,
)
from gonghui_contracts import EnvelopeHead, RejectionReason
from gonghui_contracts.events import InjuryCaseOpened, InjuryReported, PatientDischarged
from gonghui_contracts.values import Admission, Industry, InjuryKind, Severity, local_federation
from servicekit import Unit
from servicekit.pii import PiiVault
from servicekit.workload import BatchWorkload

Outcome = Literal["opened", "merged", "discharge_recorded", "rejected"]


@dataclass(frozen=True)
class ReportResult:
    outcome: Outcome
    case_id: uuid.UUID | None = None
    reasons: tuple[RejectionReason, ...] = ()


async def report(
    desk: Desk, unit: Unit, report: InjuryReported, cause: EnvelopeHead | None = None
) -> ReportResult:
    [result] = await report_all(desk, unit, [(report, cause)])
    return result


async def report_all(
    desk: Desk, unit: Unit, reports: Sequence[tuple[InjuryReported, EnvelopeHead | None]]
) -> list[ReportResult]:
    """Take in reports (each with its cause, if any): what became of each. One lookup finds the
    reports seen before, one the open cases of the same worker and day; visitors' loads are
    read once and written back once for the whole batch."""
    if not reports:
        return []
    # Without autoflush, a batch's inserts reach the database together at commit; reports and
    # cases of the same batch are found among the unit's pending objects instead.
    with unit.session.no_autoflush:
        seen = await _reports_seen(unit, [(_source(r), r.report_ref) for r, _ in reports])
        keys = [case_keys(desk.vault, r.worker.resident_id, r.injured_on) for r, _ in reports]
        cases = await _cases_by_key(unit, [key for ring in keys for key in ring])
        # The roster, read once and held while the batch runs (the session keeps objects only
        # while they are referenced): the offers find each visitor there, not by a query.
        _roster = list(await unit.session.scalars(select(Visitor)))
        loads = BatchWorkload(desk.open_visits)
        batch_desk = replace(desk, open_visits=loads)
        results = []
        for (report, cause), ring in zip(reports, keys, strict=True):
            known = Known(seen, cases, ring)
            with unit.traced(cause):
                results.append(await _report(batch_desk, unit, report, known, cause))
        await loads.flush()
    return results


@dataclass(frozen=True)
class Known:
    """What the database held before the batch: reports by (source, ref), cases by key; and
    the report's case keys under every key of the ring, the active key's first."""

    reports: Mapping[tuple[str, str], InjuryReport]
    cases: Mapping[str, InjuryCase]
    keys: list[str]


def _source(report: InjuryReported) -> str:
    return report.hospital_id if report.reporter == "hospital" else "app"


async def _reports_seen(
    unit: Unit, refs: list[tuple[str, str]]
) -> dict[tuple[str, str], InjuryReport]:
    found = await unit.session.scalars(
        select(InjuryReport).where(tuple_(InjuryReport.source, InjuryReport.report_ref).in_(refs))
    )
    return {(r.source, r.report_ref): r for r in found}


async def _cases_by_key(unit: Unit, keys: list[str]) -> dict[str, InjuryCase]:
    found = await unit.session.scalars(select(InjuryCase).where(InjuryCase.case_key.in_(keys)))
    return {case.case_key: case for case in found}


async def _report(
    desk: Desk, unit: Unit, report: InjuryReported, known: Known, cause: EnvelopeHead | None
) -> ReportResult:
    source = _source(report)
    seen = unit.added(InjuryReport, (source, report.report_ref)) or known.reports.get(
        (source, report.report_ref)
    )
    if seen is not None:
        return ReportResult(seen.outcome, seen.case_id)  # type: ignore[arg-type]
    now = desk.clock.now()
    problems = report_problems(
        report.hospital_id, report.injured_on, desk.terms.hospitals, desk.clock.today()
    )
    if problems:
        return ReportResult("rejected", reasons=tuple(problems))
    key = known.keys[0]  # the active key's: a new case is stored under it
    case = unit.added_under_any(InjuryCase, known.keys) or next(
        (known.cases[k] for k in known.keys if k in known.cases), None
    )
    outcome: Outcome = "merged"
    if case is None:
        outcome = "opened"
        case = _open(desk, unit, report, key, now, cause)
        unit.add(case, key=key)
        emit(unit, case, _opened(case), cause)
        await dispatch.offer(desk, unit, case, cause=cause)
        metrics.CASES_OPENED.labels(report.reporter).inc()
    else:
        case.reports += 1
        metrics.REPORTS_MERGED.labels(report.reporter).inc()
    received = InjuryReport(
        source=source,
        report_ref=report.report_ref,
        reporter=report.reporter,
        case_id=case.case_id,
        outcome=outcome,
        received_at=now,
    )
    unit.add(received, key=(source, report.report_ref))
    return ReportResult(outcome, case.case_id)


def case_keys(vault: PiiVault, resident_id: str, injured_on: date) -> list[str]:
    """The case key of this worker and day under every key of the ring, the active key's first."""
    return [case_key(fingerprint, injured_on) for fingerprint in vault.fingerprints(resident_id)]


async def stored_case_key(_session: object, vault: PiiVault, row: Mapping[str, Any]) -> str:
    """A case's key made again from its stored worker (`servicekit pii rekey`)."""
    place = CASE_WORKER_RESIDENT_ID.at(row["case_id"])
    resident_id = vault.decrypt(row["worker_resident_id"], place)
    return case_key(vault.fingerprint(resident_id), row["injured_on"])


def _open(  # noqa: PLR0917 — what a case is made of
    desk: Desk,
    unit: Unit,
    report: InjuryReported,
    key: str,
    now: datetime,
    cause: EnvelopeHead | None,
) -> InjuryCase:
    hospital = desk.terms.hospitals[report.hospital_id]
    union_id, _ = local_federation(hospital.district_code)
    case_id, vault, worker = uuid.uuid4(), desk.vault, report.worker
    return InjuryCase(
        case_id=case_id,
        case_key=key,
        worker_key=vault.fingerprint(worker.resident_id),
        worker_name=vault.encrypt(worker.name, CASE_WORKER_NAME.at(case_id)),
        worker_resident_id=vault.encrypt(worker.resident_id, CASE_WORKER_RESIDENT_ID.at(case_id)),
        worker_phone=vault.encrypt(worker.phone, CASE_WORKER_PHONE.at(case_id)),
        employer_code=report.employer.credit_code,
        employer_name=report.employer.name,
        industry=report.industry.value,
        hospital_id=hospital.hospital_id,
        district_code=hospital.district_code,
        union_id=union_id,
        injured_on=report.injured_on,
        injury_kind=report.injury_kind.value,
        severity=report.severity.value,
        admission=report.admission.value,
        reported_by=report.reporter,
        reports=1,
        reported_at=now,
        visit_due_at=now + desk.terms.visit_sla,
        offers=0,
        condolence_unpaid=False,
        trace_headers=json.dumps(unit.trace_headers(cause)),
    )


def _opened(case: InjuryCase) -> InjuryCaseOpened:
    return InjuryCaseOpened(
        case_id=case.case_id,
        hospital_id=case.hospital_id,
        district_code=case.district_code,
        union_id=case.union_id,
        industry=Industry(case.industry),
        employer_code=case.employer_code,
        injury_kind=InjuryKind(case.injury_kind),
        severity=Severity(case.severity),
        admission=Admission(case.admission),
        injured_on=case.injured_on,
        reported_at=case.reported_at,
        visit_due_at=case.visit_due_at,
    )


async def hospital_discharge(desk: Desk, unit: Unit, discharged: PatientDischarged) -> ReportResult:
    """A hospital's discharge, for the case of its report `report_ref`."""
    seen = await unit.session.scalar(
        select(InjuryReport).where(
            InjuryReport.source == discharged.hospital_id,
            InjuryReport.report_ref == discharged.report_ref,
        )
    )
    if seen is None:
        reason = RejectionReason(field="report_ref", rule="no report of this hospital has it")
        return ReportResult("rejected", reasons=(reason,))
    case = await find_case(unit, seen.case_id, for_update=True)
    try:
        await follow_ups.discharge(desk, unit, case, discharged.discharged_on, "hospital")
    except Refused as refused:
        reason = RejectionReason(field="discharged_on", rule=str(refused))
        return ReportResult("rejected", case.case_id, (reason,))
    return ReportResult("discharge_recorded", case.case_id)
