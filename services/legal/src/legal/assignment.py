"""Which lawyer takes a case: offered to one lawyer at a time, who accepts or declines; an offer
not accepted in time lapses and goes to the next. Nobody free in the district's city: the district
union is alerted once, and the case waits in the queue — priority cases first — until a lawyer is.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import CaseUnassigned, LawyerAccepted, LawyerAssigned
from gonghui_contracts.values import DisputeKind, PriorityGroup
from legal import answers, metrics
from legal.desk import Desk, emit, find_case, in_case_trace, record
from legal.errors import NotFound, Refused
from legal.lawyer_pool import PROFILE_COLUMNS
from legal.models import OPEN_CASE, CaseEvent, DisputeCase, Lawyer
from legal.rules.matching import Candidate, CaseNeeds, LawyerProfile, choose_lawyer
from servicekit import Unit, offers


async def seed_lawyers(unit: Unit, lawyers: Sequence[LawyerProfile]) -> int:
    """Add registry lawyers the database does not know yet; those it knows keep their state."""
    known = set(await unit.session.scalars(select(Lawyer.lawyer_id)))
    added = 0
    for profile in lawyers:
        if profile.lawyer_id in known:
            continue
        unit.session.add(
            Lawyer(
                lawyer_id=profile.lawyer_id,
                name=profile.name,
                station_id=profile.station.station_id,
                district_code=profile.station.district_code,
                specialties=",".join(sorted(k.value for k in profile.specialties)),
                capacity=profile.capacity,
                acts_for=",".join(sorted(profile.acts_for)),
                on_duty=True,
            )
        )
        added += 1
    return added


async def set_duty(unit: Unit, lawyer_id: str, on_duty: bool) -> Lawyer:
    lawyer = await unit.session.get(Lawyer, lawyer_id)
    if lawyer is None:
        raise NotFound(f"no lawyer {lawyer_id}")
    lawyer.on_duty = on_duty
    return lawyer


class LawyerOffering:
    """The shared offer machine (`servicekit.offers`) as legal uses it: a case offered to the
    best free lawyer of the district, else of the city; nobody free alerts the district union
    once, and the case waits in the queue."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.chosen: dict[str, LawyerProfile] = {}  # by `choose`, for `offered`

    async def choose(self, unit: Unit, case: DisputeCase, exclude: frozenset[str]) -> str | None:
        needs = CaseNeeds(
            district_code=case.district_code,
            kind=DisputeKind(case.kind),
            employer_code=case.employer_code,
            new_form=PriorityGroup.NEW_EMPLOYMENT_FORM.value in case.priority_groups,
        )
        choice = await _take_best(self.desk, unit, needs, exclude)
        if choice is None:
            return None
        self.chosen[choice.lawyer_id] = choice
        return choice.lawyer_id

    async def offered(
        self, unit: Unit, case: DisputeCase, lawyer_id: str, cause: EnvelopeHead | None
    ) -> None:
        desk = self.desk
        choice = self.chosen.pop(lawyer_id)
        previous, now = case.lawyer_id, desk.clock.now()
        case.offers += 1
        case.lawyer_id, case.station_id = choice.lawyer_id, choice.station.station_id
        case.accept_by, case.accepted_at = now + desk.terms.accept_within, None
        record(desk, unit, case, "offered", by="system", reason="matched", lawyer_id=lawyer_id)
        assigned = LawyerAssigned(
            case_id=case.case_id,
            lawyer_id=choice.lawyer_id,
            lawyer_name=choice.name,
            station_id=choice.station.station_id,
            station_name=choice.station.name,
            attempt=case.offers,
            replaces_lawyer_id=previous,
            accept_by=case.accept_by,
        )
        emit(unit, case, assigned, cause)

    async def nobody(self, unit: Unit, case: DisputeCase, cause: EnvelopeHead | None) -> None:
        case.lawyer_id = case.station_id = case.accept_by = case.accepted_at = None
        if case.unassigned_alerted_at is None:
            case.unassigned_alerted_at = self.desk.clock.now()
            unassigned = CaseUnassigned(
                case_id=case.case_id,
                union_id=case.union_id,
                district_code=case.district_code,
                kind=DisputeKind(case.kind),
                priority=case.priority,
            )
            emit(unit, case, unassigned, cause)
            metrics.UNASSIGNED.inc()

    async def closed(self, unit: Unit, case: DisputeCase, closing: offers.Closing) -> None:
        assert case.lawyer_id is not None
        await release(unit, case.lawyer_id)
        record(
            self.desk,
            unit,
            case,
            closing.why,
            by=closing.by,
            reason=closing.reason,
            lawyer_id=case.lawyer_id,
        )
        metrics.OFFERS_PASSED_ON.labels(closing.why).inc()

    async def asked(self, unit: Unit, case: DisputeCase) -> frozenset[str]:
        return frozenset(
            lawyer
            for lawyer in await unit.session.scalars(
                select(CaseEvent.lawyer_id).where(
                    CaseEvent.case_id == case.case_id, CaseEvent.action == "offered"
                )
            )
            if lawyer is not None
        )

    async def eligible(self, unit: Unit, case: DisputeCase) -> frozenset[str]:
        """The lawyers of the case's city on duty (a city's districts share four digits)."""
        return frozenset(
            await unit.session.scalars(
                select(Lawyer.lawyer_id).where(
                    Lawyer.on_duty.is_(True),
                    Lawyer.district_code.startswith(case.district_code[:4]),
                )
            )
        )


