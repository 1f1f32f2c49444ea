import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from gonghui_contracts import EventPayload, samples
from gonghui_contracts.events import (
    CaseUnassigned,
    Claimant,
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
    MemberLeft,
    SettlementConfirmed,
    StageChanged,
    StageExtended,
    SupervisionLetterIssued,
)
from gonghui_contracts.events.injury import Employer
from gonghui_contracts.topics import TOPICS
from gonghui_contracts.values import CaseOutcome, CaseStage, DisputeKind, Industry, LetterKind
from notify import domain, handlers, legal, templates

CASE = uuid.uuid4()
DUE = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)  # 10:30 in Shenzhen
LATE = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)  # already 1 January in Shenzhen
WORKERS, LAWYER, UNION = f"claimants:{CASE}", "staff:sz-l-03", "union:440306-county"
EMPLOYER_CODE = samples.employer_credit_code(random.Random(7))


def assigned(attempt: int) -> LawyerAssigned:
    return LawyerAssigned(
        case_id=CASE,
        lawyer_id="sz-l-03",
        lawyer_name="周律师",
        station_id="sz-s-01",
        station_name="宝安区职工法律服务站",
        attempt=attempt,
        replaces_lawyer_id=None if attempt == 1 else "sz-l-01",
        accept_by=DUE,
    )


def opened() -> LegalCaseOpened:
    return LegalCaseOpened(
        case_id=CASE,
        channel="hotline_12351",
        filing_ref="12351-0001",
        district_code="440306",
        union_id="440306-county",
        kind="wage_arrears",
        industry="construction",
        employer_code=EMPLOYER_CODE,
        workers=12,
        claimed=Decimal("86000.00"),
        priority_groups=["migrant"],
        group_dispute=True,
        stage="negotiation",
        stage_due_at=DUE,
        limitation_ends_on=date(2027, 10, 31),
        opened_at=DUE,
    )


def unassigned(priority: bool) -> CaseUnassigned:
    return CaseUnassigned(
        case_id=CASE,
        union_id="440306-county",
        district_code="440306",
        kind="dismissal",
        priority=priority,
    )


def deadline_near(deadline: str) -> DeadlineNear:
    return DeadlineNear(
        case_id=CASE, deadline=deadline, stage="arbitration", lawyer_id="sz-l-03", due_at=DUE
    )


def deadline_missed(deadline: str) -> DeadlineMissed:
    return DeadlineMissed(
        case_id=CASE,
        deadline=deadline,
        stage="mediation",
        union_id="440306-county",
        district_code="440306",
        lawyer_id="sz-l-03",
        due_at=DUE,
    )


def closed(outcome: str, amount: Decimal | None) -> LegalCaseClosed:
    return LegalCaseClosed(
        case_id=CASE,
        stage="mediation",
        outcome=outcome,
        amount=amount,
        workers=12,
        workers_accepting=12 if outcome == "settled" else None,
        by="sz-l-03",
        reason="调解协议已签",
        union_id="440306-county",
        district_code="440306",
        closed_at=DUE,
    )


def warning(kind: str, **about: str) -> EarlyWarningRaised:
    return EarlyWarningRaised(
        warning_id=uuid.uuid4(),
        kind=kind,
        union_id="440306-county",
        district_code="440306",
        count=6,
        threshold=5,
        window_days=30,
        raised_at=DUE,
        **about,
    )


def letter() -> SupervisionLetterIssued:
    return SupervisionLetterIssued(
        letter_id=uuid.uuid4(),
        letter="opinion",
        employer_code=EMPLOYER_CODE,
        employer_name="深圳市宏达建筑劳务有限公司",
        union_id="440306-county",
        district_code="440306",
        cases=4,
        respond_by=date(2026, 12, 15),
    )


EMPLOYER = {"employer_code": EMPLOYER_CODE, "employer_name": "深圳市宏达建筑劳务有限公司"}

