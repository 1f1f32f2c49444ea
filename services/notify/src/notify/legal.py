"""Which notices a labour-dispute event causes. Pure: no I/O.

The workers of a case are addressed through the case (`claimants:<case id>`): the gateway asks
legal for the case's workers and tells each of them, so an event makes one notice however many
workers the dispute has. Union lawyers are staff; escalations, early warnings and supervision
letters go to the district union's duty desk (`union:<union id>`).
"""

from __future__ import annotations

from typing import Any

from gonghui_contracts.events import (
    CaseUnassigned,
    DeadlineMissed,
    DeadlineNear,
    DisputeFiled,
    EarlyWarningRaised,
    EmployerResponded,
    FilingOutcome,
    LawyerAccepted,
    LawyerAssigned,
    LegalCaseClosed,
    LegalCaseOpened,
    StageChanged,
    StageExtended,
    SupervisionLetterIssued,
)
from gonghui_contracts.values import (
    CaseOutcome,
    CaseStage,
    DisputeKind,
    Industry,
    LetterKind,
    local_federation,
    region,
)
from notify.recipients import NoticeRequest, staff, union
from notify.wording import day, local_day, ref, when

KINDS: dict[DisputeKind, str] = {
    DisputeKind.WAGE_ARREARS: "欠薪",
    DisputeKind.NO_CONTRACT: "未签劳动合同",
    DisputeKind.DISMISSAL: "违法解除劳动合同",
    DisputeKind.INJURY_COMPENSATION: "工伤赔偿",
    DisputeKind.SOCIAL_INSURANCE: "社会保险",
    DisputeKind.OTHER: "其他劳动争议",
}
STAGES: dict[CaseStage, str] = {
    CaseStage.NEGOTIATION: "协商",
    CaseStage.MEDIATION: "调解",
    CaseStage.ARBITRATION: "仲裁",
    CaseStage.LITIGATION: "诉讼",
    CaseStage.LEGAL_AID: "法律援助",
    CaseStage.ENFORCEMENT: "执行",
}
OUTCOMES: dict[CaseOutcome, str] = {
    CaseOutcome.SETTLED: "达成和解/调解协议",
    CaseOutcome.WITHDRAWN: "撤回",
    CaseOutcome.AWARD: "仲裁裁决",
    CaseOutcome.JUDGMENT: "判决",
    CaseOutcome.ENFORCED: "执行完毕",
}
DEADLINES: dict[str, str] = {"stage": "本阶段期限", "limitation": "申请仲裁时效"}
LETTERS: dict[LetterKind, str] = {
    LetterKind.PROMPT: "提示函",
    LetterKind.OPINION: "意见书",
    LetterKind.SUGGESTION: "建议书",
}
INDUSTRIES: dict[Industry, str] = {
    Industry.EXPRESS_DELIVERY: "快递",
    Industry.FOOD_DELIVERY: "外卖",
    Industry.RIDE_HAILING: "网约车",
    Industry.FREIGHT: "货运",
    Industry.DOMESTIC_SERVICE: "家政",
    Industry.MANUFACTURING: "制造业",
    Industry.CONSTRUCTION: "建筑业",
    Industry.RETAIL: "零售业",
    Industry.HOSPITALITY: "住宿餐饮业",
    Industry.HEALTHCARE: "医疗卫生",
    Industry.EDUCATION: "教育",
    Industry.PUBLIC_SECTOR: "公共部门",
    Industry.OTHER: "其他行业",
}
SILENT = (LawyerAccepted, EmployerResponded, DisputeFiled, FilingOutcome)
"""Legal events nobody is told about: the worker heard of the lawyer at assignment; an employer's
response is recorded, not announced; partners read their filings' outcomes on their own topic."""


def claimants(case_id: object) -> str:
    """The workers of a labour-dispute case: the gateway asks legal for them and tells each."""
    return f"claimants:{case_id}"


