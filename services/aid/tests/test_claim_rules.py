"""The claim rules, pure: payout, cap, review reasons, revisions."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from aid.claims import rules
from aid.claims.rules import Figures
from gonghui_contracts.values import DiagnosisCategory

TERMS = rules.DEFAULT_TERMS
DAY = date(2024, 8, 1)


def stay(out_of_pocket: int, **changes: object) -> Figures:
    fields: dict[str, object] = {
        "admitted_on": DAY,
        "discharged_on": DAY + timedelta(days=5),
        "total_cents": out_of_pocket * 4,
        "basic_paid_cents": out_of_pocket * 2,
        "out_of_pocket_cents": out_of_pocket,
        "diagnosis": DiagnosisCategory.GENERAL,
    }
    return Figures(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_payout_is_the_rates_share_above_the_deductible() -> None:
    assert rules.payout_due(stay(10_000_00), TERMS) == 4_750_00
    assert rules.payout_due(stay(400_00), TERMS) == 0
    serious = stay(10_000_00, diagnosis=DiagnosisCategory.SERIOUS_ILLNESS)
    assert rules.payout_due(serious, TERMS) == 6_650_00
    costly = stay(10_000_00, total_cents=100_000_00)  # serious by its cost
    assert rules.serious(costly, TERMS)
    assert rules.payout_due(costly, TERMS) == 6_650_00
    assert rules.payout_due(stay(500_03), TERMS) == 1  # 1.5 cents, rounded down


def test_figures_that_cannot_be_true_together_are_named() -> None:
    assert rules.inconsistencies(stay(1_000_00), DAY) == []
    backwards = stay(1_000_00, discharged_on=DAY - timedelta(days=1))
    assert [r.field for r in rules.inconsistencies(backwards, DAY)] == ["discharged_on"]
    too_much = stay(1_000_00, total_cents=2_000_00)
    assert [r.field for r in rules.inconsistencies(too_much, DAY)] == ["total_cost"]
    assert [r.field for r in rules.inconsistencies(stay(1), DAY - timedelta(1))] == ["admitted_on"]


def test_nothing_to_review_is_paid_without_a_form() -> None:
    clean = {"member_found": True, "covered": True, "figures_problems": [], "terms": TERMS}
    assert rules.review_reasons(**clean, payout_cents=5_000_00, staff_decided_before=False) == []
    above = rules.review_reasons(**clean, payout_cents=20_000_01, staff_decided_before=False)
    assert above == [rules.ABOVE_AUTO_LIMIT]
    again = rules.review_reasons(**clean, payout_cents=1, staff_decided_before=True)
    assert again == [rules.STAFF_DECIDED]
    stranger = rules.review_reasons(
        member_found=False,
        covered=False,
        figures_problems=[],
        payout_cents=0,
        staff_decided_before=False,
        terms=TERMS,
    )
    assert stranger == [rules.NOT_A_MEMBER]
    uncovered = rules.review_reasons(
        member_found=True,
        covered=False,
        figures_problems=[],
        payout_cents=0,
        staff_decided_before=False,
        terms=TERMS,
    )
    assert uncovered == [rules.NO_COVER]


@given(st.lists(st.integers(0, 200_000_00), max_size=30))
def test_a_members_claims_never_pay_past_the_yearly_cap(dues: list[int]) -> None:
    paid = 0
    for due in dues:
        payout = rules.within_cap(due, paid, TERMS)
        assert 0 <= payout <= due
        paid += payout
        assert paid <= TERMS.yearly_cap_cents
    assert paid == min(sum(dues), TERMS.yearly_cap_cents)


revisions = st.lists(
    st.tuples(st.integers(0, 40), st.integers(0, 50_000_00)), min_size=1, max_size=8
).map(lambda pairs: list(dict(pairs).items()))  # one set of figures per revision number


@given(revisions, st.randoms())
def test_revisions_converge_on_the_highest_whatever_their_order(
    sent: list[tuple[int, int]], order: object
) -> None:
    arriving = list(sent)
    order.shuffle(arriving)  # type: ignore[attr-defined]
    in_force: int | None = None
    paid, moved = 0, 0
    for revision, out_of_pocket in arriving:
        if not rules.supersedes(revision, in_force):
            continue
        in_force = revision
        target = rules.within_cap(rules.payout_due(stay(out_of_pocket), TERMS), 0, TERMS)
        moved += target - paid  # only the difference moves
        paid = target
    highest = max(sent)
    final = rules.within_cap(rules.payout_due(stay(highest[1]), TERMS), 0, TERMS)
    assert in_force == highest[0]
    assert paid == moved == final


def test_relief_opens_at_the_hardship_line() -> None:
    assert not rules.needs_relief(29_999_99, TERMS)
    assert rules.needs_relief(30_000_00, TERMS)
    assert rules.out_of_pocket_after(stay(10_000_00), 4_750_00) == 5_250_00
