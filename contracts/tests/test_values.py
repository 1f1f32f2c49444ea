from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from gonghui_contracts.values import (
    MobilePhone,
    RegionCode,
    Yuan,
    guangdong_regions,
    mask_mobile,
    region,
    to_cents,
    to_yuan,
)


class Contact(BaseModel):
    phone: MobilePhone


class Place(BaseModel):
    code: RegionCode


class Price(BaseModel):
    amount: Yuan


@pytest.mark.parametrize(
    "written", ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "8613800138000"]
)
def test_phone_numbers_are_normalised(written: str) -> None:
    assert Contact(phone=written).phone == "13800138000"


@pytest.mark.parametrize("written", ["12800138000", "1380013800", "138001380001", "010-12345678"])
def test_non_mobile_numbers_are_refused(written: str) -> None:
    with pytest.raises(ValidationError, match="phone"):
        Contact(phone=written)


def test_masked_phone_keeps_only_prefix_and_last_four() -> None:
    assert mask_mobile("13800138000") == "138****8000"


def test_guangdong_has_21_cities_each_with_its_counties() -> None:
    regions = guangdong_regions()
    cities = {r.city_code for r in regions.values()}
    assert len(cities) == 21
    assert region("440106").name == "天河区"
    assert region("440106").city_name == "广州市"
    assert region("441900").is_city  # Dongguan has no county level


@pytest.mark.parametrize(
    ("code", "rule"), [("450103", "44"), ("440199", "not a Guangdong"), ("44010", "6")]
)
def test_region_codes_outside_guangdong_or_unknown_are_refused(code: str, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        Place(code=code)


def test_money_is_a_decimal_sent_as_a_string() -> None:
    price = Price(amount=Decimal("150.5"))
    assert price.model_dump_json() == '{"amount":"150.50"}'
    assert Price.model_validate_json('{"amount":"0.10"}').amount == Decimal("0.10")


@pytest.mark.parametrize("amount", ["-1", "1.005", "1e20"])
def test_money_refuses_negative_sub_cent_and_huge_amounts(amount: str) -> None:
    with pytest.raises(ValidationError):
        Price(amount=Decimal(amount))


def test_money_converts_to_cents_and_back_exactly() -> None:
    assert to_cents(Decimal("60.00")) == 6000
    assert to_cents(Decimal("0.1") + Decimal("0.2")) == 30
    assert to_yuan(30_000_000_00) == Decimal("30000000.00")
    assert to_yuan(to_cents(Decimal("12.34"))) == Decimal("12.34")


def test_claims_that_add_up_past_what_an_amount_holds_are_refused_on_workers() -> None:
    from datetime import date
    from random import Random

    from gonghui_contracts import samples
    from gonghui_contracts.events import DisputeDetails

    rng = Random(7)

    def details(claim: str, workers: int) -> dict[str, object]:
        return {
            "employer": {"credit_code": samples.employer_credit_code(rng), "name": "某某公司"},
            "industry": "manufacturing",
            "district_code": "440111",
            "kind": "wage_arrears",
            "arose_on": date(2026, 1, 5),
            "workers": [
                {
                    "name": "张三",
                    "resident_id": samples.adult_resident_id(rng),
                    "phone": "13800138000",
                    "claimed": claim,
                }
                for _ in range(workers)
            ],
        }

    assert DisputeDetails.model_validate(details("999999999999.99", 1))
    with pytest.raises(ValidationError) as caught:
        DisputeDetails.model_validate(details("999999999999.99", 2))
    [error] = caught.value.errors()
    assert error["loc"] == ("workers",)
    assert "add up to more than" in error["msg"]
