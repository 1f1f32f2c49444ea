"""Money: yuan as Decimal with two places, never a float."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, ValidationInfo, WithJsonSchema

CENT = Decimal("0.01")
LARGEST_AMOUNT = Decimal("999999999999.99")
"""What `Yuan` holds (14 digits): a sum that could pass it is checked where it is made."""


def yuan(amount: str | int | Decimal) -> Decimal:
    """An amount of yuan rounded to the cent: yuan("12.5") == Decimal("12.50")."""
    return Decimal(amount).quantize(CENT)


def to_cents(amount: Decimal) -> int:
    """Yuan as integer cents, the way services store money."""
    return int(yuan(amount) * 100)


def to_yuan(cents: int) -> Decimal:
    return yuan(Decimal(cents) / 100)


AMOUNT_TEXT = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
_AMOUNT_TEXT = re.compile(AMOUNT_TEXT)
_WRITTEN = 'yuan as text of ASCII digits with at most two decimals, e.g. "150.00"'


def _written_amount(value: object, info: ValidationInfo) -> object:
    """Amounts travel as text of ASCII digits: never a float (a binary fraction), never another
    script's digits or an exponent (Decimal would take "１００" or "1E+2"); in JSON never a
    number either."""
    if isinstance(value, str):
        if not _AMOUNT_TEXT.fullmatch(value):
            raise ValueError(_WRITTEN)
    elif isinstance(value, bool | float) or info.mode == "json":
        raise ValueError(_WRITTEN)
    return value


Yuan = Annotated[
    Decimal,
    BeforeValidator(_written_amount),
    Field(ge=0, max_digits=14, decimal_places=2),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_TEXT,
            "description": "Amount in yuan (CNY) with at most two decimal places, as a string",
            "examples": ["150.00"],
        }
    ),
    PlainSerializer(lambda amount: str(amount.quantize(CENT)), return_type=str, when_used="json"),
]
