"""Settlements in: the medical-insurance bureau's hospital settlements, corrections and
reversals become claims, decided without a form when everything matches (免审即享)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select

from aid.claims import desk as claims
from aid.claims import rules
from aid.claims.desk import ClaimsDesk
from aid.claims.rules import Figures, Status
from aid.domain import CoverStatus
from aid.models import INSURED_RESIDENT_ID, Claim, Enrolment, InsuredPerson
from gonghui_contracts import EnvelopeHead, RejectionReason
from gonghui_contracts.events import (
    MemberIdentified,
    MemberTransferred,
    SettlementOutcome,
    SettlementRecorded,
    SettlementReversed,
)
from gonghui_contracts.values import DiagnosisCategory, to_cents, to_yuan
from servicekit import Unit
from servicekit.db import upsert
from servicekit.pii import PiiVault

Outcome = Literal["approved", "under_review", "superseded", "reversed", "rejected"]
MOVED = RejectionReason(
    field="resident_id",
    rule="the revision moves a paid stay to another person or out of its policy year",
)


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    claim_id: uuid.UUID | None = None
    payout_cents: int | None = None
    reasons: tuple[RejectionReason, ...] = ()


async def identified(vault: PiiVault, unit: Unit, members: Sequence[MemberIdentified]) -> None:
    """Remember who members are (by fingerprint; the resident ID only encrypted), in one
    statement; what was known of a member before is replaced."""
    await upsert(
        unit.session,
        InsuredPerson,
        [
            {
                "member_id": member.member_id,
                "person_key": vault.fingerprint(member.resident_id),
                "resident_id": vault.encrypt(
                    member.resident_id, INSURED_RESIDENT_ID.at(member.member_id)
                ),
                "union_id": member.union_id,
                "region_code": member.region_code,
                "city_code": member.city_code,
            }
            for member in members
        ],
        key="member_id",
    )


async def transferred(unit: Unit, transfer: MemberTransferred) -> None:
    person = await unit.session.get(InsuredPerson, transfer.member_id)
    if person is not None:
        person.union_id = transfer.to_union_id


async def settle(
    desk: ClaimsDesk,
    unit: Unit,
    message: SettlementRecorded | SettlementReversed,
    cause: EnvelopeHead | None = None,
) -> Answer:
    source = unit.partner.partner_id
    claim = await unit.session.scalar(
        select(Claim)
        .where(Claim.source == source, Claim.reference == message.settlement_id)
        .with_for_update()
    )
    if claim is not None and not rules.supersedes(message.revision, claim.revision):
        if message.revision == claim.revision:
            return answer(claim)  # the same revision again: the same answer
        return Answer("superseded", claim.claim_id, claim.payout_cents)
    if isinstance(message, SettlementReversed):
        return await _reverse(desk, unit, claim, message, cause)
    return await _adjudicate(desk, unit, claim, message, cause)


def answer_bureau(
    unit: Unit,
    answer: Answer,
    ref: str,
    revision: int,
    *,
    cause: EnvelopeHead | None,
    bureau: str | None = None,
) -> None:
    """The outcome, on the bureau's own outcome topic (the sender's, unless `bureau` says)."""
    unit.emit(
        SettlementOutcome(
            settlement_id=ref,
            revision=revision,
            bureau_id=bureau or unit.partner.partner_id,
            outcome=answer.outcome,
            claim_id=answer.claim_id,
            payout=None if answer.payout_cents is None else to_yuan(answer.payout_cents),
            reasons=list(answer.reasons),
        ),
        key=ref,
        cause=cause,
        to=bureau,
    )


def answer(claim: Claim) -> Answer:
    outcome: Outcome = claim.status  # type: ignore[assignment]
    return Answer(outcome, claim.claim_id, claim.payout_cents, tuple(claims.reasons_of(claim)))


async def _adjudicate(
    desk: ClaimsDesk,
    unit: Unit,
    claim: Claim | None,
    message: SettlementRecorded,
    cause: EnvelopeHead | None,
) -> Answer:
    person = await find_person(desk.vault, unit, message.resident_id)
    cover = await covering(unit, person.member_id, message.admitted_on) if person else None
    if claim is None:
        claim = claims.new_claim(desk, unit.partner.partner_id, message.settlement_id)
        unit.session.add(claim)
    # what a claim paid stays where it was paid until staff decide a revision that moves it
    moved = bool(claim.payout_cents) and (
        person is None
        or person.member_id != claim.member_id
        or cover is None
        or cover.policy_year != claim.policy_year
    )
    staff_before = claim.decided_by == "staff"
    claim.revision = message.revision
    claims.fill(claim, _figures(message), message.hospital)
    if not moved:
        claims.attribute(claim, person, cover)
    figures = claims.figures_of(claim)
    problems = rules.inconsistencies(figures, desk.clock.today())
    if moved:
        problems.append(MOVED)
    year = (
        await claims.claim_year(unit, claim.member_id, claim.policy_year)
        if claim.member_id is not None and claim.policy_year is not None
        else None
    )
    proposed = claims.room_under_cap(claim, year, desk.terms) if year else 0
    claim.proposed_cents = proposed
    reasons = rules.review_reasons(
        member_found=person is not None,
        covered=cover is not None,
        figures_problems=problems,
        payout_cents=proposed,
        staff_decided_before=staff_before,
        terms=desk.terms,
    )
    if not reasons and year is not None:
        settled = await claims.settle_to(
            desk,
            unit,
            claim,
            year,
            proposed,
            status=Status.APPROVED,
            actor=claims.AUTO,
            reason=f"revision {claim.revision}",
            cause=cause,
        )
        if settled:
            return answer(claim)
        reasons = [rules.FUND_SHORT]
    claims.put_under_review(desk, unit, claim, reasons, actor=claims.AUTO, cause=cause)
    return answer(claim)


async def _reverse(
    desk: ClaimsDesk,
    unit: Unit,
    claim: Claim | None,
    message: SettlementReversed,
    cause: EnvelopeHead | None,
) -> Answer:
    if claim is None:  # the reversal came first: the settlement, when it comes, is superseded
        claim = claims.new_claim(desk, unit.partner.partner_id, message.settlement_id)
        today = desk.clock.today()
        claims.fill(claim, Figures(today, today, 0, 0, 0, DiagnosisCategory.GENERAL), "")
        unit.session.add(claim)
    claim.revision = message.revision
    if claim.payout_cents and claim.member_id is not None and claim.policy_year is not None:
        year = await claims.claim_year(unit, claim.member_id, claim.policy_year)
        await claims.settle_to(
            desk,
            unit,
            claim,
            year,
            0,
            status=Status.REVERSED,
            actor=claims.AUTO,
            reason=message.reason,
            cause=cause,
        )
    else:
        claims.reverse_unpaid(desk, unit, claim, reason=message.reason, cause=cause)
    return answer(claim)


async def find_person(vault: PiiVault, unit: Unit, resident_id: str) -> InsuredPerson | None:
    """The member with this resident ID, whichever key of the ring made its fingerprint."""
    person: InsuredPerson | None = await unit.session.scalar(
        select(InsuredPerson).where(InsuredPerson.person_key.in_(vault.fingerprints(resident_id)))
    )
    return person


async def covering(unit: Unit, member_id: uuid.UUID, day: date) -> Enrolment | None:
    """The member's enrolment whose paid period covers `day`, if any."""
    enrolment: Enrolment | None = await unit.session.scalar(
        select(Enrolment).where(
            Enrolment.member_id == member_id,
            Enrolment.status.in_((CoverStatus.COVERED, CoverStatus.ENDED)),
            Enrolment.period_start <= day,
            Enrolment.period_end >= day,
        )
    )
    return enrolment


def _figures(message: SettlementRecorded) -> Figures:
    return Figures(
        admitted_on=message.admitted_on,
        discharged_on=message.discharged_on,
        total_cents=to_cents(message.total_cost),
        basic_paid_cents=to_cents(message.basic_paid),
        out_of_pocket_cents=to_cents(message.out_of_pocket_in_list),
        diagnosis=message.diagnosis,
    )
