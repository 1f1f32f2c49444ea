"""What every claims use case works with, and the one way a claim's payout changes.

`settle_to` moves a claim to a new payout: only the difference leaves (or returns to) the claims
fund, by its conditional update, with a ledger row and a payment row; the member's policy year
is locked meanwhile, so that two claims of one member decided at once cannot both use the same
room under the yearly cap. Condolence and relief follow an approval.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from aid import funds
from aid.claims import rules
from aid.claims.rules import ClaimTerms, Figures, Status
from aid.errors import NotFound
from aid.models import (
    Claim,
    ClaimHistory,
    ClaimPayment,
    ClaimYear,
    Enrolment,
    IllnessEpisode,
    InjuryCase,
    InsuredPerson,
    ReliefCase,
)
from gonghui_contracts import EnvelopeHead, RejectionReason
from gonghui_contracts.events import (
    ClaimClawedBack,
    ClaimDecided,
    IllnessCondolencePaid,
    ReliefCaseOpened,
)
from gonghui_contracts.values import DiagnosisCategory, to_yuan
from servicekit import Unit, telemetry
from servicekit.clock import Clock
from servicekit.db import insert_if_absent
from servicekit.pii import PiiVault

AUTO = "auto"


@dataclass(frozen=True)
class ClaimsDesk:
    terms: ClaimTerms
    fund_id: str
    condolence_fund_id: str
    vault: PiiVault
    clock: Clock


def new_claim(desk: ClaimsDesk, source: str, reference: str, origin: str = "settlement") -> Claim:
    """A claim just received, under review until decided; its figures and member to be set."""
    now = desk.clock.now()
    return Claim(
        claim_id=uuid.uuid4(),
        origin=origin,
        source=source,
        reference=reference,
        revision=0,
        status=Status.UNDER_REVIEW,
        decided_by=AUTO,
        proposed_cents=0,
        payout_cents=0,
        counted_cents=0,
        reasons="[]",
        received_at=now,
        decided_at=now,
        trace_headers=json.dumps(telemetry.inject({})),
    )


def fill(claim: Claim, figures: Figures, hospital: str) -> None:
    """The stay the claim is for."""
    claim.hospital = hospital
    claim.admitted_on, claim.discharged_on = figures.admitted_on, figures.discharged_on
    claim.total_cents, claim.basic_paid_cents = figures.total_cents, figures.basic_paid_cents
    claim.out_of_pocket_cents, claim.diagnosis = figures.out_of_pocket_cents, figures.diagnosis


def attribute(claim: Claim, person: InsuredPerson | None, cover: Enrolment | None) -> None:
    """The member the claim counts for, their union and region, and the policy year."""
    claim.member_id = person.member_id if person else None
    claim.union_id = person.union_id if person else None
    claim.city_code = person.city_code if person else None
    claim.district_code = person.region_code if person else None
    claim.policy_year = cover.policy_year if cover else None


def figures_of(claim: Claim) -> Figures:
    return Figures(
        admitted_on=claim.admitted_on,
        discharged_on=claim.discharged_on,
        total_cents=claim.total_cents,
        basic_paid_cents=claim.basic_paid_cents,
        out_of_pocket_cents=claim.out_of_pocket_cents,
        diagnosis=DiagnosisCategory(claim.diagnosis),
    )


def reasons_of(claim: Claim) -> list[RejectionReason]:
    return [RejectionReason.model_validate(reason) for reason in json.loads(claim.reasons)]


def key_of(claim: Claim) -> str:
    return str(claim.member_id or claim.claim_id)


async def find_claim(unit: Unit, claim_id: uuid.UUID, *, for_update: bool = False) -> Claim:
    query = select(Claim).where(Claim.claim_id == claim_id)
    if for_update:
        query = query.with_for_update()
    claim = await unit.session.scalar(query)
    if claim is None:
        raise NotFound(f"no claim {claim_id}")
    return claim


async def claim_year(unit: Unit, member_id: uuid.UUID, policy_year: int) -> ClaimYear:
    """The member's policy year, locked until the transaction ends."""
    await insert_if_absent(
        unit.session,
        ClaimYear,
        member_id=member_id,
        policy_year=policy_year,
        paid_cents=0,
        out_of_pocket_after_cents=0,
    )
    year = await unit.session.scalar(
        select(ClaimYear)
        .where(ClaimYear.member_id == member_id, ClaimYear.policy_year == policy_year)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert year is not None
    return year


def room_under_cap(claim: Claim, year: ClaimYear, terms: ClaimTerms) -> int:
    """What the claim may pay in all, given what the member's other claims of the year paid."""
    due = rules.payout_due(figures_of(claim), terms)
    return rules.within_cap(due, year.paid_cents - claim.payout_cents, terms)


def put_under_review(
    desk: ClaimsDesk,
    unit: Unit,
    claim: Claim,
    reasons: list[RejectionReason],
    *,
    actor: str,
    cause: EnvelopeHead | None,
) -> None:
    reason = "; ".join(r.rule for r in reasons)
    _record(desk, unit, claim, Status.UNDER_REVIEW, "review", actor, reasons, reason, cause)


def reject(
    desk: ClaimsDesk,
    unit: Unit,
    claim: Claim,
    *,
    actor: str,
    reason: str,
    cause: EnvelopeHead | None,
) -> None:
    reasons = [RejectionReason(field="claim", rule=reason)]
    _record(desk, unit, claim, Status.REJECTED, "reject", actor, reasons, reason, cause)


def reverse_unpaid(
    desk: ClaimsDesk, unit: Unit, claim: Claim, *, reason: str, cause: EnvelopeHead | None
) -> None:
    """The bureau reversed a settlement whose claim pays nothing (under review, rejected,
    approved with nothing due, or not seen yet: the reversal came first): nothing moves, but
    the claim's history and aid.claims.v1 say it ended, as for a reversal that claws back."""
    _record(desk, unit, claim, Status.REVERSED, Status.REVERSED.value, AUTO, [], reason, cause)


def _record(  # noqa: PLR0917 — one private step of the three decisions above and settle_to
    desk: ClaimsDesk,
    unit: Unit,
    claim: Claim,
    status: Status,
    action: str,
    actor: str,
    reasons: list[RejectionReason],
    reason: str | None,
    cause: EnvelopeHead | None,
    change_cents: int = 0,
) -> None:
    """A decision on the claim: its status, who and why in its history, and ClaimDecided."""
    claim.status, claim.decided_by = status, _actor_kind(actor)
    claim.reasons, claim.decided_at = _json(reasons), desk.clock.now()
    _history(
        unit,
        claim,
        actor=actor,
        action=action,
        change_cents=change_cents,
        reason=reason,
        at=claim.decided_at,
    )
    _decided(unit, claim, change_cents, reasons, cause)


async def settle_to(
    desk: ClaimsDesk,
    unit: Unit,
    claim: Claim,
    year: ClaimYear,
    target_cents: int,
    *,
    status: Status,
    actor: str,
    reason: str | None,
    cause: EnvelopeHead | None,
) -> bool:
    """Make `target_cents` what the claim pays in all. False (nothing changed) if the claims
    fund cannot pay the difference."""
    assert claim.member_id is not None
    assert claim.policy_year == year.policy_year
    now, change = desk.clock.now(), target_cents - claim.payout_cents
    movement = funds.Payment(
        "payout" if change > 0 else "clawback",
        abs(change),
        now,
        member_id=claim.member_id,
        claim_id=claim.claim_id,
        cause_event_id=cause.event_id if cause else None,
    )
    if change > 0:
        if await funds.debit(unit, desk.fund_id, movement) is None:
            return False
        _payment(
            unit,
            claim.claim_id,
            claim.member_id,
            kind="payout",
            amount_cents=change,
            status="pending",
            now=now,
        )
    elif change < 0:
        await funds.credit(unit, desk.fund_id, movement)
        owed = await _take_back_unsent(unit, claim.claim_id, -change)
        if owed:
            _payment(
                unit,
                claim.claim_id,
                claim.member_id,
                kind="clawback",
                amount_cents=-owed,
                status="owed",
                now=now,
            )
            unit.emit(
                ClaimClawedBack(
                    claim_id=claim.claim_id, member_id=claim.member_id, amount=to_yuan(owed)
                ),
                key=key_of(claim),
                cause=cause,
            )
    counted = (
        rules.out_of_pocket_after(figures_of(claim), target_cents)
        if status is Status.APPROVED
        else 0
    )
    year.paid_cents += change
    year.out_of_pocket_after_cents += counted - claim.counted_cents
    claim.payout_cents, claim.counted_cents = target_cents, counted
    _record(desk, unit, claim, status, status.value, actor, [], reason, cause, change)
    if status is Status.APPROVED and target_cents > 0:
        await _condolence(desk, unit, claim, cause)
        await _relief(desk, unit, claim, year, cause)
    return True


async def _condolence(
    desk: ClaimsDesk, unit: Unit, claim: Claim, cause: EnvelopeHead | None
) -> None:
    """Condolence for a serious illness, once per member, policy year and illness."""
    terms = desk.terms
    if not rules.serious(figures_of(claim), terms) or terms.condolence_cents <= 0:
        return
    assert claim.member_id is not None
    assert claim.policy_year is not None
    seen = await unit.session.scalar(
        select(IllnessEpisode.id).where(
            IllnessEpisode.member_id == claim.member_id,
            IllnessEpisode.policy_year == claim.policy_year,
            IllnessEpisode.diagnosis == claim.diagnosis,
        )
    )
    if seen is not None:
        return
    now = desk.clock.now()
    paid = await funds.debit(
        unit,
        desk.condolence_fund_id,
        funds.Payment(
            "condolence",
            terms.condolence_cents,
            now,
            member_id=claim.member_id,
            claim_id=claim.claim_id,
            cause_event_id=cause.event_id if cause else None,
        ),
    )
    amount = terms.condolence_cents if paid is not None else 0
    unit.session.add(
        IllnessEpisode(
            member_id=claim.member_id,
            policy_year=claim.policy_year,
            diagnosis=claim.diagnosis,
            claim_id=claim.claim_id,
            condolence_cents=amount,
        )
    )
    await unit.session.flush()  # the unique episode decides a race between two replicas here
    if paid is None:
        return
    _payment(
        unit,
        claim.claim_id,
        claim.member_id,
        kind="condolence",
        amount_cents=amount,
        status="pending",
        now=now,
    )
    unit.emit(
        IllnessCondolencePaid(
            claim_id=claim.claim_id,
            member_id=claim.member_id,
            amount=to_yuan(amount),
            fund_id=desk.condolence_fund_id,
            policy_year=claim.policy_year,
        ),
        key=key_of(claim),
        cause=cause,
    )


async def _relief(
    desk: ClaimsDesk, unit: Unit, claim: Claim, year: ClaimYear, cause: EnvelopeHead | None
) -> None:
    """A relief case for the member's district union, once per policy year, when the year's own
    costs after payouts pass the hardship line."""
    if not rules.needs_relief(year.out_of_pocket_after_cents, desk.terms):
        return
    assert claim.member_id is not None
    assert claim.union_id is not None
    assert claim.district_code is not None
    opened = await unit.session.scalar(
        select(ReliefCase.relief_id).where(
            ReliefCase.member_id == claim.member_id,
            ReliefCase.policy_year == year.policy_year,
        )
    )
    if opened is not None:
        return
    linked = await _injury_cases_of(unit, claim.member_id, since=claim.admitted_on)
    relief = ReliefCase(
        relief_id=uuid.uuid4(),
        member_id=claim.member_id,
        policy_year=year.policy_year,
        union_id=claim.union_id,
        district_code=claim.district_code,
        out_of_pocket_after_cents=year.out_of_pocket_after_cents,
        linked_injury_cases=json.dumps([str(case_id) for case_id in linked]),
        status="open",
        opened_at=desk.clock.now(),
    )
    unit.session.add(relief)
    unit.emit(
        ReliefCaseOpened(
            relief_id=relief.relief_id,
            member_id=claim.member_id,
            union_id=relief.union_id,
            district_code=relief.district_code,
            policy_year=relief.policy_year,
            out_of_pocket_after_payouts=to_yuan(relief.out_of_pocket_after_cents),
            linked_injury_cases=linked,
        ),
        key=key_of(claim),
        cause=cause,
    )


async def _injury_cases_of(unit: Unit, member_id: uuid.UUID, since: date) -> list[uuid.UUID]:
    """The member's work-injury cases of the year before `since` and after: the relief case
    links them rather than opening the story again (found by the resident-ID fingerprint both
    keep; a case stored under a key not yet rekeyed is missed)."""
    found = await unit.session.scalars(
        select(InjuryCase.case_id)
        .join(InsuredPerson, InsuredPerson.person_key == InjuryCase.worker_key)
        .where(
            InsuredPerson.member_id == member_id,
            InjuryCase.injured_on >= since - timedelta(days=365),
        )
        .order_by(InjuryCase.injured_on)
    )
    return list(found)


async def _take_back_unsent(unit: Unit, claim_id: uuid.UUID, amount_cents: int) -> int:
    """Take `amount_cents` back from the claim's payouts not sent yet, newest first; what is
    left, the member owes (it was paid). A payout being sent at this moment is waited for, and
    then it is no longer pending."""
    unsent = await unit.session.scalars(
        select(ClaimPayment)
        .where(
            ClaimPayment.claim_id == claim_id,
            ClaimPayment.kind == "payout",
            ClaimPayment.status == "pending",
        )
        .order_by(ClaimPayment.created_at.desc())
        .with_for_update()
    )
    left = amount_cents
    for payment in unsent:
        taken = min(left, payment.amount_cents)
        payment.amount_cents -= taken
        if payment.amount_cents == 0:
            payment.status = "cancelled"
        left -= taken
        if not left:
            break
    return left


def _payment(
    unit: Unit,
    claim_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    kind: str,
    amount_cents: int,
    status: str,
    now: datetime,
) -> None:
    unit.session.add(
        ClaimPayment(
            payment_id=uuid.uuid4(),
            claim_id=claim_id,
            member_id=member_id,
            kind=kind,
            amount_cents=amount_cents,
            status=status,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def _history(
    unit: Unit,
    claim: Claim,
    *,
    actor: str,
    action: str,
    change_cents: int,
    reason: str | None,
    at: datetime,
) -> None:
    unit.session.add(
        ClaimHistory(
            claim_id=claim.claim_id,
            at=at,
            actor=actor,
            action=action,
            revision=claim.revision,
            change_cents=change_cents,
            reason=reason[:2000] if reason else None,
        )
    )


def _decided(
    unit: Unit,
    claim: Claim,
    change_cents: int,
    reasons: list[RejectionReason],
    cause: EnvelopeHead | None,
) -> None:
    unit.emit(
        ClaimDecided(
            claim_id=claim.claim_id,
            member_id=claim.member_id,
            origin="member" if claim.origin == "member" else "settlement",
            decision=claim.status,
            decided_by="staff" if claim.decided_by == "staff" else "auto",
            policy_year=claim.policy_year,
            payout=to_yuan(claim.payout_cents),
            change=f"{Decimal(change_cents) / 100:.2f}",
            reasons=reasons,
            city_code=claim.city_code,
            district_code=claim.district_code,
        ),
        key=key_of(claim),
        cause=cause,
    )


def _actor_kind(actor: str) -> str:
    return AUTO if actor == AUTO else "staff"


def _json(reasons: list[RejectionReason]) -> str:
    return json.dumps([reason.model_dump() for reason in reasons], ensure_ascii=False)