def legal_notices(payload: Any) -> list[NoticeRequest] | None:  # noqa: PLR0911 — one case per event
    """The notices a labour-dispute event calls for ([] for one nobody is told about); None if
    `payload` is not a legal event."""
    if isinstance(payload, LegalCaseOpened):
        _, union_name = local_federation(payload.district_code)
        values = {
            "case_ref": ref(payload.case_id),
            "union_name": union_name,
            "kind": KINDS[payload.kind],
        }
        return [NoticeRequest(claimants(payload.case_id), "legal_case_opened", values)]
    if isinstance(payload, LawyerAssigned):
        common = {"case_ref": ref(payload.case_id), "station_name": payload.station_name}
        told = [
            NoticeRequest(
                staff(payload.lawyer_id),
                "legal_assignment",
                {**common, "accept_by": when(payload.accept_by)},
            )
        ]
        if payload.attempt == 1:  # the workers hear of the lawyer once, not of every re-offer
            told.append(
                NoticeRequest(
                    claimants(payload.case_id),
                    "legal_lawyer_assigned",
                    {**common, "lawyer_name": payload.lawyer_name},
                )
            )
        return told
    if isinstance(payload, CaseUnassigned):
        template = "legal_unassigned_priority" if payload.priority else "legal_unassigned"
        values = {"case_ref": ref(payload.case_id), "kind": KINDS[payload.kind]}
        return [NoticeRequest(union(payload.union_id), template, values)]
    if isinstance(payload, StageChanged):
        values = {
            "case_ref": ref(payload.case_id),
            "from_stage": STAGES[payload.from_stage],
            "to_stage": STAGES[payload.to_stage],
            "due_on": local_day(payload.due_at),
        }
        return [NoticeRequest(claimants(payload.case_id), "legal_stage_changed", values)]
    if isinstance(payload, StageExtended):
        values = {
            "case_ref": ref(payload.case_id),
            "stage": STAGES[payload.stage],
            "due_on": local_day(payload.due_at),
        }
        return [NoticeRequest(claimants(payload.case_id), "legal_stage_extended", values)]
    if isinstance(payload, DeadlineNear | DeadlineMissed):
        values = {
            "case_ref": ref(payload.case_id),
            "stage": STAGES[payload.stage],
            "deadline": DEADLINES[payload.deadline],
            "due": when(payload.due_at),
        }
        if isinstance(payload, DeadlineNear):
            return [NoticeRequest(staff(payload.lawyer_id), "legal_deadline_near", values)]
        return [NoticeRequest(union(payload.union_id), "legal_deadline_missed", values)]
    if isinstance(payload, LegalCaseClosed):
        amount = {} if payload.amount is None else {"amount": str(payload.amount)}
        template = "legal_case_closed_amount" if amount else "legal_case_closed"
        values = {"case_ref": ref(payload.case_id), "outcome": OUTCOMES[payload.outcome], **amount}
        return [NoticeRequest(claimants(payload.case_id), template, values)]
    if isinstance(payload, EarlyWarningRaised):
        return [NoticeRequest(union(payload.union_id), *_warning(payload))]
    if isinstance(payload, SupervisionLetterIssued):
        values = {
            "letter": LETTERS[payload.letter],
            "employer_name": payload.employer_name,
            "cases": str(payload.cases),
            "respond_by": day(payload.respond_by),
        }
        return [NoticeRequest(union(payload.union_id), "legal_supervision_letter", values)]
    if isinstance(payload, SILENT):
        return []
    return None


def _warning(warning: EarlyWarningRaised) -> tuple[str, dict[str, str]]:
    """Template and values of an early warning, by its kind."""
    values = {"count": str(warning.count), "window_days": str(warning.window_days)}
    if warning.kind == "arrears_hotspot":
        industry = INDUSTRIES[warning.industry] if warning.industry else "各行业"
        values |= {"district_name": region(warning.district_code).name, "industry": industry}
        return "legal_warning_arrears_hotspot", values
    values["employer_name"] = warning.employer_name or warning.employer_code or "某用人单位"
    if warning.kind == "employer_workers":
        return "legal_warning_employer_workers", values
    return "legal_warning_employer_filings", values
