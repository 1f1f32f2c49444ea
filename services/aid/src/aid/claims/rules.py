"""Mutual-aid claim rules (理赔 → 慰问 → 救助). Pure: no I/O. Money in integer cents.

- A settlement of the basic medical insurance is a claim on the union's cover when the insured
  person is a member covered on the day of admission.
- The payout is a share of the out-of-pocket costs within the policy list above a deductible
  (a higher share for serious illness), within a yearly cap per member and policy year.
- It is decided without review (免审即享) when everything matches and it is not above the
  auto-approval limit; otherwise staff review it, told why.
- A settlement's revisions replace each other by number: the highest seen is the one in force,
  whatever order they came in, and only the difference to what was paid moves.
- Serious illness brings condolence money once per member, policy year and illness; a member
  whose own costs in a policy year pass the hardship line is referred for relief once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from gonghui_contracts import RejectionReason
from gonghui_contracts.values import DiagnosisCategory


@dataclass(frozen=True)
class ClaimTerms:
    deductible_cents: int
    rate_permille: int
    serious_rate_permille: int
    yearly_cap_cents: int
    auto_limit_cents: int
    condolence_cents: int
    condolence_cost_cents: (
        int  # a stay costing this much is a serious illness, whatever the diagnosis
    )
    relief_line_cents: int


# (design) Not in the seeds: Guangzhou's 2024 figures (60,300 payouts, 129M yuan of burden
# relieved) give about 2,100 yuan a payout, which these terms pay for a stay of ~4,700 yuan.
DEFAULT_TERMS = ClaimTerms(
    deductible_cents=500_00,
    rate_permille=500,
    serious_rate_permille=700,
    yearly_cap_cents=30_000_00,
    auto_limit_cents=20_000_00,
    condolence_cents=1_000_00,
    condolence_cost_cents=100_000_00,
    relief_line_cents=30_000_00,
)


@dataclass(frozen=True)
class Figures:
    """What a settlement revision (or a member's own claim) says about one hospital stay."""

    admitted_on: date
    discharged_on: date
    total_cents: int
    basic_paid_cents: int
    out_of_pocket_cents: int
    diagnosis: DiagnosisCategory


class Status(StrEnum):
    APPROVED = "approved"
    UNDER_REVIEW = "under_review"
    REJECTED = "rejected"
    REVERSED = "reversed"


NOT_A_MEMBER = RejectionReason(field="resident_id", rule="the insured person is not a member")
NO_COVER = RejectionReason(
    field="admitted_on", rule="the member had no mutual-aid cover on the day of admission"
)
ABOVE_AUTO_LIMIT = RejectionReason(
    field="out_of_pocket_in_list", rule="the payout is above the limit approved without review"
)
STAFF_DECIDED = RejectionReason(
    field="revision", rule="staff decided this claim before: a new revision is theirs to decide"
)
FUND_SHORT = RejectionReason(field="payout", rule="the claims fund cannot pay it now")
OUTSIDE_FEED = RejectionReason(
    field="origin", rule="care the bureau's feed does not carry: staff check the receipts"
)


def inconsistencies(figures: Figures, today: date) -> list[RejectionReason]:
    """What in the figures cannot be true together (a claim with any is reviewed, not paid)."""
    found = []
    if figures.discharged_on < figures.admitted_on:
        found.append(RejectionReason(field="discharged_on", rule="before the day of admission"))
    if figures.admitted_on > today:
        found.append(RejectionReason(field="admitted_on", rule="after today"))
    if figures.basic_paid_cents + figures.out_of_pocket_cents > figures.total_cents:
        found.append(
            RejectionReason(
                field="total_cost",
                rule="less than what the basic insurance paid plus the out-of-pocket part",
            )
        )
    return found


def serious(figures: Figures, terms: ClaimTerms) -> bool:
    return (
        figures.diagnosis is DiagnosisCategory.SERIOUS_ILLNESS
        or figures.total_cents >= terms.condolence_cost_cents
    )


def payout_due(figures: Figures, terms: ClaimTerms) -> int:
    """The payout before the yearly cap: the rate's share of the out-of-pocket part within the
    policy list above the deductible, rounded down to the cent."""
    eligible = max(0, figures.out_of_pocket_cents - terms.deductible_cents)
    rate = terms.serious_rate_permille if serious(figures, terms) else terms.rate_permille
    return eligible * rate // 1000


def within_cap(due_cents: int, paid_by_other_claims_cents: int, terms: ClaimTerms) -> int:
    """What a claim may pay when the member's other claims of the policy year paid so much."""
    return max(0, min(due_cents, terms.yearly_cap_cents - paid_by_other_claims_cents))


def review_reasons(
    *,
    member_found: bool,
    covered: bool,
    figures_problems: list[RejectionReason],
    payout_cents: int,
    staff_decided_before: bool,
    terms: ClaimTerms,
) -> list[RejectionReason]:
    """Why a claim cannot be paid without review; none means 免审即享."""
    if not member_found:
        return [NOT_A_MEMBER, *figures_problems]
    reasons = [] if covered else [NO_COVER]
    reasons += figures_problems
    if payout_cents > terms.auto_limit_cents:
        reasons.append(ABOVE_AUTO_LIMIT)
    if staff_decided_before:
        reasons.append(STAFF_DECIDED)
    return reasons


def supersedes(revision: int, in_force: int | None) -> bool:
    """A revision replaces the one in force only if its number is higher: a repeat or a late
    older revision changes nothing."""
    return in_force is None or revision > in_force


def out_of_pocket_after(figures: Figures, payout_cents: int) -> int:
    """What the stay still costs the member once the claim paid."""
    return max(0, figures.out_of_pocket_cents - payout_cents)


def needs_relief(year_out_of_pocket_cents: int, terms: ClaimTerms) -> bool:
    return year_out_of_pocket_cents >= terms.relief_line_cents
