"""Kafka subscriptions of aid: member lifecycle and hospitals' injury reports in."""

from __future__ import annotations

from typing import Any

from aid import service
from aid.claims import settlements
from aid.claims.desk import ClaimsDesk
from aid.claims.settlements import Answer
from aid.injury import intake
from aid.injury.desk import Desk
from aid.injury.intake import ReportResult
from aid.service import FundTerms
from gonghui_contracts import ContractViolation, Envelope, RawEnvelope, RejectionReason
from gonghui_contracts.events import (
    InjuryReported,
    InjuryReportOutcome,
    MemberIdentified,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    PatientDischarged,
    SettlementRecorded,
    SettlementReversed,
)
from servicekit import Subscription, Unit

MEMBERSHIP_EVENTS = "membership.events.v1"
MEMBER_IDENTITIES = "membership.identities.v1"
INJURY_REPORTS = "partner.aid.injury-reports.v1"
SETTLEMENTS = "partner.aid.settlements.v1"
MAX_REVISION = 9999
NOT_THE_HOSPITALS = RejectionReason(
    field="reporter", rule="a report on a hospital's topic is the hospital's own: 'hospital'"
)


def subscriptions(terms: FundTerms, desk: Desk, claims: ClaimsDesk) -> list[Subscription]:
    async def on_membership_event(unit: Unit, event: Envelope[Any]) -> None:
        if isinstance(event.data, MemberJoined):
            await service.on_member_joined(unit, event, terms)
        elif isinstance(event.data, MemberLeft):
            await service.on_member_left(unit, event)
        elif isinstance(event.data, MemberTransferred):  # the union changes, not the cover
            await settlements.transferred(unit, event.data)

    async def on_member_identified(unit: Unit, event: Envelope[Any]) -> None:
        if isinstance(event.data, MemberIdentified):
            await settlements.identified(claims.vault, unit, event.data)

    async def on_settlement(unit: Unit, event: Envelope[Any]) -> None:
        message = event.data
        if isinstance(message, SettlementRecorded | SettlementReversed):
            answer = await settlements.settle(claims, unit, message, cause=event)
            settlements.answer_bureau(
                unit, answer, message.settlement_id, message.revision, cause=event
            )

    async def on_invalid_settlement(
        unit: Unit, head: RawEnvelope, violation: ContractViolation
    ) -> None:
        refs = head.references("settlement_id")
        revision = head.data.get("revision")
        answer = Answer("rejected", reasons=tuple(violation.reasons()))
        settlements.answer_bureau(
            unit,
            answer,
            refs.get("settlement_id", head.key),
            revision if type(revision) is int and 0 <= revision <= MAX_REVISION else 0,
            cause=head,
        )

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
        Subscription(MEMBER_IDENTITIES, on_member_identified),
        Subscription(SETTLEMENTS, on_settlement, reject=on_invalid_settlement),
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
