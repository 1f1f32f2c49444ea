"""Unified social credit codes (统一社会信用代码) of employers, GB 32100-2015.

18 characters from a 31-character alphabet (digits and capitals without I, O, Z, S, V): the
registering authority, the kind of body, a 6-digit GB/T 2260 area code, a 9-character
organisation code and a check character (MOD 31 over the first 17 with fixed weights).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {char: index for index, char in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """The code, or ValueError naming the broken rule (never repeating the code)."""
    if len(value) != 18:
        raise ValueError("must be 18 characters (GB 32100)")
    if any(char not in _VALUES for char in value):
        raise ValueError("may hold only digits and capitals other than I, O, Z, S, V (GB 32100)")
    if not value[2:8].isdigit():
        raise ValueError("characters 3 to 8 must be an area code (GB/T 2260)")
    if check_character(value[:17]) != value[17]:
        raise ValueError("check character does not match (GB 32100)")
    return value


CreditCode = Annotated[
    str,
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
    Field(
        min_length=18,
        max_length=18,
        json_schema_extra={"pattern": r"^[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{18}$"},
        description="Unified social credit code of an organisation (GB 32100-2015)",
        examples=["91440300MA5FXXXX0X"],
    ),
    AfterValidator(validate_credit_code),
]