async def offer(
    desk: Desk,
    unit: Unit,
    case: DisputeCase,
    *,
    exclude: frozenset[str] = frozenset(),
    cause: EnvelopeHead | None = None,
) -> str | None:
    """Offer the case to the best free lawyer; the lawyer's id, or None after alerting the district
    union (once) that nobody is."""
    return await offers.offer(LawyerOffering(desk), unit, case, exclude=exclude, cause=cause)


async def _take_best(
    desk: Desk, unit: Unit, needs: CaseNeeds, exclude: frozenset[str]
) -> LawyerProfile | None:
    """The best free lawyer of the district, else of the city, with one more open case taken.

    The taking is a conditional update: a lawyer another transaction filled meanwhile is passed
    over, and that row stays locked until this transaction ends."""
    for whole_city in (False, True):
        passed_over = set(exclude)
        while (
            choice := choose_lawyer(
                await _candidates(desk, unit, needs.district_code, whole_city),
                needs,
                frozenset(passed_over),
            )
        ) is not None:
            taken = (
                desk.lawyers.take(choice.lawyer_id)
                if desk.lawyers is not None
                else await _take(unit, choice.lawyer_id)
            )
            if taken:
                return choice
            passed_over.add(choice.lawyer_id)
    return None


async def _take(unit: Unit, lawyer_id: str) -> bool:
    taken = await unit.session.execute(
        update(Lawyer)
        .where(Lawyer.lawyer_id == lawyer_id, Lawyer.open_cases < Lawyer.capacity)
        .values(open_cases=Lawyer.open_cases + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount)  # type: ignore[attr-defined]


async def release(unit: Unit, lawyer_id: str) -> None:
    """The lawyer has one open case fewer (passed on, or closed)."""
    await unit.session.execute(
        update(Lawyer)
        .where(Lawyer.lawyer_id == lawyer_id, Lawyer.open_cases > 0)
        .values(open_cases=Lawyer.open_cases - 1)
        .execution_options(synchronize_session=False)
    )


async def _candidates(
    desk: Desk, unit: Unit, district_code: str, whole_city: bool
) -> list[Candidate]:
    """Lawyers on duty with room for a case, of the district or of its whole city, with their
    open cases as this transaction sees them. Read as plain rows (no ORM objects: this runs for
    every case); their profiles are parsed once and kept while they do not change. A batch's
    pool (`desk.lawyers`) answers from the rows it read and locked once."""
    if desk.lawyers is not None:
        free = await desk.lawyers.free(unit, district_code, whole_city)
    else:
        columns = (Lawyer.open_cases, *PROFILE_COLUMNS)
        query = select(*columns).where(
            Lawyer.on_duty.is_(True), Lawyer.open_cases < Lawyer.capacity
        )
        if whole_city:  # a city's districts share the first four digits of their code
            query = query.where(Lawyer.district_code.startswith(district_code[:4]))
        else:
            query = query.where(Lawyer.district_code == district_code)
        free = [(open_cases, tuple(p)) for open_cases, *p in (await unit.session.execute(query))]
    candidates = []
    for open_cases, row in free:
        found = desk.profiles.get(row)
        if found is None and row[2] in desk.terms.stations:
            found = desk.profiles[row] = _profile(desk, row)
        if found is not None:
            candidates.append(Candidate(found, open_cases=open_cases))
    return candidates


def _profile(desk: Desk, row: tuple[Any, ...]) -> LawyerProfile:
    lawyer_id, name, station_id, specialties, capacity, acts_for = row
    return LawyerProfile(
        lawyer_id=lawyer_id,
        name=name,
        station=desk.terms.stations[station_id],
        specialties=frozenset(DisputeKind(k) for k in specialties.split(",") if k),
        capacity=capacity,
        acts_for=frozenset(code for code in acts_for.split(",") if code),
    )


async def accept(desk: Desk, unit: Unit, case_id: uuid.UUID, lawyer_id: str) -> DisputeCase:
    """The lawyer takes the case up: the worker has an answer, a 12351 work order closes."""
    case = await _offered_to(unit, case_id, lawyer_id)
    if case.accepted_at is not None:
        return case
    with in_case_trace(case, "lawyer accepts"):
        case.accepted_at = desk.clock.now()
        record(
            desk, unit, case, "accepted", by=lawyer_id, reason="took the case", lawyer_id=lawyer_id
        )
        assert case.station_id is not None
        accepted = LawyerAccepted(
            case_id=case.case_id,
            lawyer_id=lawyer_id,
            station_id=case.station_id,
            accepted_at=case.accepted_at,
        )
        emit(unit, case, accepted)
        await answers.tell_partners(unit, case, "answered")
    metrics.ACCEPTED.inc()
    return case


async def decline(
    desk: Desk, unit: Unit, case_id: uuid.UUID, lawyer_id: str, reason: str
) -> DisputeCase:
    case = await _offered_to(unit, case_id, lawyer_id)
    if case.accepted_at is not None:
        raise Refused("the case was accepted: ask the district union to reassign it")
    with in_case_trace(case, "reassign case"):
        await _pass_on(desk, unit, case, "declined", by=lawyer_id, reason=reason)
    return case


async def reoffer_lapsed(desk: Desk, unit: Unit, limit: int) -> int:
    """Offers not accepted in time go to the next lawyer."""
    lapsed = await unit.session.scalars(
        select(DisputeCase)
        .where(
            OPEN_CASE,
            DisputeCase.accepted_at.is_(None),
            DisputeCase.accept_by < desk.clock.now(),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for case in lapsed:
        with in_case_trace(case, "reassign case"):
            await _pass_on(desk, unit, case, "lapsed", by="system", reason="not accepted in time")
        count += 1
    return count


async def offer_waiting(desk: Desk, unit: Unit, limit: int) -> int:
    """Cases nobody could take before are offered again, in queue order: priority first."""
    waiting = await unit.session.scalars(
        select(DisputeCase)
        .where(OPEN_CASE, DisputeCase.lawyer_id.is_(None))
        .order_by(
            DisputeCase.priority.desc(), DisputeCase.group_dispute.desc(), DisputeCase.opened_at
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for case in waiting:
        with in_case_trace(case, "assign waiting case"):
            count += await offer(desk, unit, case) is not None
    return count


async def _pass_on(
    desk: Desk, unit: Unit, case: DisputeCase, why: str, *, by: str, reason: str
) -> None:
    await offers.pass_on(
        LawyerOffering(desk), unit, case, case.lawyer_id, offers.Closing(why, by, reason)
    )


async def _offered_to(unit: Unit, case_id: uuid.UUID, lawyer_id: str) -> DisputeCase:
    case = await find_case(unit, case_id, for_update=True)
    if case.closed_at is not None:
        raise Refused("the case is closed")
    if case.lawyer_id != lawyer_id:
        raise Refused("the case is not offered to this lawyer")
    return case
