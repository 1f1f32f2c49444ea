"""Kafka subscriptions of legal: partners' filings, and aid's injury referrals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gonghui_contracts import ContractViolation, Envelope, RawEnvelope
from gonghui_contracts.events import DisputeFiled, LegalReferralRaised
from gonghui_contracts.topics import AID_LEGAL_REFERRALS, LEGAL_FILINGS
from gonghui_contracts.values import FilingChannel
from legal import answers, intake
from legal.desk import Desk
from legal.intake import FilingResult
from servicekit import Subscription, Unit, each


def subscriptions(desk: Desk) -> list[Subscription]:
    async def file_all(unit: Unit, events: Sequence[Envelope[DisputeFiled]]) -> None:
        channel = FilingChannel(unit.partner.kind.value)  # the partner's: the kit checked it
        partner = unit.partner.partner_id
        results = await intake.file_all(
            desk,
            unit,
            [intake.Filed(channel, partner, e.data.filing_ref, e.data, cause=e) for e in events],
        )
        for event, result in zip(events, results, strict=True):
            ref = event.data.filing_ref
            _answer(unit, event, channel, ref, result)
            if result.outcome == "merged" and result.answered_by:  # its lawyer took it already
                lawyer, station = result.answered_by
                answers.tell(
                    unit,
                    channel,
                    ref,
                    "answered",
                    result.case_id,
                    cause=event,
                    lawyer_id=lawyer,
                    station_id=station,
                )

    async def on_invalid_filing(
        unit: Unit, head: RawEnvelope, violation: ContractViolation
    ) -> None:
        refs = head.references("filing_ref")
        channel = FilingChannel(unit.partner.kind.value)
        result = FilingResult("rejected", reasons=tuple(violation.reasons()))
        _answer(unit, head, channel, refs.get("filing_ref", head.key), result)

    async def on_referral(unit: Unit, event: Envelope[LegalReferralRaised]) -> None:
        await intake.referral(desk, unit, event.data, cause=event)

    return [
        Subscription(LEGAL_FILINGS, on={DisputeFiled: file_all}, reject=on_invalid_filing),
        Subscription(AID_LEGAL_REFERRALS, on={LegalReferralRaised: each(on_referral)}),
    ]


def _answer(
    unit: Unit,
    cause: RawEnvelope | Envelope[Any],
    channel: FilingChannel | None,
    ref: str,
    result: FilingResult,
) -> None:
    reasons = list(result.reasons)
    answers.tell(unit, channel, ref, result.outcome, result.case_id, cause=cause, reasons=reasons)
