"""Reports in: from the hospital (partner topic) or the worker (app). The same worker hurt on the
same day is one case; a report seen before gets the same answer and changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select

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
)
from gonghui_contracts import EnvelopeHead, RejectionReason
from gonghui_contracts.events import InjuryCaseOpened, InjuryReported, PatientDischarged
from gonghui_contracts.values import Admission, Industry, InjuryKind, Severity, local_federation
from servicekit import Unit, telemetry
from servicekit.pii import PiiVault

Outcome = Literal["opened", "merged", "discharge_recorded", "rejected"]


@dataclass(frozen=True)
class ReportResult:
    outcome: Outcome
    case_id: uuid.UUID | None = None
    reasons: tuple[RejectionReason, ...] = ()


async def report(
    desk: Desk, unit: Unit, report: InjuryReported, cause: EnvelopeHead | None = None
) -> ReportResult:
    # Without autoflush, a batch's inserts reach the database together at commit; reports and
    # cases of the same batch are found among the unit's pending objects instead.
    with unit.session.no_autoflush:
        return await _report(desk, unit, report, cause)


async def _report(
    desk: Desk, unit: Unit, report: InjuryReported, cause: EnvelopeHead | None
) -> ReportResult:
    source = report.hospital_id if report.reporter == "hospital" else "app"
    seen = unit.added(InjuryReport, (source, report.report_ref)) or await unit.session.scalar(
        select(InjuryReport).where(
            InjuryReport.source == source, InjuryReport.report_ref == report.report_ref
        )
    )
    if seen is not None:
        return ReportResult(seen.outcome, seen.case_id)  # type: ignore[arg-type]
    now = desk.clock.now()
    problems = report_problems(
        report.hospital_id, report.injured_on, desk.terms.hospitals, desk.clock.today()
    )
    if problems:
        return ReportResult("rejected", reasons=tuple(problems))
    keys = case_keys(desk.vault, report.worker.resident_id, report.injured_on)
    key = keys[0]  # the active key's: a new case is stored under it
    case = unit.added_under_any(InjuryCase, keys)
    case = case or await unit.session.scalar(
        select(InjuryCase).where(InjuryCase.case_key.in_(keys))
    )
    outcome: Outcome = "merged"
    if case is None:
        outcome = "opened"
        case = _open(desk, report, key, now)
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


def _open(desk: Desk, report: InjuryReported, key: str, now: datetime) -> InjuryCase:
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
        trace_headers=json.dumps(telemetry.inject({})),
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
