"""Kafka subscriptions of aid: member lifecycle and hospitals' injury reports in."""

from __future__ import annotations

from typing import Any

from aid import service
from aid.injury import intake
from aid.injury.desk import Desk
from aid.injury.intake import ReportResult
from aid.service import FundTerms
from gonghui_contracts import ContractViolation, Envelope, RawEnvelope, RejectionReason
from gonghui_contracts.events import (
    InjuryReported,
    InjuryReportOutcome,
    MemberJoined,
    MemberLeft,
    PatientDischarged,
)
from servicekit import Subscription, Unit

MEMBERSHIP_EVENTS = "membership.events.v1"
INJURY_REPORTS = "partner.aid.injury-reports.v1"
NOT_THE_HOSPITALS = RejectionReason(
    field="reporter", rule="a report on a hospital's topic is the hospital's own: 'hospital'"
)


def subscriptions(terms: FundTerms, desk: Desk) -> list[Subscription]:
    async def on_membership_event(unit: Unit, event: Envelope[Any]) -> None:
        if isinstance(event.data, MemberJoined):
            await service.on_member_joined(unit, event, terms)
        elif isinstance(event.data, MemberLeft):
            await service.on_member_left(unit, event)
        # transfers change the union, not the cover

    async def on_hospital_message(unit: Unit, event: Envelope[Any]) -> None:
        message = event.data
        if isinstance(message, InjuryReported) and message.reporter != "hospital":
            result = ReportResult("rejected", reasons=(NOT_THE_HOSPITALS,))
        elif isinstance(message, InjuryReported):
            result = await intake.report(desk, unit, message, cause=event)
        elif isinstance(message, PatientDischarged):
            result = await intake.hospital_discharge(desk, unit, message)
        else:
            return
        _answer(unit, event, message.report_ref, result)

    async def on_invalid_hospital_message(
        unit: Unit, head: RawEnvelope, violation: ContractViolation
    ) -> None:
        refs = head.references("report_ref")
        result = ReportResult("rejected", reasons=tuple(violation.reasons()))
        _answer(unit, head, refs.get("report_ref", head.key), result)

    return [
        Subscription(MEMBERSHIP_EVENTS, on_membership_event),
        Subscription(INJURY_REPORTS, on_hospital_message, reject=on_invalid_hospital_message),
    ]


def _answer(unit: Unit, cause: RawEnvelope | Envelope[Any], ref: str, result: ReportResult) -> None:
    """The outcome, on the hospital's own outcome topic."""
    unit.emit(
        InjuryReportOutcome(
            report_ref=ref,
            hospital_id=unit.partner.partner_id,
            outcome=result.outcome,
            case_id=result.case_id,
            reasons=list(result.reasons),
        ),
        key=ref,
        cause=cause,
    )
