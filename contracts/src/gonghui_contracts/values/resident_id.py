"""Resident identity card numbers (居民身份证号码), GB 11643-1999.

18 characters: a 6-digit address code, an 8-digit birth date, a 3-digit sequence and a
check character computed as ISO 7064 MOD 11-2 over the first 17 digits.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PROVINCE_CODES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
    }
)
OLDEST_PLAUSIBLE_AGE = 130
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")


def check_character(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def birth_date(number: str) -> date:
    """The birth date encoded in a well-formed resident ID number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def age_on(number: str, day: date) -> int:
    """Full years of age on `day` of the holder of `number`."""
    born = birth_date(number)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_female(number: str) -> bool:
    """The sequence code's last digit is even for women (GB 11643)."""
    return int(number[16]) % 2 == 0


def validate_resident_id(value: str, today: date | None = None) -> str:
    """Return the normalised number, or raise ValueError saying which rule it breaks.

    The messages never repeat the number itself: they end up in error reports.
    """
    number = value.strip().upper()
    if not _SHAPE.match(number):
        raise ValueError("must be 17 digits followed by a digit or X (GB 11643)")
    if int(number[:2]) not in PROVINCE_CODES:
        raise ValueError("address code does not start with a province code (GB/T 2260)")
    try:
        born = birth_date(number)
    except ValueError:
        raise ValueError("birth date is not a calendar date") from None
    today = today or date.today()
    if born > today:
        raise ValueError("birth date is in the future")
    if age_on(number, today) > OLDEST_PLAUSIBLE_AGE:
        raise ValueError(f"birth date makes the holder older than {OLDEST_PLAUSIBLE_AGE}")
    if check_character(number[:17]) != number[17]:
        raise ValueError("check character does not match (GB 11643 MOD 11-2)")
    return number


ResidentId = Annotated[
    str,
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
    Field(
        min_length=18,
        max_length=18,
        pattern=r"^[0-9]{17}[0-9Xx]$",
        description="Resident identity card number, GB 11643 (18 characters, checksum verified). "
        "Personal data: encrypted at rest, never logged.",
        json_schema_extra={"x-personal-data": True},
    ),
    AfterValidator(validate_resident_id),
]
