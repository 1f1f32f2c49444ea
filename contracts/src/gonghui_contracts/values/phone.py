"""Mainland China mobile numbers (11 digits starting 13–19), optionally written with +86."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[ -]")


def validate_mobile(value: str) -> str:
    number = _SEPARATORS.sub("", value)
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == 11 + len(prefix):
            number = number[len(prefix) :]
    if not _MOBILE.match(number):
        raise ValueError("must be a mainland mobile number: 11 digits starting 13-19")
    return number


def mask_mobile(number: str) -> str:
    """138****5678: the form in which a phone number may appear in logs."""
    return f"{number[:3]}****{number[-4:]}" if len(number) >= 7 else "****"


MobilePhone = Annotated[
    str,
    Field(
        min_length=11,
        max_length=20,
        pattern=r"^\+?[0-9 -]+$",
        description="Mainland mobile number; +86 and separators are accepted and removed. "
        "Personal data: encrypted at rest, masked in logs.",
        json_schema_extra={"x-personal-data": True},
    ),
    AfterValidator(validate_mobile),
]
