"""Work-injury rules (逢伤必探). Pure: no I/O.

- A report names a designated work-injury hospital and an injury that happened, at most a year
  ago. The same worker injured on the same day is one case, whoever reports it.
- The case belongs to the union of the hospital's district (属地工会) and is offered to one
  visitor: the nearest on duty, a longer way accepted to spare a visitor with many open visits.
- The visit is due within the SLA of the report; a reminder goes before it runs out, an escalation
  to the district union after.
- Condolence money follows a schedule by severity and admission, once per case.
- Discharge schedules follow-ups (回访); one not recorded within the grace days is escalated.
- A compensation problem found at the visit or a follow-up is referred to legal aid, once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from gonghui_contracts import RejectionReason
from gonghui_contracts.values import Admission, Severity
from servicekit.identity import Caller, Role, is_person, staff_covers

REPORT_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Hospital:
    hospital_id: str
    name: str
    district_code: str
    latitude: float
    longitude: float


def report_problems(
    hospital_id: str, injured_on: date, hospitals: Mapping[str, Hospital], today: date
) -> list[RejectionReason]:
    problems = []
    if hospital_id not in hospitals:
        problems.append(
            RejectionReason(field="hospital_id", rule="not a designated work-injury hospital")
        )
    if injured_on > today:
        problems.append(RejectionReason(field="injured_on", rule="is in the future"))
    elif today - injured_on > REPORT_WINDOW:
        problems.append(RejectionReason(field="injured_on", rule="is more than a year ago"))
    return problems


def case_key(worker_fingerprint: str, injured_on: date) -> str:
    """What makes two reports one case: the same worker hurt on the same day."""
    return f"{worker_fingerprint[:48]}:{injured_on.isoformat()}"


@dataclass(frozen=True)
class Candidate:
    visitor_id: str
    distance_km: float
    open_visits: int
    on_duty: bool


def choose_visitor(
    candidates: Iterable[Candidate],
    *,
    exclude: frozenset[str] = frozenset(),
    km_per_open_visit: float,
) -> str | None:
    """The visitor to ask, or None if nobody on duty is left.

    Cost is distance plus `km_per_open_visit` for each visit the visitor still has open: the
    stationed visitor gets the case unless others nearby are much less busy.
    """
    eligible = [c for c in candidates if c.on_duty and c.visitor_id not in exclude]
    if not eligible:
        return None
    best = min(
        eligible,
        key=lambda c: (
            c.distance_km + km_per_open_visit * c.open_visits,
            c.distance_km,
            c.visitor_id,
        ),
    )
    return best.visitor_id


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), for places without a geo index."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


class SlaState(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    VISITED_IN_TIME = "visited_in_time"
    VISITED_LATE = "visited_late"


def sla_state(
    now: datetime, due: datetime, visited_at: datetime | None, reminder_before: timedelta
) -> SlaState:
    if visited_at is not None:
        return SlaState.VISITED_IN_TIME if visited_at <= due else SlaState.VISITED_LATE
    if now > due:
        return SlaState.OVERDUE
    return SlaState.DUE_SOON if now >= due - reminder_before else SlaState.ON_TIME


CondolenceSchedule = Mapping[tuple[Severity, Admission], int]

DEFAULT_CONDOLENCE_YUAN: dict[str, int] = {
    "minor/outpatient": 100,
    "minor/admitted": 200,
    "serious/outpatient": 300,
    "serious/admitted": 500,
    "critical/outpatient": 1000,
    "critical/admitted": 1000,
    "fatal/outpatient": 5000,
    "fatal/admitted": 5000,
}


def condolence_schedule(yuan_by_kind: Mapping[str, int]) -> dict[tuple[Severity, Admission], int]:
    """Cents by (severity, admission) from `{"<severity>/<admission>": yuan}`; every pair
    must be given, so that no case is left without an amount."""
    schedule = {}
    for severity in Severity:
        for admission in Admission:
            name = f"{severity.value}/{admission.value}"
            if name not in yuan_by_kind:
                raise ValueError(f"the condolence schedule has no amount for {name}")
            schedule[severity, admission] = int(yuan_by_kind[name]) * 100
    return schedule


def condolence_cents(schedule: CondolenceSchedule, severity: Severity, admission: Admission) -> int:
    return schedule[severity, admission]


def follow_up_dates(discharged_on: date, after_days: Sequence[int]) -> list[date]:
    return [discharged_on + timedelta(days=days) for days in sorted(set(after_days))]


class FollowUpState(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    DONE = "done"
    MISSED = "missed"
    ESCALATED = "escalated"


def follow_up_step(
    state: FollowUpState, due_on: date, today: date, grace_days: int
) -> FollowUpState:
    """Where time takes a follow-up nobody has recorded: due on its day, escalated after grace."""
    if state is FollowUpState.SCHEDULED and today >= due_on:
        state = FollowUpState.DUE
    if state is FollowUpState.DUE and today > due_on + timedelta(days=grace_days):
        return FollowUpState.ESCALATED
    return state


def may_handle(caller: Caller, district_code: str, visitor_id: str | None) -> bool:
    """A case is handled by its visitor and by staff of the unions covering its district."""
    return staff_covers(caller, district_code) or is_person(caller, Role.VISITOR, visitor_id)