CASES: list[tuple[EventPayload, list[tuple[str, str]]]] = [
    (opened(), [(WORKERS, "legal_case_opened")]),
    (assigned(1), [(LAWYER, "legal_assignment"), (WORKERS, "legal_lawyer_assigned")]),
    (assigned(2), [(LAWYER, "legal_assignment")]),
    (
        LawyerAccepted(case_id=CASE, lawyer_id="sz-l-03", station_id="sz-s-01", accepted_at=DUE),
        [],
    ),
    (unassigned(priority=False), [(UNION, "legal_unassigned")]),
    (unassigned(priority=True), [(UNION, "legal_unassigned_priority")]),
    (
        StageChanged(
            case_id=CASE,
            from_stage="mediation",
            to_stage="arbitration",
            by="sz-l-03",
            reason="调解不成",
            due_at=DUE,
        ),
        [(WORKERS, "legal_stage_changed")],
    ),
    (
        StageExtended(case_id=CASE, stage="arbitration", due_at=DUE, by="arb", reason="案情复杂"),
        [(WORKERS, "legal_stage_extended")],
    ),
    (
        SettlementConfirmed(case_id=CASE, by="sz-l-03", reason="法院确认", confirmed_at=DUE),
        [(WORKERS, "legal_settlement_confirmed")],
    ),
    (deadline_near("stage"), [(LAWYER, "legal_deadline_near")]),
    (deadline_near("limitation"), [(LAWYER, "legal_deadline_near")]),
    (deadline_missed("stage"), [(UNION, "legal_deadline_missed")]),
    (deadline_missed("limitation"), [(UNION, "legal_deadline_missed")]),
    (closed("settled", Decimal("86000.00")), [(WORKERS, "legal_case_closed_amount")]),
    (closed("withdrawn", None), [(WORKERS, "legal_case_closed")]),
    (warning("employer_filings", **EMPLOYER), [(UNION, "legal_warning_employer_filings")]),
    (warning("employer_workers", **EMPLOYER), [(UNION, "legal_warning_employer_workers")]),
    (
        warning("arrears_hotspot", industry="construction"),
        [(UNION, "legal_warning_arrears_hotspot")],
    ),
    (letter(), [(UNION, "legal_supervision_letter")]),
    (
        EmployerResponded(
            letter_id=uuid.uuid4(),
            letter="prompt",
            employer_code=EMPLOYER_CODE,
            response="rectified",
            recorded_by="sz-u-02",
        ),
        [],
    ),
]


