"""The dispute chain 商调裁诉援执 as a state machine: which moves are allowed, which stages may be
skipped, which outcomes close a case at which stage, and each stage's deadline.

Defaults from PRC rules where there is one (劳动争议调解仲裁法: mediation 15 days (第14条),
arbitration award 45 days extendable once by 15 (第43条), one year to apply for arbitration
(第27条); 民事诉讼法: first instance six months; enforcement six months); the others are our
choice and marked so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from gonghui_contracts.values import CaseOutcome, CaseStage, FilingChannel

ORDER: tuple[CaseStage, ...] = tuple(CaseStage)
SKIPPABLE = frozenset({CaseStage.MEDIATION, CaseStage.LITIGATION, CaseStage.LEGAL_AID})
"""Mediation is voluntary, an award can be enforced without a lawsuit, and not every worker needs
legal aid. Arbitration is never skipped on the way to court (仲裁前置); a mediated agreement a
court has confirmed (司法确认) goes to enforcement without it."""

OUTCOMES: Mapping[CaseStage, frozenset[CaseOutcome]] = {
    CaseStage.NEGOTIATION: frozenset({CaseOutcome.SETTLED, CaseOutcome.WITHDRAWN}),
    CaseStage.MEDIATION: frozenset({CaseOutcome.SETTLED, CaseOutcome.WITHDRAWN}),
    CaseStage.ARBITRATION: frozenset(
        {CaseOutcome.SETTLED, CaseOutcome.WITHDRAWN, CaseOutcome.AWARD}
    ),
    CaseStage.LITIGATION: frozenset(
        {CaseOutcome.SETTLED, CaseOutcome.WITHDRAWN, CaseOutcome.JUDGMENT}
    ),
    CaseStage.LEGAL_AID: frozenset(
        {CaseOutcome.SETTLED, CaseOutcome.WITHDRAWN, CaseOutcome.JUDGMENT}
    ),
    CaseStage.ENFORCEMENT: frozenset({CaseOutcome.ENFORCED, CaseOutcome.WITHDRAWN}),
}
WITH_AMOUNT = frozenset(
    {CaseOutcome.SETTLED, CaseOutcome.AWARD, CaseOutcome.JUDGMENT, CaseOutcome.ENFORCED}
)

DEFAULT_STAGE_DAYS: Mapping[CaseStage, int] = {
    CaseStage.NEGOTIATION: 15,  # (design) 企业劳动争议协商调解规定 leaves it to the parties
    CaseStage.MEDIATION: 15,
    CaseStage.ARBITRATION: 45,
    CaseStage.LITIGATION: 180,
    CaseStage.LEGAL_AID: 90,  # (design)
    CaseStage.ENFORCEMENT: 180,
}


class IllegalMove(ValueError):
    """A move the chain does not allow; the message says which rule (no personal data)."""


@dataclass(frozen=True)
class ChainTerms:
    stage_days: Mapping[CaseStage, int] = field(default_factory=lambda: dict(DEFAULT_STAGE_DAYS))
    extension_days: Mapping[CaseStage, int] = field(
        default_factory=lambda: {CaseStage.ARBITRATION: 15}
    )
    limitation_years: int = 1
    reminder_days: int = 3  # (design) before a stage's deadline
    limitation_reminder_days: int = 30  # (design) before the last day to apply for arbitration

    def due(self, stage: CaseStage, started: datetime) -> datetime:
        return started + timedelta(days=self.stage_days[stage])


def skipped(current: CaseStage, target: CaseStage) -> list[CaseStage]:
    return list(ORDER[ORDER.index(current) + 1 : ORDER.index(target)])


def check_move(
    current: CaseStage, target: CaseStage, *, confirmed: bool = False
) -> list[CaseStage]:
    """The stages a move from `current` to `target` skips; raises IllegalMove if not allowed.

    A mediated agreement a court has confirmed (司法确认, `confirmed`) is enforceable as it is:
    from mediation it may go straight to enforcement."""
    if ORDER.index(target) <= ORDER.index(current):
        raise IllegalMove(f"a case at {current.value} cannot move back or stay: to {target.value}")
    passed = skipped(current, target)
    if confirmed and (current, target) == (CaseStage.MEDIATION, CaseStage.ENFORCEMENT):
        return passed
    barred = [stage for stage in passed if stage not in SKIPPABLE]
    if barred:
        names = ", ".join(stage.value for stage in barred)
        raise IllegalMove(
            f"{current.value} → {target.value} would skip {names}, which cannot be skipped"
            + (
                " (arbitration comes before court: 仲裁前置)"
                if CaseStage.ARBITRATION in barred
                else ""
            )
            + (
                "; a mediated agreement goes to enforcement once judicially confirmed (司法确认)"
                if (current, target) == (CaseStage.MEDIATION, CaseStage.ENFORCEMENT)
                else ""
            )
        )
    return passed


def check_outcome(stage: CaseStage, outcome: CaseOutcome, amount_given: bool) -> None:
    if outcome not in OUTCOMES[stage]:
        allowed = ", ".join(sorted(o.value for o in OUTCOMES[stage]))
        raise IllegalMove(f"a case at {stage.value} closes as {allowed}, not {outcome.value}")
    if outcome in WITH_AMOUNT and not amount_given:
        raise IllegalMove(f"{outcome.value} needs the amount")
    if outcome not in WITH_AMOUNT and amount_given:
        raise IllegalMove(f"{outcome.value} has no amount")


def check_confirmation(stage: CaseStage, confirmed: bool) -> None:
    """Only a mediated agreement is confirmed by a court, and once."""
    if stage is not CaseStage.MEDIATION:
        raise IllegalMove(
            f"only a mediated agreement is judicially confirmed, not at {stage.value}"
        )
    if confirmed:
        raise IllegalMove("the agreement is judicially confirmed already")


def extended_due(terms: ChainTerms, stage: CaseStage, due_at: datetime, extended: bool) -> datetime:
    """The deadline after the one extension `stage` allows; raises IllegalMove otherwise."""
    days = terms.extension_days.get(stage)
    if days is None:
        raise IllegalMove(f"the {stage.value} deadline cannot be extended")
    if extended:
        raise IllegalMove(f"the {stage.value} deadline was extended already (once only)")
    return due_at + timedelta(days=days)


def limitation_ends(arose_on: date, years: int = 1) -> date:
    """The last day to apply for arbitration; 29 February rolls to 28 February."""
    try:
        return arose_on.replace(year=arose_on.year + years)
    except ValueError:
        return arose_on.replace(year=arose_on.year + years, day=28)


BEFORE_ARBITRATION = frozenset(ORDER[: ORDER.index(CaseStage.ARBITRATION)])
"""Stages in which the one-year limitation runs: it stops once the worker applies to arbitrate."""


def deadline_state(now: datetime, due_at: datetime, reminder: timedelta) -> str:
    if now > due_at:
        return "overdue"
    if now >= due_at - reminder:
        return "due_soon"
    return "on_time"


def first_stage(channel: FilingChannel) -> CaseStage:
    """Courts and arbitration commissions refer disputes to union mediation (诉调对接, 裁前调解);
    everything else starts with negotiation with the employer."""
    if channel in (FilingChannel.COURT, FilingChannel.ARBITRATION):
        return CaseStage.MEDIATION
    return CaseStage.NEGOTIATION
