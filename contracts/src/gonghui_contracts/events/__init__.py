"""Every event payload of the platform, by domain."""

from gonghui_contracts.envelope import Catalog, EventPayload
from gonghui_contracts.events.aid import (
    CoverageEnded,
    GiftFundExhausted,
    InsuranceEnrolled,
    SelfPaidOffered,
)
from gonghui_contracts.events.membership import (
    JoinOutcome,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    RejectionReason,
)
from gonghui_contracts.events.notify import NoticeFailed, NoticeSent

ALL_PAYLOADS: list[type[EventPayload]] = [
    JoinRequested,
    JoinOutcome,
    MemberJoined,
    MemberTransferred,
    MemberLeft,
    InsuranceEnrolled,
    SelfPaidOffered,
    GiftFundExhausted,
    CoverageEnded,
    NoticeSent,
    NoticeFailed,
]

CATALOG = Catalog(ALL_PAYLOADS)

__all__ = [
    "ALL_PAYLOADS",
    "CATALOG",
    "CoverageEnded",
    "GiftFundExhausted",
    "InsuranceEnrolled",
    "JoinOutcome",
    "JoinRequested",
    "MemberJoined",
    "MemberLeft",
    "MemberTransferred",
    "NoticeFailed",
    "NoticeSent",
    "RejectionReason",
    "SelfPaidOffered",
]
