"""Which lawyer takes a case: one of the district's stations first, then the city's; a matching
specialty before anyone; the least loaded for their capacity; never a lawyer who acts for the
employer (a conflict of interest), never one at capacity or off duty."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gonghui_contracts.values import DisputeKind


@dataclass(frozen=True)
class Station:
    station_id: str
    name: str
    district_code: str
    new_form: bool = False  # a station for new-employment-form workers (两站一岗)

    @property
    def city_code(self) -> str:
        return self.district_code[:4] + "00"


@dataclass(frozen=True)
class LawyerProfile:
    lawyer_id: str
    name: str
    station: Station
    specialties: frozenset[DisputeKind]
    capacity: int
    acts_for: frozenset[str]  # employers' credit codes


@dataclass(frozen=True)
class Candidate:
    profile: LawyerProfile
    open_cases: int
    on_duty: bool = True


@dataclass(frozen=True)
class CaseNeeds:
    district_code: str
    kind: DisputeKind
    employer_code: str
    new_form: bool = False


def conflicted(profile: LawyerProfile, employer_code: str) -> bool:
    return employer_code in profile.acts_for


def rank(candidate: Candidate, needs: CaseNeeds) -> tuple[int, int, int, float, str]:
    profile = candidate.profile
    return (
        0 if profile.station.district_code == needs.district_code else 1,
        0 if needs.kind in profile.specialties else 1,
        0 if profile.station.new_form == needs.new_form else 1,
        candidate.open_cases / profile.capacity,
        profile.lawyer_id,
    )


def choose_lawyer(
    candidates: Iterable[Candidate], needs: CaseNeeds, exclude: frozenset[str] = frozenset()
) -> LawyerProfile | None:
    """The best lawyer for the case among `candidates`, or None if nobody of the district's city
    may take it."""
    city = needs.district_code[:4] + "00"
    eligible = [
        c
        for c in candidates
        if c.on_duty
        and c.open_cases < c.profile.capacity
        and c.profile.station.city_code == city
        and c.profile.lawyer_id not in exclude
        and not conflicted(c.profile, needs.employer_code)
    ]
    if not eligible:
        return None
    return min(eligible, key=lambda c: rank(c, needs)).profile
