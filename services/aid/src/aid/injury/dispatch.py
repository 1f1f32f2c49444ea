"""Who visits: the case is offered to one visitor at a time, who accepts or declines; an offer
not accepted in time lapses and goes to the next. Nobody on duty: the district union is alerted
and the case is offered again as soon as someone is."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from aid.errors import NotFound, Refused
from aid.injury.desk import Desk, emit, find_case, in_case_trace
from aid.injury.registry import RosterEntry
from aid.injury.rules import Candidate, Hospital, choose_visitor, distance_km
from aid.models import InjuryCase, VisitOffer, Visitor
from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import VisitorAssigned, VisitUnassigned
from servicekit import Unit, offers


async def seed_roster(desk: Desk, unit: Unit, roster: Sequence[RosterEntry]) -> None:
    """Add roster visitors the database does not know yet; load every station for search."""
    known = set(await unit.session.scalars(select(Visitor.visitor_id)))
    for entry in roster:
        if entry.visitor_id not in known:
            unit.session.add(
                Visitor(
                    visitor_id=entry.visitor_id,
                    name=entry.name,
                    station_hospital_id=entry.station_hospital_id,
                    on_duty=True,
                )
            )
    stations = []
    for entry in roster:
        station = desk.terms.hospitals[entry.station_hospital_id]
        stations.append((entry.visitor_id, station.latitude, station.longitude))
    await desk.visitors.load(stations)


async def set_duty(unit: Unit, visitor_id: str, on_duty: bool) -> Visitor:
    visitor = await unit.session.get(Visitor, visitor_id)
    if visitor is None:
        raise NotFound(f"no visitor {visitor_id}")
    visitor.on_duty = on_duty
    return visitor


class VisitOffering:
    """The shared offer machine (`servicekit.offers`) as aid uses it: a case offered to the
    best visitor on duty (near the hospital, balanced by open visits, else anyone on duty);
    nobody on duty alerts the district union once, and the case waits."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def choose(self, unit: Unit, case: InjuryCase, exclude: frozenset[str]) -> str | None:
        terms, desk = self.desk.terms, self.desk
        hospital = terms.hospitals[case.hospital_id]
        nearby = dict(await desk.visitors.nearest(hospital, terms.nearby_candidates))
        choice = choose_visitor(
            await _candidates(desk, unit, hospital, nearby),
            exclude=exclude,
            km_per_open_visit=terms.km_per_open_visit,
        )
        if choice is None:  # nobody near is free: anyone on duty, wherever stationed
            choice = choose_visitor(
                await _candidates(desk, unit, hospital, None),
                exclude=exclude,
                km_per_open_visit=terms.km_per_open_visit,
            )
        return choice

    async def offered(
        self, unit: Unit, case: InjuryCase, visitor_id: str, cause: EnvelopeHead | None
    ) -> None:
        desk = self.desk
        hospital = desk.terms.hospitals[case.hospital_id]
        visitor = await unit.session.get(Visitor, visitor_id)
        assert visitor is not None
        await desk.open_visits.change(visitor_id, 1)
        previous, now = case.visitor_id, desk.clock.now()
        case.offers += 1
        case.visitor_id, case.accept_by = visitor_id, now + desk.terms.accept_within
        case.accepted_at = None
        unit.session.add(
            VisitOffer(
                case_id=case.case_id,
                visitor_id=visitor_id,
                attempt=case.offers,
                offered_at=now,
                status="offered",
            )
        )
        assigned = VisitorAssigned(
            case_id=case.case_id,
            visitor_id=visitor_id,
            visitor_name=visitor.name,
            hospital_id=hospital.hospital_id,
            hospital_name=hospital.name,
            attempt=case.offers,
            replaces_visitor_id=previous,
            accept_by=case.accept_by,
            visit_due_at=case.visit_due_at,
        )
        emit(unit, case, assigned, cause)

    async def nobody(self, unit: Unit, case: InjuryCase, cause: EnvelopeHead | None) -> None:
        case.visitor_id, case.accept_by, case.accepted_at = None, None, None
        if case.unassigned_alerted_at is None:
            case.unassigned_alerted_at = self.desk.clock.now()
            unassigned = VisitUnassigned(
                case_id=case.case_id,
                union_id=case.union_id,
                district_code=case.district_code,
                visit_due_at=case.visit_due_at,
            )
            emit(unit, case, unassigned, cause)

    async def closed(self, unit: Unit, case: InjuryCase, closing: offers.Closing) -> None:
        await close_offer(self.desk, unit, case, closing.why)

    async def asked(self, unit: Unit, case: InjuryCase) -> frozenset[str]:
        return frozenset(
            await unit.session.scalars(
                select(VisitOffer.visitor_id).where(VisitOffer.case_id == case.case_id)
            )
        )

    async def eligible(self, unit: Unit, case: InjuryCase) -> frozenset[str]:
        return frozenset(
            await unit.session.scalars(select(Visitor.visitor_id).where(Visitor.on_duty.is_(True)))
        )


