"""Which notices a mutual-aid claim event causes. Pure: no I/O.

Members are told of their claims, payments, condolence money and relief; a claim of someone who
is not a member (no member id) is told to staff only. Reviews and relief cases go to the duty
desk of the district union (`union:<union id>` of the district's federation); a payment that
failed for good goes to aid's operators (`operators:aid-claims`), whom the gateway resolves as
it resolves a duty desk.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gonghui_contracts.events import (
    ClaimClawedBack,
    ClaimDecided,
    ClaimPaid,
    ClaimPaymentFailed,
    IllnessCondolencePaid,
    ReliefCaseOpened,
)
from gonghui_contracts.values import local_federation
from notify.legal import Label
from notify.recipients import NoticeRequest, member, union
from notify.templates import Value
from notify.wording import ref

OPERATORS = "operators:aid-claims"
ORIGINS: dict[str, Label] = {
    "settlement": {"zh": "医保结算", "en": "hospital settlement"},
    "member": {"zh": "会员申请", "en": "member's own claim"},
}
NO_REASON: Label = {"zh": "不符合互助保障条件", "en": "it does not meet the cover's conditions"}
NO_REASONS: Label = {"zh": "未说明", "en": "none given"}


def claims_notices(payload: Any) -> list[NoticeRequest] | None:
    """The notices a claim event calls for; None if `payload` is not one of them."""
    tell = TELL.get(type(payload))
    return None if tell is None else tell(payload)


def _district_union(district_code: str | None) -> list[str]:
    if district_code is None:
        return []
    union_id, _ = local_federation(district_code)
    return [union(union_id)]


def _decided(payload: ClaimDecided) -> list[NoticeRequest]:
    values: dict[str, Value] = {"claim_ref": ref(payload.claim_id)}
    told: list[NoticeRequest] = []
    if payload.decision == "under_review":
        to_staff: dict[str, Value] = {
            **values,
            "origin": ORIGINS[payload.origin],
            "reasons": "; ".join(reason.rule for reason in payload.reasons) or NO_REASONS,
        }
        told += [
            NoticeRequest(desk, "claim_review_task", to_staff)
            for desk in _district_union(payload.district_code)
        ]
    if payload.member_id is None:
        return told
    template, to_member = _to_member(payload)
    return [NoticeRequest(member(payload.member_id), template, {**values, **to_member}), *told]


def _to_member(payload: ClaimDecided) -> tuple[str, dict[str, Value]]:
    """Template and values of what the member hears of a decision."""
    if payload.decision == "under_review":
        return "claim_under_review", {}
    if payload.decision == "rejected":
        reason = payload.reasons[0].rule if payload.reasons else NO_REASON
        return "claim_rejected", {"reason": reason}
    if payload.decision == "reversed":
        return "claim_reversed", {}
    change = Decimal(payload.change)
    if change == payload.payout and change > 0:  # the first money this claim pays
        return "claim_approved", {"payout": str(payload.payout)}
    if payload.payout == 0 and change == 0:
        return "claim_approved_nothing_due", {}
    return "claim_approved_changed", {"payout": str(payload.payout), "change": _change(change)}


def _change(change: Decimal) -> Label:
    amount = str(abs(change))
    if change > 0:
        return {"zh": f"增加{amount}元", "en": f"{amount} yuan more"}
    if change < 0:
        return {"zh": f"减少{amount}元", "en": f"{amount} yuan less"}
    return {"zh": "金额不变", "en": "unchanged"}


def _paid(payload: ClaimPaid) -> list[NoticeRequest]:
    template = "claim_paid" if payload.kind == "payout" else "claim_condolence_paid"
    values: dict[str, Value] = {"claim_ref": ref(payload.claim_id), "amount": str(payload.amount)}
    return [NoticeRequest(member(payload.member_id), template, values)]


def _payment_failed(payload: ClaimPaymentFailed) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "claim_ref": ref(payload.claim_id),
        "payment_ref": ref(payload.payment_id),
        "amount": str(payload.amount),
        "attempts": str(payload.attempts),
        "reason": payload.reason,
    }
    return [NoticeRequest(OPERATORS, "claim_payment_failed", values)]


def _clawed_back(payload: ClaimClawedBack) -> list[NoticeRequest]:
    values: dict[str, Value] = {"claim_ref": ref(payload.claim_id), "amount": str(payload.amount)}
    return [NoticeRequest(member(payload.member_id), "claim_clawed_back", values)]


def _condolence(payload: IllnessCondolencePaid) -> list[NoticeRequest]:
    values: dict[str, Value] = {"amount": str(payload.amount)}
    return [NoticeRequest(member(payload.member_id), "illness_condolence_paid", values)]


def _relief(payload: ReliefCaseOpened) -> list[NoticeRequest]:
    _, union_name = local_federation(payload.district_code)
    common: dict[str, Value] = {"policy_year": str(payload.policy_year)}
    to_member: dict[str, Value] = {
        **common,
        "union_name": union_name,
        "out_of_pocket": str(payload.out_of_pocket_after_payouts),
    }
    # Staff learn who and which case, not what the member's treatment cost: aid shows them that.
    to_staff: dict[str, Value] = {
        **common,
        "relief_ref": ref(payload.relief_id),
        "member_ref": ref(payload.member_id),
    }
    return [
        NoticeRequest(member(payload.member_id), "relief_case_opened", to_member),
        *(
            NoticeRequest(desk, "relief_case_task", to_staff)
            for desk in _district_union(payload.district_code)
        ),
    ]


TELL: dict[type, Callable[[Any], list[NoticeRequest]]] = {
    ClaimDecided: _decided,
    ClaimPaid: _paid,
    ClaimPaymentFailed: _payment_failed,
    ClaimClawedBack: _clawed_back,
    IllnessCondolencePaid: _condolence,
    ReliefCaseOpened: _relief,
}
