"""Who a notice is for. Addresses are references the delivery gateway resolves (it asks the
service that holds the contact), never phone numbers: notify holds no personal data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from notify.templates import Value


@dataclass(frozen=True)
class NoticeRequest:
    recipient: str
    template: str
    values: Mapping[str, Value]


def member(member_id: object) -> str:
    return f"member:{member_id}"


def staff(staff_id: str) -> str:
    return f"staff:{staff_id}"


def union(union_id: str) -> str:
    """The duty desk of a union federation."""
    return f"union:{union_id}"
