"""The chain's rules, triage, matching, warnings and letters: pure, no I/O."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gonghui_contracts import samples
from gonghui_contracts.events import Claimant
from gonghui_contracts.values import (
    CaseOutcome,
    CaseStage,
    DisputeKind,
    EmployerResponse,
    FilingChannel,
    Industry,
    LetterKind,
    PriorityGroup,
)
from legal.rules import chain, letters, triage
from legal.rules.matching import Candidate, CaseNeeds, LawyerProfile, Station, choose_lawyer
from legal.rules.warnings import WarningTerms, reached, watches

S = CaseStage


def test_forward_moves_skip_only_what_may_be_skipped() -> None:
    assert chain.check_move(S.NEGOTIATION, S.MEDIATION) == []
    assert chain.check_move(S.NEGOTIATION, S.ARBITRATION) == [S.MEDIATION]
    assert chain.check_move(S.ARBITRATION, S.ENFORCEMENT) == [S.LITIGATION, S.LEGAL_AID]
    assert chain.check_move(S.LITIGATION, S.ENFORCEMENT) == [S.LEGAL_AID]


@pytest.mark.parametrize(
    ("current", "target", "says"),
    [
        (S.MEDIATION, S.NEGOTIATION, "cannot move back"),
        (S.ARBITRATION, S.ARBITRATION, "cannot move back or stay"),
        (S.NEGOTIATION, S.LITIGATION, "仲裁前置"),
        (S.MEDIATION, S.ENFORCEMENT, "would skip arbitration"),
    ],
)
def test_illegal_moves_are_refused_naming_the_rule(
    current: CaseStage, target: CaseStage, says: str
) -> None:
    with pytest.raises(chain.IllegalMove, match=says):
        chain.check_move(current, target)


@given(st.sampled_from(list(CaseStage)), st.sampled_from(list(CaseStage)))
def test_a_legal_move_goes_forward_and_never_skips_arbitration(a: CaseStage, b: CaseStage) -> None:
    try:
        passed = chain.check_move(a, b)
    except chain.IllegalMove:
        return
    assert chain.ORDER.index(b) > chain.ORDER.index(a)
    assert S.ARBITRATION not in passed
    assert set(passed) <= chain.SKIPPABLE


def test_a_judicially_confirmed_agreement_goes_from_mediation_to_enforcement() -> None:
    with pytest.raises(chain.IllegalMove, match="司法确认"):
        chain.check_move(S.MEDIATION, S.ENFORCEMENT)
    assert chain.check_move(S.MEDIATION, S.ENFORCEMENT, confirmed=True) == [
        S.ARBITRATION,
        S.LITIGATION,
        S.LEGAL_AID,
    ]
    with pytest.raises(chain.IllegalMove, match="仲裁前置"):
        chain.check_move(S.MEDIATION, S.LITIGATION, confirmed=True)  # only to enforcement
    chain.check_confirmation(S.MEDIATION, confirmed=False)
    with pytest.raises(chain.IllegalMove, match="not at negotiation"):
        chain.check_confirmation(S.NEGOTIATION, confirmed=False)
    with pytest.raises(chain.IllegalMove, match="already"):
        chain.check_confirmation(S.MEDIATION, confirmed=True)


def test_outcomes_belong_to_their_stage_and_say_whether_money_came() -> None:
    chain.check_outcome(S.MEDIATION, CaseOutcome.SETTLED, amount_given=True)
    chain.check_outcome(S.ARBITRATION, CaseOutcome.AWARD, amount_given=True)
    chain.check_outcome(S.NEGOTIATION, CaseOutcome.WITHDRAWN, amount_given=False)
    with pytest.raises(chain.IllegalMove, match="not award"):
        chain.check_outcome(S.MEDIATION, CaseOutcome.AWARD, amount_given=True)
    with pytest.raises(chain.IllegalMove, match="needs the amount"):
        chain.check_outcome(S.MEDIATION, CaseOutcome.SETTLED, amount_given=False)
    with pytest.raises(chain.IllegalMove, match="no amount"):
        chain.check_outcome(S.ENFORCEMENT, CaseOutcome.WITHDRAWN, amount_given=True)


def test_deadlines_follow_the_law_and_arbitration_extends_once() -> None:
    terms = chain.ChainTerms()
    start = datetime(2025, 3, 1, tzinfo=UTC)
    assert terms.due(S.MEDIATION, start) == start + timedelta(days=15)
    due = terms.due(S.ARBITRATION, start)
    assert due == start + timedelta(days=45)
    assert chain.extended_due(terms, S.ARBITRATION, due, extended=False) == start + timedelta(60)
    with pytest.raises(chain.IllegalMove, match="once only"):
        chain.extended_due(terms, S.ARBITRATION, due, extended=True)
    with pytest.raises(chain.IllegalMove, match="cannot be extended"):
        chain.extended_due(terms, S.MEDIATION, due, extended=False)


def test_limitation_is_a_year_and_stops_at_arbitration() -> None:
    assert chain.limitation_ends(date(2024, 5, 20)) == date(2025, 5, 20)
    assert chain.limitation_ends(date(2024, 2, 29)) == date(2025, 2, 28)
    assert {S.NEGOTIATION, S.MEDIATION} == chain.BEFORE_ARBITRATION


def test_referrals_from_court_and_arbitration_start_in_mediation() -> None:
    assert chain.first_stage(FilingChannel.COURT) is S.MEDIATION
    assert chain.first_stage(FilingChannel.ARBITRATION) is S.MEDIATION
    assert chain.first_stage(FilingChannel.HOTLINE_12351) is S.NEGOTIATION


def _worker(rng: random.Random, *, female: bool, groups: list[PriorityGroup]) -> Claimant:
    while True:
        rid = samples.adult_resident_id(rng)
        if (int(rid[16]) % 2 == 0) == female:
            break
    return Claimant(
        name=samples.person_name(rng),
        resident_id=rid,
        phone=samples.mobile_phone(rng),
        claimed="1000.00",
        groups=groups,
    )


def test_triage_finds_priority_groups_from_declaration_id_and_industry() -> None:
    rng = random.Random(1)
    man = _worker(rng, female=False, groups=[])
    woman = _worker(rng, female=True, groups=[])
    migrant = _worker(rng, female=False, groups=[PriorityGroup.MIGRANT])
    assert triage.case_groups([man], Industry.MANUFACTURING) == []
    assert triage.case_groups([woman], Industry.MANUFACTURING) == [PriorityGroup.WOMEN]
    assert triage.case_groups([man, migrant], Industry.FOOD_DELIVERY) == [
        PriorityGroup.NEW_EMPLOYMENT_FORM,
        PriorityGroup.MIGRANT,
    ]
    assert triage.is_group_dispute(10)
    assert not triage.is_group_dispute(9)


def test_queue_serves_priority_then_groups_then_the_oldest() -> None:
    t = datetime(2025, 1, 1, tzinfo=UTC)
    cases = {
        "plain-old": triage.queue_order(False, False, t),
        "group": triage.queue_order(False, True, t + timedelta(hours=2)),
        "priority-new": triage.queue_order(True, False, t + timedelta(hours=3)),
        "priority-old": triage.queue_order(True, False, t + timedelta(hours=1)),
    }
    assert sorted(cases, key=cases.__getitem__) == [
        "priority-old",
        "priority-new",
        "group",
        "plain-old",
    ]


BAIYUN = Station("by", "白云站", "440111")
BAIYUN_NEW_FORM = Station("by-nf", "白云新就业形态站", "440111", new_form=True)
TIANHE = Station("th", "天河站", "440106")
FUTIAN = Station("ft", "福田站", "440304")
EMPLOYER = samples.employer_credit_code(random.Random(2), "440111")


def _lawyer(
    lawyer_id: str,
    station: Station,
    kinds: set[DisputeKind],
    capacity: int = 10,
    acts_for: frozenset[str] = frozenset(),
) -> LawyerProfile:
    return LawyerProfile(lawyer_id, lawyer_id, station, frozenset(kinds), capacity, acts_for)


ARREARS = CaseNeeds("440111", DisputeKind.WAGE_ARREARS, EMPLOYER)


def test_district_then_specialty_then_least_loaded() -> None:
    near_specialist = _lawyer("a", BAIYUN, {DisputeKind.WAGE_ARREARS})
    near_other = _lawyer("b", BAIYUN, {DisputeKind.DISMISSAL})
    far_specialist = _lawyer("c", TIANHE, {DisputeKind.WAGE_ARREARS})
    pool = [Candidate(near_specialist, 5), Candidate(near_other, 0), Candidate(far_specialist, 0)]
    assert choose_lawyer(pool, ARREARS) == near_specialist
    busier = Candidate(_lawyer("d", BAIYUN, {DisputeKind.WAGE_ARREARS}, capacity=10), 6)
    assert choose_lawyer([*pool, busier], ARREARS) == near_specialist
    full = [Candidate(near_specialist, 10), Candidate(near_other, 10), Candidate(far_specialist, 0)]
    assert choose_lawyer(full, ARREARS) == far_specialist


def test_new_form_workers_go_to_the_new_form_station_first() -> None:
    plain = _lawyer("a", BAIYUN, {DisputeKind.WAGE_ARREARS})
    station = _lawyer("b", BAIYUN_NEW_FORM, {DisputeKind.WAGE_ARREARS})
    needs = CaseNeeds("440111", DisputeKind.WAGE_ARREARS, EMPLOYER, new_form=True)
    assert choose_lawyer([Candidate(plain, 0), Candidate(station, 3)], needs) == station


def test_never_conflicted_off_duty_full_excluded_or_of_another_city() -> None:
    conflicted = _lawyer("a", BAIYUN, {DisputeKind.WAGE_ARREARS}, acts_for=frozenset({EMPLOYER}))
    off = _lawyer("b", BAIYUN, {DisputeKind.WAGE_ARREARS})
    full = _lawyer("c", BAIYUN, {DisputeKind.WAGE_ARREARS}, capacity=2)
    asked = _lawyer("d", TIANHE, {DisputeKind.WAGE_ARREARS})
    shenzhen = _lawyer("e", FUTIAN, {DisputeKind.WAGE_ARREARS})
    pool = [
        Candidate(conflicted, 0),
        Candidate(off, 0, on_duty=False),
        Candidate(full, 2),
        Candidate(asked, 0),
        Candidate(shenzhen, 0),
    ]
    assert choose_lawyer(pool, ARREARS, exclude=frozenset({"d"})) is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([BAIYUN, TIANHE, FUTIAN]),
            st.booleans(),
            st.integers(0, 12),
            st.booleans(),
        ),
        max_size=12,
    )
)
def test_a_chosen_lawyer_is_free_on_duty_and_without_conflict(
    pool: list[tuple[Station, bool, int, bool]],
) -> None:
    candidates = [
        Candidate(
            _lawyer(
                f"l{i}",
                station,
                {DisputeKind.WAGE_ARREARS},
                acts_for=frozenset({EMPLOYER}) if conflict else frozenset(),
            ),
            load,
            on_duty=duty,
        )
        for i, (station, conflict, load, duty) in enumerate(pool)
    ]
    chosen = choose_lawyer(candidates, ARREARS)
    eligible = [
        c
        for c in candidates
        if c.on_duty
        and c.open_cases < c.profile.capacity
        and EMPLOYER not in c.profile.acts_for
        and c.profile.station.city_code == "440100"
    ]
    assert (chosen is None) == (not eligible)
    if chosen is not None:
        assert chosen in [c.profile for c in eligible]


def test_warnings_watch_the_employer_and_arrears_hot_spots() -> None:
    terms = WarningTerms()
    found = watches(terms, EMPLOYER, "440111", Industry.CONSTRUCTION, DisputeKind.WAGE_ARREARS)
    assert [w.kind for w in found] == ["employer_filings", "employer_workers", "arrears_hotspot"]
    assert found[2].series == "arrears:440111:construction"
    dismissal = watches(terms, EMPLOYER, "440111", Industry.CONSTRUCTION, DisputeKind.DISMISSAL)
    assert [w.kind for w in dismissal] == ["employer_filings", "employer_workers"]
    filings, workers = found[0], found[1]
    assert reached(filings, filings=3, workers=3) == 3
    assert reached(filings, filings=2, workers=400) is None
    assert reached(workers, filings=1, workers=410) == 410


def _state(**kwargs: object) -> letters.LetterState:
    base: dict[str, object] = {
        "last": None,
        "respond_by": None,
        "response": None,
        "cases_in_period": 0,
        "cases_since_last": 0,
    }
    return letters.LetterState(**{**base, **kwargs})  # type: ignore[arg-type]


def test_letters_go_prompt_then_opinion_then_suggestion() -> None:
    terms, today = letters.SupervisionTerms(), date(2025, 6, 1)
    assert letters.letter_due(terms, _state(cases_in_period=2), today) is None
    assert letters.letter_due(terms, _state(cases_in_period=3), today) is LetterKind.PROMPT
    waiting = _state(last=LetterKind.PROMPT, respond_by=today, cases_in_period=9)
    assert letters.letter_due(terms, waiting, today) is None
    assert letters.letter_due(terms, waiting, today + timedelta(days=1)) is LetterKind.OPINION
    refused = _state(last=LetterKind.OPINION, respond_by=today, response=EmployerResponse.REFUSED)
    assert letters.letter_due(terms, refused, today) is LetterKind.SUGGESTION
    rectified = _state(
        last=LetterKind.PROMPT, respond_by=today, response=EmployerResponse.RECTIFIED
    )
    assert letters.letter_due(terms, rectified, today + timedelta(days=90)) is None
    again = _state(
        last=LetterKind.PROMPT,
        respond_by=today,
        response=EmployerResponse.RECTIFIED,
        cases_since_last=3,
    )
    assert letters.letter_due(terms, again, today) is LetterKind.OPINION
    last = _state(last=LetterKind.SUGGESTION, response=EmployerResponse.REFUSED)
    assert letters.letter_due(terms, last, today) is None
