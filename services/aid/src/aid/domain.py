"""Mutual-aid insurance rules (工会二次医保). Pure: no I/O.

- Every new member is offered cover for a policy period of one year from the day they join.
- New-employment-form workers are gifted the premium by a fund while it can pay a whole
  premium; after that, and for everyone else, enrolment is at the member's own cost.
- The fund never goes below zero and pays at most once per member and policy year.
- A member who leaves keeps cover to the end of the paid period; then it ends.
Money is in cents (int) inside the service: exact, and safe in any database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Decision(StrEnum):
    GIFT = "gift"
    FUND_EXHAUSTED = "fund_exhausted"
    NOT_ELIGIBLE = "not_eligible_for_gift"


class CoverStatus(StrEnum):
    COVERED = "covered"
    OFFERED = "offered"
    ENDED = "ended"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # last day covered

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def policy_period(joined_on: date) -> Period:
    """One year from the day of joining; a 29 February start ends on 27 February."""
    try:
        anniversary = joined_on.replace(year=joined_on.year + 1)
    except ValueError:
        anniversary = date(joined_on.year + 1, 3, 1)
    return Period(joined_on, anniversary - timedelta(days=1))


def can_pay(balance_cents: int, premium_cents: int) -> bool:
    """The fund pays whole premiums only. (The service applies this rule inside the database's
    conditional update, so concurrent enrolments cannot both pass it on the same balance.)"""
    return balance_cents >= premium_cents


def decide(new_employment_form: bool, *, fund_paid: bool) -> Decision:
    if not new_employment_form:
        return Decision.NOT_ELIGIBLE
    return Decision.GIFT if fund_paid else Decision.FUND_EXHAUSTED


def coverage_is_over(
    status: CoverStatus, left_on: date | None, period_end: date, today: date
) -> bool:
    """A leaver's cover ends once the paid period is over."""
    return status is CoverStatus.COVERED and left_on is not None and today > period_end
