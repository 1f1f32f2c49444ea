"""Money: yuan as Decimal with two places, never a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

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


Yuan = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=14,
        decimal_places=2,
        description="Amount in yuan (CNY) with at most two decimal places, sent as a string",
        examples=["150.00"],
    ),
    PlainSerializer(lambda amount: str(amount.quantize(CENT)), return_type=str, when_used="json"),
]
