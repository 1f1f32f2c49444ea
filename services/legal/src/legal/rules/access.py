"""Who may do what with legal's cases, lawyers and letters: pure rules over the caller a
verified token names (`servicekit.identity`). A case out of scope is answered as if it did not
exist."""

from __future__ import annotations

from servicekit.identity import Caller, Role, is_person, staff_covers


def handles_case(caller: Caller, district_code: str, lawyer_id: str | None) -> bool:
    """A case is seen and taken along by the lawyer it is offered to or who took it, and by
    staff of the unions covering its district."""
    return is_person(caller, Role.LAWYER, lawyer_id) or staff_covers(caller, district_code)


def may_file_walk_in(
    caller: Caller,
    *,
    station_id: str,
    station_district: str,
    dispute_district: str,
    lawyer_station: str | None,
) -> bool:
    """A walk-in is filed by a lawyer of the station it was brought to (`lawyer_station`: the
    caller's station, if a lawyer), or by staff of a union covering the station's district or
    the dispute's."""
    at_station = Role.LAWYER in caller.roles and lawyer_station == station_id
    return (
        at_station
        or staff_covers(caller, station_district)
        or staff_covers(caller, dispute_district)
    )


def sees_lawyer(caller: Caller, lawyer_id: str, district_code: str) -> bool:
    """A lawyer's duty and open cases: the lawyer themself, or staff of a union covering the
    district of the lawyer's station."""
    return is_person(caller, Role.LAWYER, lawyer_id) or staff_covers(caller, district_code)


def in_region(region: str, district_code: str) -> bool:
    """Whether a district is within a staff region prefix (`servicekit.identity.staff_prefix`)."""
    return district_code.startswith(region)
