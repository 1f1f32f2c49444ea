from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from gonghui_contracts import describe
from gonghui_contracts.values import ResidentId, age_on
from gonghui_contracts.values.resident_id import check_character, validate_resident_id

TODAY = date(2026, 11, 27)


class Holder(BaseModel):
    resident_id: ResidentId


def make_id(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def test_the_standards_worked_example_is_valid() -> None:
    assert validate_resident_id("11010519491231002X", TODAY) == "11010519491231002X"


def test_lowercase_x_is_normalised() -> None:
    assert Holder(resident_id="11010519491231002x").resident_id == "11010519491231002X"


@pytest.mark.parametrize(
    "written",
    [
        " 11010519491231002X ",  # what the schema refuses, the platform refuses too
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits
        "11010519491231002X\x00",
    ],
)
def test_only_ascii_digits_make_a_resident_id(written: str) -> None:
    with pytest.raises(ValidationError):
        Holder(resident_id=written)


@given(
    region=st.sampled_from(["440106", "440304", "110105", "510104", "452101"]),
    born=st.dates(date(1930, 1, 1), date(2010, 12, 31)),
    sequence=st.integers(0, 999),
)
def test_any_id_with_the_right_check_character_is_valid(
    region: str, born: date, sequence: int
) -> None:
    number = make_id(region, born, sequence)
    assert validate_resident_id(number, TODAY) == number


@given(
    born=st.dates(date(1950, 1, 1), date(2005, 12, 31)),
    sequence=st.integers(0, 999),
    wrong=st.integers(1, 10),
)
def test_a_wrong_check_character_is_refused(born: date, sequence: int, wrong: int) -> None:
    number = make_id("440106", born, sequence)
    chars = "0123456789X"
    bad = number[:17] + chars[(chars.index(number[17]) + wrong) % 11]
    with pytest.raises(ValueError, match="check character"):
        validate_resident_id(bad, TODAY)


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("4401061990023012", "17 digits"),
        ("44010619900230123A", "17 digits"),
        ("99010619900101123X", "province"),
        (make_id("440106", date(1990, 1, 1), 1)[:10] + "0230" + "1230", "calendar date"),
        (make_id("440106", date(2027, 1, 1), 1), "future"),
        (make_id("440106", date(1880, 1, 1), 1), "older than"),
    ],
)
def test_each_rule_says_what_is_wrong(number: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        validate_resident_id(number, TODAY)


def test_errors_never_repeat_the_number() -> None:
    number = make_id("440106", date(1990, 1, 1), 7)[:17] + "0"
    number = number if check_character(number[:17]) != "0" else number[:17] + "1"
    with pytest.raises(ValidationError) as caught:
        Holder(resident_id=number)
    described = " ".join(describe(caught.value))
    assert number not in described
    assert "resident_id: " in described


def test_age_counts_full_years_up_to_the_birthday() -> None:
    number = make_id("440106", date(2010, 11, 28), 1)
    assert age_on(number, date(2026, 11, 27)) == 15
    assert age_on(number, date(2026, 11, 28)) == 16
