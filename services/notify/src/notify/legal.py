"""Which notices a labour-dispute event causes. Pure: no I/O.

The workers of a case are addressed through the case (`claimants:<case id>`): the gateway asks
legal for the case's workers and tells each of them, so an event makes one notice however many
workers the dispute has. Union lawyers are staff; escalations, early warnings and supervision
letters go to the district union's duty desk (`union:<union id>`).
"""

from __future__ import annotations

from collections.abc import Callable
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
    SettlementConfirmed,
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
from notify.templates import Value
from notify.wording import day, local_day, ref, when

Label = dict[str, str]  # by language
ALL_INDUSTRIES: Label = {"zh": "各行业", "en": "all industries"}
KINDS: dict[DisputeKind, Label] = {
    DisputeKind.WAGE_ARREARS: {"zh": "欠薪", "en": "wage arrears"},
    DisputeKind.NO_CONTRACT: {"zh": "未签劳动合同", "en": "no labour contract"},
    DisputeKind.DISMISSAL: {"zh": "违法解除劳动合同", "en": "unlawful dismissal"},
    DisputeKind.INJURY_COMPENSATION: {"zh": "工伤赔偿", "en": "work-injury compensation"},
    DisputeKind.SOCIAL_INSURANCE: {"zh": "社会保险", "en": "social insurance"},
    DisputeKind.OTHER: {"zh": "其他劳动争议", "en": "other labour dispute"},
}
STAGES: dict[CaseStage, Label] = {
    CaseStage.NEGOTIATION: {"zh": "协商", "en": "negotiation"},
    CaseStage.MEDIATION: {"zh": "调解", "en": "mediation"},
    CaseStage.ARBITRATION: {"zh": "仲裁", "en": "arbitration"},
    CaseStage.LITIGATION: {"zh": "诉讼", "en": "litigation"},
    CaseStage.LEGAL_AID: {"zh": "法律援助", "en": "legal aid"},
    CaseStage.ENFORCEMENT: {"zh": "执行", "en": "enforcement"},
}
OUTCOMES: dict[CaseOutcome, Label] = {
    CaseOutcome.SETTLED: {"zh": "达成和解/调解协议", "en": "settled by agreement"},
    CaseOutcome.WITHDRAWN: {"zh": "撤回", "en": "withdrawn"},
    CaseOutcome.AWARD: {"zh": "仲裁裁决", "en": "arbitration award"},
    CaseOutcome.JUDGMENT: {"zh": "判决", "en": "court judgment"},
    CaseOutcome.ENFORCED: {"zh": "执行完毕", "en": "enforced"},
}
DEADLINES: dict[str, Label] = {
    "stage": {"zh": "本阶段期限", "en": "the stage's deadline"},
    "limitation": {"zh": "申请仲裁时效", "en": "the limitation for arbitration"},
}
LETTERS: dict[LetterKind, Label] = {
    LetterKind.PROMPT: {"zh": "提示函", "en": "prompt letter"},
    LetterKind.OPINION: {"zh": "意见书", "en": "opinion letter"},
    LetterKind.SUGGESTION: {"zh": "建议书", "en": "suggestion letter"},
}
INDUSTRIES: dict[Industry, Label] = {
    Industry.EXPRESS_DELIVERY: {"zh": "快递", "en": "express delivery"},
    Industry.FOOD_DELIVERY: {"zh": "外卖", "en": "food delivery"},
    Industry.RIDE_HAILING: {"zh": "网约车", "en": "ride hailing"},
    Industry.FREIGHT: {"zh": "货运", "en": "freight"},
    Industry.DOMESTIC_SERVICE: {"zh": "家政", "en": "domestic service"},
    Industry.MANUFACTURING: {"zh": "制造业", "en": "manufacturing"},
    Industry.CONSTRUCTION: {"zh": "建筑业", "en": "construction"},
    Industry.RETAIL: {"zh": "零售业", "en": "retail"},
    Industry.HOSPITALITY: {"zh": "住宿餐饮业", "en": "hospitality"},
    Industry.HEALTHCARE: {"zh": "医疗卫生", "en": "healthcare"},
    Industry.EDUCATION: {"zh": "教育", "en": "education"},
    Industry.PUBLIC_SECTOR: {"zh": "公共部门", "en": "public sector"},
    Industry.OTHER: {"zh": "其他行业", "en": "other"},
}
SILENT = (LawyerAccepted, EmployerResponded, DisputeFiled, FilingOutcome)
"""Legal events nobody is told about: the worker heard of the lawyer at assignment; an employer's
response is recorded, not announced; partners read their filings' outcomes on their own topic."""


def claimants(case_id: object) -> str:
    """The workers of a labour-dispute case: the gateway asks legal for them and tells each."""
    return f"claimants:{case_id}"


def legal_notices(payload: Any) -> list[NoticeRequest] | None:
    """The notices a labour-dispute event calls for ([] for one nobody is told about); None if
    `payload` is not a legal event."""
    if isinstance(payload, SILENT):
        return []
    tell = TELL.get(type(payload))
    return None if tell is None else tell(payload)


