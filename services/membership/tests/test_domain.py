import random
from datetime import date

import pytest

from gonghui_contracts.samples import resident_id_born
from gonghui_contracts.values import Industry
from membership import domain


def resident_id(born: date) -> str:
    return resident_id_born(random.Random(1), born, area="440106")


@pytest.mark.parametrize(
    ("industry", "union_id", "name"),
    [
        (Industry.EXPRESS_DELIVERY, "440100-express_delivery", "广州市快递行业工会联合会"),
        (Industry.FOOD_DELIVERY, "440100-food_delivery", "广州市外卖配送行业工会联合会"),
        (Industry.RIDE_HAILING, "440100-ride_hailing", "广州市网约车行业工会联合会"),
        (Industry.FREIGHT, "440100-freight", "广州市货车司机行业工会联合会"),
    ],
)
def test_platform_workers_join_their_citys_industry_federation(
    industry: Industry, union_id: str, name: str
) -> None:
    union = domain.union_for("440111", industry)
    assert (union.union_id, union.name, union.region_code) == (union_id, name, "440100")
    assert domain.is_new_employment_form(industry)


def test_other_workers_join_their_countys_federation() -> None:
    union = domain.union_for("440304", Industry.MANUFACTURING)
    assert (union.union_id, union.name) == ("440304-county", "福田区总工会")
    assert not domain.is_new_employment_form(Industry.MANUFACTURING)


def test_a_city_without_counties_is_its_own_county() -> None:
    assert domain.union_for("441900", Industry.RETAIL).name == "东莞市总工会"


def test_applicants_must_be_sixteen_on_the_day() -> None:
    today = date(2026, 6, 27)
    assert domain.eligibility_problems(resident_id(date(2010, 6, 27)), today) == []
    [problem] = domain.eligibility_problems(resident_id(date(2010, 6, 28)), today)
    assert (problem.field, problem.rule) == ("resident_id", "applicant must be 16 or older")


def test_a_transfer_needs_an_active_member_and_another_union() -> None:
    target = domain.union_for("440304", Industry.RETAIL)
    domain.check_transfer(domain.MemberStatus.ACTIVE, "440106-county", target)
    with pytest.raises(domain.MembershipError, match="already belongs"):
        domain.check_transfer(domain.MemberStatus.ACTIVE, target.union_id, target)
    with pytest.raises(domain.MembershipError, match="active"):
        domain.check_transfer(domain.MemberStatus.LEFT, "440106-county", target)


def test_only_an_active_member_can_leave() -> None:
    domain.check_leave(domain.MemberStatus.ACTIVE)
    with pytest.raises(domain.MembershipError):
        domain.check_leave(domain.MemberStatus.LEFT)
