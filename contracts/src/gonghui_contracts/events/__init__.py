"""Every event payload of the platform, by domain."""

from gonghui_contracts.envelope import Catalog, EventPayload
from gonghui_contracts.events.membership import (
    JoinOutcome,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    RejectionReason,
)

ALL_PAYLOADS: list[type[EventPayload]] = [
    JoinRequested,
    JoinOutcome,
    MemberJoined,
    MemberTransferred,
    MemberLeft,
]

CATALOG = Catalog(ALL_PAYLOADS)

__all__ = [
    "ALL_PAYLOADS",
    "CATALOG",
    "JoinOutcome",
    "JoinRequested",
    "MemberJoined",
    "MemberLeft",
    "MemberTransferred",
    "RejectionReason",
]
