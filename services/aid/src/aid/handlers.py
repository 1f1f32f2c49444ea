"""Kafka subscriptions of aid: member lifecycle and hospitals' injury reports in."""

from __future__ import annotations

from collections.abc import Sequence
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
from gonghui_contracts.topics import (
    AID_INJURY_REPORTS,
    AID_SETTLEMENTS,
    MEMBERSHIP_EVENTS,
    MEMBERSHIP_IDENTITIES,
)
from servicekit import Subscription, Unit, each

MAX_REVISION = 9999
NOT_THE_HOSPITALS = RejectionReason(
    field="reporter", rule="a report on a hospital's topic is the hospital's own: 'hospital'"
)


def subscriptions(terms: FundTerms, desk: Desk, claims: ClaimsDesk) -> list[Subscription]:
    async def enrol_all(unit: Unit, events: Sequence[Envelope[MemberJoined]]) -> None:
        await service.enrol_all(unit, events, terms)

    async def on_member_left(unit: Unit, event: Envelope[MemberLeft]) -> None:
        await service.on_member_left(unit, event)

    async def on_transferred(unit: Unit, event: Envelope[MemberTransferred]) -> None:
        await settlements.transferred(unit, event.data)  # the union changes, not the cover

    async def identified_all(unit: Unit, events: Sequence[Envelope[MemberIdentified]]) -> None:
        await settlements.identified(claims.vault, unit, [event.data for event in events])

    async def on_settlement(
        unit: Unit, event: Envelope[SettlementRecorded] | Envelope[SettlementReversed]
    ) -> None:
        message = event.data
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

    async def take_reports(unit: Unit, events: Sequence[Envelope[InjuryReported]]) -> None:
        hospitals = [e for e in events if e.data.reporter == "hospital"]
        taken = await intake.report_all(desk, unit, [(e.data, e) for e in hospitals])
        results = dict(zip((e.event_id for e in hospitals), taken, strict=True))
        for event in events:
            result = results.get(event.event_id) or ReportResult(
                "rejected", reasons=(NOT_THE_HOSPITALS,)
            )
            _answer(unit, event, event.data.report_ref, result)

    async def on_discharge(unit: Unit, event: Envelope[PatientDischarged]) -> None:
        result = await intake.hospital_discharge(desk, unit, event.data)
        _answer(unit, event, event.data.report_ref, result)

    async def on_invalid_hospital_message(
        unit: Unit, head: RawEnvelope, violation: ContractViolation
    ) -> None:
        refs = head.references("report_ref")
        result = ReportResult("rejected", reasons=tuple(violation.reasons()))
        _answer(unit, head, refs.get("report_ref", head.key), result)

    return [
        Subscription(
            MEMBERSHIP_EVENTS,
            on={
                MemberJoined: enrol_all,
                MemberLeft: each(on_member_left),
                MemberTransferred: each(on_transferred),
            },
        ),
        Subscription(
            AID_INJURY_REPORTS,
            on={InjuryReported: take_reports, PatientDischarged: each(on_discharge)},
            reject=on_invalid_hospital_message,
        ),
        Subscription(MEMBERSHIP_IDENTITIES, on={MemberIdentified: identified_all}),
        Subscription(
            AID_SETTLEMENTS,
            on={SettlementRecorded: each(on_settlement), SettlementReversed: each(on_settlement)},
            reject=on_invalid_settlement,
        ),
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
