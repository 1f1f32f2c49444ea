"""Labour-law supervision 一函两书: an employer with repeated cases gets a prompt letter (提示函);
one that does not put things right gets an opinion letter (意见书), then a suggestion letter
(建议书) to the authorities. The last letter sent and the employer's answer decide the next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from gonghui_contracts.values import EmployerResponse, LetterKind

SEQUENCE: tuple[LetterKind, ...] = tuple(LetterKind)


@dataclass(frozen=True)
class SupervisionTerms:
    repeat_cases: int = 3  # (design) cases against one employer in `period` before a letter
    period: timedelta = timedelta(days=365)
    respond_days: int = 30  # (design)


@dataclass(frozen=True)
class LetterState:
    """Where an employer stands: the last letter, its answer, and the cases since it."""

    last: LetterKind | None
    respond_by: date | None
    response: EmployerResponse | None
    cases_in_period: int
    cases_since_last: int


def following(letter: LetterKind | None) -> LetterKind | None:
    if letter is None:
        return SEQUENCE[0]
    index = SEQUENCE.index(letter)
    return SEQUENCE[index + 1] if index + 1 < len(SEQUENCE) else None


def letter_due(terms: SupervisionTerms, state: LetterState, today: date) -> LetterKind | None:
    """The letter to send now, if any.

    First letter: `repeat_cases` cases in the period. After a letter: at once if the employer
    refused; when the time to respond ran out without an answer; or, if it answered that it put
    things right or is doing so, only when `repeat_cases` new cases came since."""
    if state.last is None:
        return SEQUENCE[0] if state.cases_in_period >= terms.repeat_cases else None
    if state.response is EmployerResponse.REFUSED:
        return following(state.last)
    if state.response is None:
        overdue = state.respond_by is not None and today > state.respond_by
        return following(state.last) if overdue else None
    if state.cases_since_last >= terms.repeat_cases:
        return following(state.last)
    return None


def respond_by(terms: SupervisionTerms, issued_on: date) -> date:
    return issued_on + timedelta(days=terms.respond_days)
