"""Enumerations shared by the events: industries, channels, partner kinds, services."""

from __future__ import annotations

from enum import StrEnum


class Industry(StrEnum):
    EXPRESS_DELIVERY = "express_delivery"  # 快递
    FOOD_DELIVERY = "food_delivery"  # 外卖
    RIDE_HAILING = "ride_hailing"  # 网约车
    FREIGHT = "freight"  # 货运 (Huolala, 满帮)
    DOMESTIC_SERVICE = "domestic_service"  # 家政
    MANUFACTURING = "manufacturing"
    CONSTRUCTION = "construction"
    RETAIL = "retail"
    HOSPITALITY = "hospitality"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    PUBLIC_SECTOR = "public_sector"
    OTHER = "other"


NEW_EMPLOYMENT_FORM_INDUSTRIES = frozenset(
    {Industry.EXPRESS_DELIVERY, Industry.FOOD_DELIVERY, Industry.RIDE_HAILING, Industry.FREIGHT}
)
"""Platform work whose workers are 新就业形态劳动者 (new-employment-form workers)."""


class JoinChannel(StrEnum):
    APP = "app"  # 粤工惠 and city apps
    COUNTY_QR = "county_qr"  # 一县一码
    PARTNER_BATCH = "partner_batch"  # a platform company's or federation's batch
    WORKER_STATION = "worker_station"  # 驿站


class PartnerKind(StrEnum):
    """Outside organisations that publish to the platform's partner topics."""

    PLATFORM_UNION = "platform_union"  # union of a platform company or its contractors
    INDUSTRY_FEDERATION = "industry_federation"  # 行业工联会
    HOSPITAL = "hospital"  # designated work-injury hospital
    HOTLINE_12351 = "hotline_12351"
    COURT = "court"
    ARBITRATION = "arbitration"  # labour dispute arbitration commission
    MEDICAL_INSURANCE = "medical_insurance"  # medical-insurance bureau (医保局)
    APP_GATEWAY = "app_gateway"  # a workers' app that signs its members in (深i工, 粤工惠)


class Service(StrEnum):
    """The platform's own services: the internal producers."""

    MEMBERSHIP = "membership"
    AID = "aid"
    LEGAL = "legal"
    SKILLS = "skills"
    NOTIFY = "notify"


class InjuryKind(StrEnum):
    FRACTURE = "fracture"
    LACERATION = "laceration"
    CRUSH = "crush"
    BURN = "burn"
    AMPUTATION = "amputation"
    HEAD_INJURY = "head_injury"
    SPRAIN = "sprain"
    POISONING = "poisoning"
    TRAFFIC = "traffic"  # on the road at work or on the way (上下班途中)
    OTHER = "other"


class Severity(StrEnum):
    """As the hospital grades it at admission."""

    MINOR = "minor"
    SERIOUS = "serious"
    CRITICAL = "critical"
    FATAL = "fatal"


class Admission(StrEnum):
    ADMITTED = "admitted"  # 住院
    OUTPATIENT = "outpatient"  # 门诊


class DiagnosisCategory(StrEnum):
    """The medical-insurance bureau's grouping of a hospital stay's main diagnosis."""

    GENERAL = "general"
    CHRONIC = "chronic"  # 门特慢病
    SERIOUS_ILLNESS = "serious_illness"  # 重大疾病 (cancer, dialysis, transplant, ...)
    MATERNITY = "maternity"
    INJURY = "injury"


class CompensationProblem(StrEnum):
    """Why a worker may not get work-injury compensation without legal help."""

    NO_INJURY_INSURANCE = "no_injury_insurance"  # employer did not insure (未参加工伤保险)
    EMPLOYER_REFUSES = "employer_refuses"  # employer refuses to apply or to pay
    FINDING_DISPUTE = "finding_dispute"  # dispute about the injury finding (工伤认定)


class DisputeKind(StrEnum):
    WAGE_ARREARS = "wage_arrears"  # 欠薪
    NO_CONTRACT = "no_contract"  # 未签劳动合同
    DISMISSAL = "dismissal"  # 违法解除
    INJURY_COMPENSATION = "injury_compensation"  # 工伤赔偿
    SOCIAL_INSURANCE = "social_insurance"  # 社保
    OTHER = "other"


class PriorityGroup(StrEnum):
    """Workers served first (优先服务群体)."""

    NEW_EMPLOYMENT_FORM = "new_employment_form"  # 新就业形态劳动者
    MIGRANT = "migrant"  # 农民工
    HARDSHIP = "hardship"  # 困难职工
    WOMEN = "women"  # 女职工


class FilingChannel(StrEnum):
    """Where a dispute came to the union from."""

    HOTLINE_12351 = "hotline_12351"  # a 12351 work order (工单)
    COURT = "court"  # court-linked mediation (诉调对接)
    ARBITRATION = "arbitration"  # referred by the arbitration commission
    WALK_IN = "walk_in"  # at a legal-service station
    INJURY_REFERRAL = "injury_referral"  # from a work-injury visit


class CaseStage(StrEnum):
    """The dispute chain 商调裁诉援执, in order."""

    NEGOTIATION = "negotiation"  # 商
    MEDIATION = "mediation"  # 调
    ARBITRATION = "arbitration"  # 裁
    LITIGATION = "litigation"  # 诉
    LEGAL_AID = "legal_aid"  # 援
    ENFORCEMENT = "enforcement"  # 执


class CaseOutcome(StrEnum):
    SETTLED = "settled"  # agreement (和解/调解协议), with an amount
    WITHDRAWN = "withdrawn"
    AWARD = "award"  # arbitration award (裁决)
    JUDGMENT = "judgment"  # court judgment (判决)
    ENFORCED = "enforced"  # paid under enforcement (执行完毕)


class LetterKind(StrEnum):
    """Labour-law supervision 一函两书, in the order they are sent."""

    PROMPT = "prompt"  # 提示函
    OPINION = "opinion"  # 意见书
    SUGGESTION = "suggestion"  # 建议书, to the authorities


class EmployerResponse(StrEnum):
    RECTIFIED = "rectified"  # 已整改
    EXPLAINED = "explained"  # explained, rectification under way
    REFUSED = "refused"