@pytest.mark.parametrize(("payload", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_each_legal_event_tells_the_right_people(
    payload: EventPayload, expected: list[tuple[str, str]]
) -> None:
    requests = domain.notices_for(payload)
    assert [(r.recipient, r.template) for r in requests] == expected
    for request in requests:  # every value the template needs is there, in both languages
        for locale in ("zh", "en"):
            used, _ = templates.render(request.template, locale, request.values)
            assert used == locale


def zh(payload: EventPayload) -> list[str]:
    return [templates.render(r.template, "zh", r.values)[1] for r in domain.notices_for(payload)]


def en(payload: EventPayload) -> list[str]:
    return [templates.render(r.template, "en", r.values)[1] for r in domain.notices_for(payload)]


def test_english_texts_name_kinds_stages_and_outcomes_in_english() -> None:
    [text] = en(opened())
    assert "wage arrears" in text
    [text] = en(CASES[6][0])  # a stage change
    assert "from mediation to arbitration" in text
    assert "the limitation for arbitration" in en(deadline_near("limitation"))[0]
    tables = (legal.KINDS, legal.STAGES, legal.OUTCOMES, legal.LETTERS, legal.INDUSTRIES)
    chinese = {label["zh"] for table in tables for label in table.values()}
    chinese |= {label["zh"] for label in legal.DEADLINES.values()}
    for payload, _ in CASES:
        for text in en(payload):
            assert not [word for word in chinese if word in text], text
            assert "月" not in text, text  # days and times said the English way


def test_legal_events_are_legals_and_others_are_not() -> None:
    assert legal.legal_notices(assigned(1)) is not None
    lawyer_accepted = CASES[3][0]
    assert legal.legal_notices(lawyer_accepted) == []  # a legal event nobody is told about
    left = MemberLeft(member_id=uuid.uuid4(), union_id="u", reason="r", left_on=date(2024, 1, 1))
    assert legal.legal_notices(left) is None


def test_the_workers_hear_of_the_lawyer_once_with_names_and_shenzhen_times() -> None:
    [to_lawyer, to_workers] = domain.notices_for(assigned(1))
    _, text = templates.render(to_workers.template, "zh", to_workers.values)
    assert "周律师" in text
    assert "宝安区职工法律服务站" in text
    _, text = templates.render(to_lawyer.template, "zh", to_lawyer.values)
    assert "11月28日10:30" in text
    assert str(CASE)[:8] in text
    for attempt in (2, 3):
        assert all(r.recipient != WORKERS for r in domain.notices_for(assigned(attempt)))


def test_texts_say_the_case_in_chinese() -> None:
    [text] = zh(opened())
    assert "宝安区总工会" in text
    assert "欠薪" in text
    assert str(CASE)[:8] in text
    stage_changed = CASES[6][0]
    [text] = zh(stage_changed)
    assert "由调解阶段转入仲裁阶段" in text
    assert "11月28日" in text
    [text] = zh(StageExtended(case_id=CASE, stage="arbitration", due_at=LATE, by="a", reason="r"))
    assert "延长至1月1日" in text  # the day in Shenzhen, not in UTC
    assert "本阶段期限" in zh(deadline_near("stage"))[0]
    assert "申请仲裁时效" in zh(deadline_near("limitation"))[0]
    assert "本阶段期限" in zh(deadline_missed("stage"))[0]
    assert "申请仲裁时效" in zh(deadline_missed("limitation"))[0]
    assert "优先" in zh(unassigned(priority=True))[0]
    assert "优先" not in zh(unassigned(priority=False))[0]


def test_a_closed_case_tells_its_outcome_and_the_amount_if_any() -> None:
    [text] = zh(closed("settled", Decimal("86000.00")))
    assert "达成和解/调解协议" in text
    assert "86000.00元" in text
    [text] = zh(closed("award", None))
    assert "仲裁裁决" in text
    assert "元" not in text


def test_warnings_and_letters_name_the_employer_or_the_hot_spot() -> None:
    [text] = zh(warning("employer_filings", **EMPLOYER))
    assert "深圳市宏达建筑劳务有限公司近30天内有6宗" in text
    assert "6名职工" in zh(warning("employer_workers", **EMPLOYER))[0]
    [text] = zh(warning("arrears_hotspot", industry="construction"))
    assert "宝安区建筑业" in text
    assert "6宗欠薪" in text
    [text] = zh(letter())
    assert "意见书" in text
    assert "深圳市宏达建筑劳务有限公司" in text
    assert "4宗" in text
    assert "12月15日" in text


def test_every_value_of_a_label_has_its_chinese() -> None:
    assert set(legal.KINDS) == set(DisputeKind)
    assert set(legal.STAGES) == set(CaseStage)
    assert set(legal.OUTCOMES) == set(CaseOutcome)
    assert set(legal.LETTERS) == set(LetterKind)
    assert set(legal.INDUSTRIES) == set(Industry)


def test_notify_subscribes_to_every_topic_carrying_an_event_it_tells_of() -> None:
    carried_by = {kind: spec.name for spec in TOPICS for kind in spec.carries}
    told_of = {type(payload) for payload, expected in CASES if expected}
    assert {carried_by[kind] for kind in told_of} <= set(handlers.TOPICS_READ)


def test_no_notice_of_a_legal_event_carries_a_workers_personal_data() -> None:
    rng = random.Random(20261128)
    workers = [
        Claimant(
            name=samples.person_name(rng),
            resident_id=samples.adult_resident_id(rng, date(2026, 11, 28)),
            phone=samples.mobile_phone(rng),
            claimed=Decimal("7200.00"),
        )
        for _ in range(12)
    ]
    filed = DisputeFiled(
        employer=Employer(credit_code=EMPLOYER_CODE, name="深圳市宏达建筑劳务有限公司"),
        industry="construction",
        district_code="440306",
        kind="wage_arrears",
        arose_on=date(2026, 10, 31),
        workers=workers,
        channel="hotline_12351",
        filing_ref="12351-2026-000123",
    )
    outcome = FilingOutcome(
        channel="hotline_12351", filing_ref="12351-2026-000123", outcome="opened"
    )
    events = [filed, outcome, *(payload for payload, _ in CASES)]
    told = [
        (request.recipient, text)
        for payload in events
        for request in domain.notices_for(payload)
        for text in (
            *request.values.values(),
            *(
                templates.render(request.template, locale, request.values)[1]
                for locale in ("zh", "en")
            ),
        )
    ]
    assert told
    secrets = [str(w.resident_id) for w in workers] + [str(w.phone) for w in workers]
    secrets += [w.name for w in workers]
    for recipient, text in told:
        for secret in secrets:
            assert secret not in text
            assert secret not in recipient