def _opened(payload: LegalCaseOpened) -> list[NoticeRequest]:
    _, union_name = local_federation(payload.district_code)
    values: dict[str, Value] = {
        "case_ref": ref(payload.case_id),
        "union_name": union_name,
        "kind": KINDS[payload.kind],
    }
    return [NoticeRequest(claimants(payload.case_id), "legal_case_opened", values)]


def _assigned(payload: LawyerAssigned) -> list[NoticeRequest]:
    common: dict[str, Value] = {
        "case_ref": ref(payload.case_id),
        "station_name": payload.station_name,
    }
    to_lawyer = {**common, "accept_by": when(payload.accept_by)}
    told = [NoticeRequest(staff(payload.lawyer_id), "legal_assignment", to_lawyer)]
    if payload.attempt == 1:  # the workers hear of the lawyer once, not of every re-offer
        to_workers = {**common, "lawyer_name": payload.lawyer_name}
        told.append(NoticeRequest(claimants(payload.case_id), "legal_lawyer_assigned", to_workers))
    return told


def _unassigned(payload: CaseUnassigned) -> list[NoticeRequest]:
    template = "legal_unassigned_priority" if payload.priority else "legal_unassigned"
    values: dict[str, Value] = {"case_ref": ref(payload.case_id), "kind": KINDS[payload.kind]}
    return [NoticeRequest(union(payload.union_id), template, values)]


def _moved(payload: StageChanged) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "case_ref": ref(payload.case_id),
        "from_stage": STAGES[payload.from_stage],
        "to_stage": STAGES[payload.to_stage],
        "due_on": local_day(payload.due_at),
    }
    return [NoticeRequest(claimants(payload.case_id), "legal_stage_changed", values)]


def _extended(payload: StageExtended) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "case_ref": ref(payload.case_id),
        "stage": STAGES[payload.stage],
        "due_on": local_day(payload.due_at),
    }
    return [NoticeRequest(claimants(payload.case_id), "legal_stage_extended", values)]


def _confirmed(payload: SettlementConfirmed) -> list[NoticeRequest]:
    values: dict[str, Value] = {"case_ref": ref(payload.case_id)}
    return [NoticeRequest(claimants(payload.case_id), "legal_settlement_confirmed", values)]


def _deadline(payload: DeadlineNear | DeadlineMissed) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "case_ref": ref(payload.case_id),
        "stage": STAGES[payload.stage],
        "deadline": DEADLINES[payload.deadline],
        "due": when(payload.due_at),
    }
    if isinstance(payload, DeadlineNear):
        return [NoticeRequest(staff(payload.lawyer_id), "legal_deadline_near", values)]
    return [NoticeRequest(union(payload.union_id), "legal_deadline_missed", values)]


def _closed(payload: LegalCaseClosed) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "case_ref": ref(payload.case_id),
        "outcome": OUTCOMES[payload.outcome],
    }
    template = "legal_case_closed"
    if payload.amount is not None:
        values["amount"] = str(payload.amount)
        template = "legal_case_closed_amount"
    return [NoticeRequest(claimants(payload.case_id), template, values)]


def _early_warning(payload: EarlyWarningRaised) -> list[NoticeRequest]:
    return [NoticeRequest(union(payload.union_id), *_warning(payload))]


def _letter(payload: SupervisionLetterIssued) -> list[NoticeRequest]:
    values: dict[str, Value] = {
        "letter": LETTERS[payload.letter],
        "employer_name": payload.employer_name,
        "cases": str(payload.cases),
        "respond_by": day(payload.respond_by),
    }
    return [NoticeRequest(union(payload.union_id), "legal_supervision_letter", values)]


TELL: dict[type, Callable[[Any], list[NoticeRequest]]] = {
    LegalCaseOpened: _opened,
    LawyerAssigned: _assigned,
    CaseUnassigned: _unassigned,
    StageChanged: _moved,
    StageExtended: _extended,
    SettlementConfirmed: _confirmed,
    DeadlineNear: _deadline,
    DeadlineMissed: _deadline,
    LegalCaseClosed: _closed,
    EarlyWarningRaised: _early_warning,
    SupervisionLetterIssued: _letter,
}


def _warning(warning: EarlyWarningRaised) -> tuple[str, dict[str, Value]]:
    """Template and values of an early warning, by its kind."""
    values: dict[str, Value] = {
        "count": str(warning.count),
        "window_days": str(warning.window_days),
    }
    if warning.kind == "arrears_hotspot":
        industry = INDUSTRIES[warning.industry] if warning.industry else ALL_INDUSTRIES
        values |= {"district_name": region(warning.district_code).name, "industry": industry}
        return "legal_warning_arrears_hotspot", values
    values["employer_name"] = warning.employer_name or warning.employer_code or "某用人单位"
    if warning.kind == "employer_workers":
        return "legal_warning_employer_workers", values
    return "legal_warning_employer_filings", values
