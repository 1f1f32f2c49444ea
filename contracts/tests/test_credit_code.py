import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from gonghui_contracts.envelope import STRICT
from gonghui_contracts.values import CreditCode
from gonghui_contracts.values.credit_code import ALPHABET, check_character


class Holder(BaseModel):
    model_config = STRICT
    code: CreditCode


# Codes as printed on business licences (published company registrations).
PUBLISHED = ["91440300708461136T", "914403001922038216"]

first17 = st.tuples(
    st.text(alphabet=ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=ALPHABET, min_size=9, max_size=9),
).map("".join)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_accepted(code: str) -> None:
    assert Holder(code=code).code == code


def test_lower_case_is_normalised_and_anything_but_the_code_refused() -> None:
    assert Holder(code="91440300708461136t").code == "91440300708461136T"
    for written in (" 91440300708461136T ", "９1440300708461136T", "91440300708461136T\x00"):
        with pytest.raises(ValidationError):
            Holder(code=written)


@given(first17)
def test_a_code_with_its_check_character_is_valid_and_any_other_is_not(body: str) -> None:
    good = body + check_character(body)
    assert Holder(code=good).code == good
    for wrong in ALPHABET.replace(good[-1], ""):
        with pytest.raises(ValidationError, match="check character"):
            Holder(code=body + wrong)


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("9144030070846113", "at least 18"),
        ("91440300708461136I", "only digits and capitals"),
        ("9144O300708461136T", "only digits and capitals"),
        ("91A40300708461136T", "area code"),
    ],
)
def test_malformed_codes_name_the_rule_without_echoing(code: str, rule: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Holder(code=code)
    assert rule in str(raised.value)
    assert code not in str(raised.value)