async def offer(
    desk: Desk,
    unit: Unit,
    case: InjuryCase,
    *,
    exclude: frozenset[str] = frozenset(),
    cause: EnvelopeHead | None = None,
) -> str | None:
    """Offer the case to the best visitor on duty; the visitor's id, or None after alerting the
    district union (once) that nobody is."""
    return await offers.offer(VisitOffering(desk), unit, case, exclude=exclude, cause=cause)


async def _candidates(
    desk: Desk, unit: Unit, hospital: Hospital, nearby: dict[str, float] | None
) -> list[Candidate]:
    """Visitors with their duty and open visits: those `nearby` (id → km), or, without it,
    everyone on duty with the distance from their station."""
    if nearby is not None:  # by primary key: after the first, from the session, not a query
        found = [await unit.session.get(Visitor, visitor_id) for visitor_id in nearby]
        visitors = [v for v in found if v is not None]
    else:
        visitors = list(
            await unit.session.scalars(select(Visitor).where(Visitor.on_duty.is_(True)))
        )
    open_visits = await desk.open_visits.counts(v.visitor_id for v in visitors)
    candidates = []
    for visitor in visitors:
        if nearby is not None:
            km = nearby[visitor.visitor_id]
        else:
            station = desk.terms.hospitals[visitor.station_hospital_id]
            km = distance_km(
                hospital.latitude, hospital.longitude, station.latitude, station.longitude
            )
        load = open_visits.get(visitor.visitor_id, 0)
        candidates.append(Candidate(visitor.visitor_id, km, load, visitor.on_duty))
    return candidates


async def accept(desk: Desk, unit: Unit, case_id: uuid.UUID, visitor_id: str) -> InjuryCase:
    case = await _offered_to(unit, case_id, visitor_id)
    if case.accepted_at is None:
        case.accepted_at = desk.clock.now()
        await close_offer(desk, unit, case, "accepted", closes=False)
    return case


async def decline(desk: Desk, unit: Unit, case_id: uuid.UUID, visitor_id: str) -> InjuryCase:
    case = await _offered_to(unit, case_id, visitor_id)
    with in_case_trace(case, "reassign visit"):
        await _pass_on(desk, unit, case, "declined")
    return case


async def reoffer_lapsed(desk: Desk, unit: Unit, limit: int) -> int:
    """Offers not accepted in time go to the next visitor."""
    lapsed = await unit.session.scalars(
        select(InjuryCase)
        .where(
            InjuryCase.visited_at.is_(None),
            InjuryCase.accepted_at.is_(None),
            InjuryCase.accept_by < desk.clock.now(),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for case in lapsed:
        with in_case_trace(case, "reassign visit"):
            await _pass_on(desk, unit, case, "lapsed")
        count += 1
    return count


async def offer_waiting(desk: Desk, unit: Unit, limit: int) -> int:
    """Cases nobody could be asked about before (nobody on duty) are offered again."""
    waiting = await unit.session.scalars(
        select(InjuryCase)
        .where(InjuryCase.visited_at.is_(None), InjuryCase.visitor_id.is_(None))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for case in waiting:
        with in_case_trace(case, "assign waiting visit"):
            count += await offer(desk, unit, case) is not None
    return count


async def _offered_to(unit: Unit, case_id: uuid.UUID, visitor_id: str) -> InjuryCase:
    case = await find_case(unit, case_id, for_update=True)
    if case.visited_at is not None:
        raise Refused("the visit is already recorded")
    if case.visitor_id != visitor_id:
        raise Refused("the case is not offered to this visitor")
    return case


async def close_offer(
    desk: Desk, unit: Unit, case: InjuryCase, status: str, *, closes: bool = True
) -> None:
    current = await unit.session.scalar(
        select(VisitOffer).where(
            VisitOffer.case_id == case.case_id, VisitOffer.attempt == case.offers
        )
    )
    if current is not None:
        current.status = status
        current.closed_at = desk.clock.now() if closes else None
        if closes:  # the visit is off the visitor's list: made, or passed on
            await desk.open_visits.change(current.visitor_id, -1)


async def _pass_on(desk: Desk, unit: Unit, case: InjuryCase, why: str) -> None:
    await offers.pass_on(VisitOffering(desk), unit, case, case.visitor_id, offers.Closing(why))
