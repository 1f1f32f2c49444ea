from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aid.injury import registry
from aid.injury.rules import (
    DEFAULT_CONDOLENCE_YUAN,
    Candidate,
    FollowUpState,
    SlaState,
    choose_visitor,
    condolence_cents,
    condolence_schedule,
    distance_km,
    follow_up_dates,
    follow_up_step,
    report_problems,
    sla_state,
)
from gonghui_contracts.values import Admission, Severity

HOSPITALS = registry.load_hospitals()
TODAY = date(2026, 11, 27)


def test_the_shipped_registry_has_shenzhens_87_hospitals_and_35_visitors() -> None:
    roster = registry.load_roster(HOSPITALS)
    assert len(HOSPITALS) == 87
    assert len(roster) == 35
    assert {h.district_code[:4] for h in HOSPITALS.values()} == {"4403"}
    assert len({v.station_hospital_id for v in roster}) == 35  # one visitor per station


def test_a_report_needs_a_designated_hospital_and_an_injury_of_the_past_year() -> None:
    assert report_problems("sz-h-001", TODAY, HOSPITALS, TODAY) == []
    problems = report_problems("gz-h-999", TODAY + timedelta(days=1), HOSPITALS, TODAY)
    assert [(p.field, p.rule) for p in problems] == [
        ("hospital_id", "not a designated work-injury hospital"),
        ("injured_on", "is in the future"),
    ]
    old = report_problems("sz-h-001", TODAY - timedelta(days=366), HOSPITALS, TODAY)
    assert [p.rule for p in old] == ["is more than a year ago"]


def test_the_nearest_visitor_on_duty_is_chosen_unless_much_busier() -> None:
    stationed = Candidate("near", 0.0, open_visits=0, on_duty=True)
    other = Candidate("far", 5.0, open_visits=0, on_duty=True)
    assert choose_visitor([stationed, other], km_per_open_visit=3) == "near"
    busy = Candidate("near", 0.0, open_visits=2, on_duty=True)  # costs 6 km
    assert choose_visitor([busy, other], km_per_open_visit=3) == "far"
    off = Candidate("near", 0.0, open_visits=0, on_duty=False)
    assert choose_visitor([off, other], km_per_open_visit=3) == "far"
    assert choose_visitor([stationed, other], exclude=frozenset({"near"}), km_per_open_visit=3) == (
        "far"
    )
    assert choose_visitor([off], km_per_open_visit=3) is None


candidates = st.lists(
    st.builds(
        Candidate,
        st.sampled_from([f"v{i}" for i in range(8)]),
        st.floats(0, 50),
        st.integers(0, 20),
        st.booleans(),
    ),
    max_size=8,
    unique_by=lambda c: c.visitor_id,
)


@given(candidates, st.frozensets(st.sampled_from([f"v{i}" for i in range(8)])))
def test_the_chosen_visitor_is_on_duty_not_excluded_and_cheapest(
    pool: list[Candidate], exclude: frozenset[str]
) -> None:
    chosen = choose_visitor(pool, exclude=exclude, km_per_open_visit=3)
    eligible = [c for c in pool if c.on_duty and c.visitor_id not in exclude]
    if not eligible:
        assert chosen is None
        return
    cost = {c.visitor_id: c.distance_km + 3 * c.open_visits for c in eligible}
    assert chosen in cost
    assert cost[chosen] == min(cost.values())


def test_distance_between_two_shenzhen_hospitals_is_plausible() -> None:
    futian, baoan = HOSPITALS["sz-h-061"], HOSPITALS["sz-h-001"]
    km = distance_km(futian.latitude, futian.longitude, baoan.latitude, baoan.longitude)
    assert 10 < km < 40
    assert distance_km(22.5, 114.0, 22.5, 114.0) == 0


def test_the_visit_sla_clock() -> None:
    reported = datetime(2026, 11, 27, 8, tzinfo=UTC)
    due, before = reported + timedelta(hours=24), timedelta(hours=4)
    assert sla_state(reported, due, None, before) is SlaState.ON_TIME
    assert sla_state(due - timedelta(hours=3), due, None, before) is SlaState.DUE_SOON
    assert sla_state(due + timedelta(seconds=1), due, None, before) is SlaState.OVERDUE
    assert sla_state(due, due, due, before) is SlaState.VISITED_IN_TIME
    assert sla_state(due, due, due + timedelta(hours=1), before) is SlaState.VISITED_LATE


def test_condolence_follows_the_schedule_and_the_schedule_must_be_complete() -> None:
    schedule = condolence_schedule(DEFAULT_CONDOLENCE_YUAN)
    assert condolence_cents(schedule, Severity.MINOR, Admission.OUTPATIENT) == 100_00
    assert condolence_cents(schedule, Severity.SERIOUS, Admission.ADMITTED) == 500_00
    partial = dict(DEFAULT_CONDOLENCE_YUAN)
    del partial["fatal/admitted"]
    with pytest.raises(ValueError, match="fatal/admitted"):
        condolence_schedule(partial)


def test_follow_ups_fall_due_then_escalate_after_the_grace_days() -> None:
    discharged = date(2026, 12, 1)
    assert follow_up_dates(discharged, [30, 7, 90]) == [
        date(2026, 12, 8),
        date(2026, 12, 31),
        date(2027, 3, 1),
    ]
    due_on = date(2026, 12, 8)
    step = FollowUpState.SCHEDULED
    assert follow_up_step(step, due_on, date(2026, 12, 7), 3) is FollowUpState.SCHEDULED
    assert follow_up_step(step, due_on, due_on, 3) is FollowUpState.DUE
    assert follow_up_step(FollowUpState.DUE, due_on, date(2026, 12, 11), 3) is FollowUpState.DUE
    assert follow_up_step(FollowUpState.DUE, due_on, date(2026, 12, 12), 3) is (
        FollowUpState.ESCALATED
    )
    assert follow_up_step(step, due_on, date(2027, 1, 1), 3) is FollowUpState.ESCALATED
    assert follow_up_step(FollowUpState.DONE, due_on, date(2027, 1, 1), 3) is FollowUpState.DONE
