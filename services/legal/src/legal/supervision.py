"""Labour-law supervision 一函两书: employers with repeated cases get a prompt letter, then an
opinion letter, then a suggestion letter to the authorities; each letter is recorded with the
employer's answer. New cases and the sweep (answers overdue) decide when the next one goes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, inspect, select

from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import EmployerResponded, SupervisionLetterIssued
from gonghui_contracts.values import EmployerResponse, LetterKind
from legal import metrics
from legal.desk import Desk
from legal.errors import NotFound, Refused
from legal.models import DisputeCase, Letter
from legal.rules.letters import LetterState, letter_due, respond_by
from servicekit import Unit


async def consider(
    desk: Desk, unit: Unit, employer_code: str, cause: EnvelopeHead | None = None
) -> Letter | None:
    """The letter the employer's cases call for now, issued; None if none is due."""
    return (await consider_all(desk, unit, {employer_code: cause})).get(employer_code)


async def consider_all(
    desk: Desk, unit: Unit, employers: Mapping[str, EnvelopeHead | None]
) -> dict[str, Letter]:
    """The letters the employers' cases call for now, issued, by employer (`employers`: each
    with the cause to name, e.g. its latest filing). One query finds their last letters, one
    counts their cases in the period; at most one letter goes to an employer at a time."""
    if not employers:
        return {}
    now, today = desk.clock.now(), desk.clock.today()
    since = now - desk.terms.supervision.period
    latest = await _latest_letters(unit, list(employers))
    in_period = await _counts_since(unit, list(employers), since)
    issued = {}
    for employer_code, cause in employers.items():
        last = latest.get(employer_code)
        answered = last is not None and last.response not in {None, EmployerResponse.REFUSED}
        state = LetterState(
            last=LetterKind(last.letter) if last else None,
            respond_by=last.respond_by if last else None,
            response=EmployerResponse(last.response) if last and last.response else None,
            cases_in_period=in_period.get(employer_code, 0)
            + _unwritten_since(unit, employer_code, since),
            cases_since_last=(
                await _cases_since(unit, employer_code, last.issued_at)
                if last is not None and answered
                else 0
            ),
        )
        kind = letter_due(desk.terms.supervision, state, today)
        if kind is not None:
            issued[employer_code] = await _issue(
                desk,
                unit,
                employer_code,
                kind,
                last=last,
                cases=state.cases_in_period,
                cause=cause,
                now=now,
            )
    return issued


async def respond(
    desk: Desk,
    unit: Unit,
    letter_id: uuid.UUID,
    response: EmployerResponse,
    recorded_by: str,
) -> Letter:
    letter = await unit.session.get(Letter, letter_id, with_for_update=True)
    if letter is None:
        raise NotFound(f"no supervision letter {letter_id}")
    if letter.response is not None or letter.superseded_at is not None:
        raise Refused("the letter has been answered, or followed by the next one")
    letter.response, letter.responded_at = response.value, desk.clock.now()
    letter.recorded_by = recorded_by
    answered = EmployerResponded(
        letter_id=letter.letter_id,
        letter=LetterKind(letter.letter),
        employer_code=letter.employer_code,
        response=response,
        recorded_by=recorded_by,
    )
    unit.emit(answered, key=letter.employer_code)
    if response is EmployerResponse.REFUSED:
        await consider(desk, unit, letter.employer_code)
    return letter


async def follow_unanswered(desk: Desk, unit: Unit, limit: int) -> int:
    """Letters whose time to answer ran out: the next letter goes."""
    overdue = await unit.session.scalars(
        select(Letter)
        .where(
            Letter.response.is_(None),
            Letter.superseded_at.is_(None),
            Letter.respond_by < desk.clock.today(),
            Letter.letter != LetterKind.SUGGESTION.value,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for letter in overdue:
        count += await consider(desk, unit, letter.employer_code) is not None
    return count


async def _issue(
    desk: Desk,
    unit: Unit,
    employer_code: str,
    kind: LetterKind,
    *,
    last: Letter | None,
    cases: int,
    cause: EnvelopeHead | None,
    now: datetime,
) -> Letter:
    case = await _any_case(unit, employer_code)
    if last is not None:
        last.superseded_at = now
    letter = Letter(
        letter_id=uuid.uuid4(),
        employer_code=employer_code,
        employer_name=case.employer_name,
        letter=kind.value,
        union_id=case.union_id,
        district_code=case.district_code,
        cases=cases,
        issued_at=now,
        respond_by=respond_by(desk.terms.supervision, desk.clock.today()),
    )
    unit.add(letter, key=employer_code)
    issued = SupervisionLetterIssued(
        letter_id=letter.letter_id,
        letter=kind,
        employer_code=employer_code,
        employer_name=letter.employer_name,
        union_id=letter.union_id,
        district_code=letter.district_code,
        cases=cases,
        respond_by=letter.respond_by,
    )
    unit.emit(issued, key=employer_code, cause=cause)
    metrics.LETTERS.labels(kind.value).inc()
    return letter


async def _latest_letters(unit: Unit, employer_codes: list[str]) -> dict[str, Letter]:
    """Each employer's last letter: one this batch issued, else the database's."""
    latest: dict[str, Letter] = {}
    for letter in await unit.session.scalars(
        select(Letter)
        .where(Letter.employer_code.in_(employer_codes))
        .order_by(Letter.employer_code, Letter.issued_at.desc())
    ):
        latest.setdefault(letter.employer_code, letter)
    for employer_code in employer_codes:
        if (pending := unit.added(Letter, employer_code)) is not None:
            latest[employer_code] = pending
    return latest


async def _counts_since(unit: Unit, employer_codes: list[str], since: datetime) -> dict[str, int]:
    """Cases written to the database against each employer since `since`."""
    rows = await unit.session.execute(
        select(DisputeCase.employer_code, func.count())
        .where(DisputeCase.employer_code.in_(employer_codes), DisputeCase.opened_at >= since)
        .group_by(DisputeCase.employer_code)
    )
    return dict(rows.tuples().all())


async def _cases_since(unit: Unit, employer_code: str, since: datetime) -> int:
    """Cases opened against the employer since `since`, counting those of this batch not yet
    written (the batch's inserts go to the database together at commit)."""
    stored = await _counts_since(unit, [employer_code], since)
    return stored.get(employer_code, 0) + _unwritten_since(unit, employer_code, since)


def _unwritten_since(unit: Unit, employer_code: str, since: datetime) -> int:
    unwritten = [c for c in unit.added_in(DisputeCase, employer_code) if inspect(c).pending]
    return sum(case.opened_at >= since for case in unwritten)


async def _any_case(unit: Unit, employer_code: str) -> DisputeCase:
    pending = unit.added_in(DisputeCase, employer_code)
    if pending:
        return pending[-1]
    case = await unit.session.scalar(
        select(DisputeCase)
        .where(DisputeCase.employer_code == employer_code)
        .order_by(DisputeCase.opened_at.desc())
        .limit(1)
    )
    if case is None:
        raise NotFound(f"no case against employer {employer_code}")
    return case
