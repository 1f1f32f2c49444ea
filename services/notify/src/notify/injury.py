"""Which notices a work-injury event causes. Pure: no I/O.

The injured worker is addressed through the case (`injured:<case id>`): the gateway asks aid for
the contact, as it asks membership for a member's. Visitors are staff; escalations go to the
district union's duty desk (`union:<union id>`).
"""

from __future__ import annotations

from typing import Any

from gonghui_contracts.events import (
    CaseReferredToLegal,
    CondolencePaid,
    FollowUpDue,
    FollowUpEscalated,
    FollowUpsScheduled,
    InjuryCaseOpened,
    VisitDueSoon,
    VisitorAssigned,
    VisitOverdue,
    VisitUnassigned,
)
from gonghui_contracts.values import local_federation
from notify.recipients import NoticeRequest, staff, union
from notify.templates import Value
from notify.wording import days, ref, when


def injured(case_id: object) -> str:
    return f"injured:{case_id}"


def injury_notices(payload: Any) -> list[NoticeRequest] | None:  # noqa: PLR0911 — one case per event
    """The notices a work-injury event calls for; None if `payload` is not one of them."""
    if isinstance(payload, InjuryCaseOpened):
        _, union_name = local_federation(payload.district_code)
        values: dict[str, Value] = {
            "case_ref": ref(payload.case_id),
            "union_name": union_name,
            "visit_due": when(payload.visit_due_at),
        }
        return [NoticeRequest(injured(payload.case_id), "injury_case_opened", values)]
    if isinstance(payload, VisitorAssigned):
        common: dict[str, Value] = {
            "case_ref": ref(payload.case_id),
            "hospital_name": payload.hospital_name,
            "visit_due": when(payload.visit_due_at),
        }
        told = [
            NoticeRequest(
                staff(payload.visitor_id),
                "visit_assignment",
                {**common, "accept_by": when(payload.accept_by)},
            )
        ]
        if payload.attempt == 1:  # the worker hears of the visitor once, not of every re-offer
            told.append(
                NoticeRequest(
                    injured(payload.case_id),
                    "injury_visitor_assigned",
                    {**common, "visitor_name": payload.visitor_name},
                )
            )
        return told
    if isinstance(payload, VisitDueSoon):
        values = {"case_ref": ref(payload.case_id), "visit_due": when(payload.visit_due_at)}
        return [NoticeRequest(staff(payload.visitor_id), "visit_due_soon", values)]
    if isinstance(payload, VisitOverdue | VisitUnassigned):
        template = "visit_overdue" if isinstance(payload, VisitOverdue) else "visit_unassigned"
        values = {"case_ref": ref(payload.case_id), "visit_due": when(payload.visit_due_at)}
        return [NoticeRequest(union(payload.union_id), template, values)]
    if isinstance(payload, CondolencePaid):
        values = {"amount": str(payload.amount)}
        return [NoticeRequest(injured(payload.case_id), "condolence_paid", values)]
    if isinstance(payload, FollowUpsScheduled):
        values = {"dates": days(payload.due_dates)}
        return [NoticeRequest(injured(payload.case_id), "follow_ups_scheduled", values)]
    if isinstance(payload, FollowUpDue):
        values = {"sequence": str(payload.sequence), "case_ref": ref(payload.case_id)}
        told = [NoticeRequest(injured(payload.case_id), "follow_up_due", values)]
        if payload.visitor_id:
            told.append(NoticeRequest(staff(payload.visitor_id), "follow_up_task", values))
        return told
    if isinstance(payload, FollowUpEscalated):
        values = {"sequence": str(payload.sequence), "case_ref": ref(payload.case_id)}
        return [NoticeRequest(union(payload.union_id), "follow_up_escalated", values)]
    if isinstance(payload, CaseReferredToLegal):
        return [NoticeRequest(injured(payload.case_id), "legal_referral", {})]
    return None
