"""What people do with claims: staff decide the ones under review (approve, reduce, reject,
each with who and why in the claim's history); a member claims care the bureau's feed does not
carry (a hospital in another province), which staff then review; staff record the outcome of a
relief case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import select

from aid.claims import desk as claims
from aid.claims import rules, settlements
from aid.claims.desk import ClaimsDesk
from aid.claims.rules import Figures, Status
from aid.claims.settlements import covering
from aid.errors import NotFound, Refused
from aid.models import Claim, InsuredPerson, ReliefCase
from gonghui_contracts import RejectionReason
from servicekit import Unit

Action = Literal["approve", "reduce", "reject"]


@dataclass(frozen=True)
class StaffDecision:
    action: Action
    staff: str
    reason: str | None = None
    amount_cents: int | None = None  # reduce: what the claim pays in all


async def decide(desk: ClaimsDesk, unit: Unit, claim: Claim, decision: StaffDecision) -> Claim:
    """Staff decide a claim under review. Approve pays what the rules give (within the cap),
    reduce pays less with a reason, reject pays nothing (claws back anything paid) with a reason."""
    if claim.status != Status.UNDER_REVIEW:
        raise Refused(f"the claim is {claim.status}, not under review")
    if decision.action != "approve" and not decision.reason:
        raise Refused(f"to {decision.action} a claim, say why")
    if decision.action == "reject" and not claim.payout_cents:
        claims.reject(
            desk, unit, claim, actor=decision.staff, reason=decision.reason or "", cause=None
        )
        _tell_bureau(unit, claim, decision.reason)
        return claim
    if claim.member_id is None or claim.policy_year is None:
        raise Refused(
            "a claim without a member covered on the day of admission can only be rejected"
        )
    year = await claims.claim_year(unit, claim.member_id, claim.policy_year)
    room = claims.room_under_cap(claim, year, desk.terms)
    target = {"approve": room, "reject": 0}.get(decision.action, decision.amount_cents)
    if target is None or not 0 <= target <= room:
        raise Refused(f"a reduced payout is between 0 and {room / 100:.2f} yuan")
    status = Status.REJECTED if decision.action == "reject" else Status.APPROVED
    settled = await claims.settle_to(
        desk,
        unit,
        claim,
        year,
        target,
        status=status,
        actor=decision.staff,
        reason=decision.reason,
        cause=None,
    )
    if not settled:
        raise Refused("the claims fund cannot pay it now")
    _tell_bureau(unit, claim, decision.reason)
    return claim


def _tell_bureau(unit: Unit, claim: Claim, reason: str | None) -> None:
    """A bureau's settlement decided by staff: the bureau hears the decision as a new outcome
    of the same revision (its last answer was under_review)."""
    if claim.origin == "settlement":
        answer = settlements.answer(claim)
        if claim.status == Status.REJECTED and reason:
            answer = replace(answer, reasons=(RejectionReason(field="claim", rule=reason),))
        settlements.answer_bureau(
            unit, answer, claim.reference, claim.revision, cause=None, bureau=claim.source
        )


async def member_claim(
    desk: ClaimsDesk,
    unit: Unit,
    member_id: uuid.UUID,
    *,
    reference: str,
    figures: Figures,
    hospital: str,
) -> Claim:
    """A member's own claim, always reviewed by staff; the same reference again is the same
    claim."""
    source, key = "app", f"{member_id.hex}:{reference}"
    found = await unit.session.scalar(
        select(Claim).where(Claim.source == source, Claim.reference == key)
    )
    if found is not None:
        return found
    person = await unit.session.get(InsuredPerson, member_id)
    if person is None:
        raise NotFound("aid does not know this member yet")
    cover = await covering(unit, member_id, figures.admitted_on)
    claim = claims.new_claim(desk, source, key, origin="member")
    claims.fill(claim, figures, hospital)
    claims.attribute(claim, person, cover)
    unit.session.add(claim)
    if cover is not None:
        year = await claims.claim_year(unit, member_id, cover.policy_year)
        claim.proposed_cents = claims.room_under_cap(claim, year, desk.terms)
    reasons = [rules.OUTSIDE_FEED]
    reasons += [] if cover else [rules.NO_COVER]
    reasons += rules.inconsistencies(figures, desk.clock.today())
    claims.put_under_review(desk, unit, claim, reasons, actor=claims.AUTO, cause=None)
    return claim


async def decide_relief(
    desk: ClaimsDesk,
    unit: Unit,
    relief_id: uuid.UUID,
    *,
    granted_cents: int | None,
    note: str,
    staff: str,
) -> ReliefCase:
    """The district union's decision on a relief case, recorded once."""
    relief = await unit.session.get(ReliefCase, relief_id, with_for_update=True)
    if relief is None:
        raise NotFound(f"no relief case {relief_id}")
    if relief.status != "open":
        raise Refused(f"the relief case is {relief.status}")
    relief.status = "granted" if granted_cents else "declined"
    relief.granted_cents, relief.note = granted_cents, note
    relief.decided_at, relief.decided_by = desk.clock.now(), staff
    return relief
