"""Notice texts: Chinese first, English where a text or a locale has no Chinese version."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter

TEMPLATES: dict[str, dict[str, str]] = {
    "welcome": {
        "zh": "欢迎加入{union_name}！您的会员号为{member_ref}，可在粤工惠查看会员权益。",
        "en": "Welcome to {union_name}! Your member number is {member_ref}; see your benefits in the app.",
    },
    "coverage_gifted": {
        "zh": "您已获赠工会二次医保，保障期{period_start}至{period_end}，保费{premium}元由互助基金支付。",
        "en": "You have been gifted the union's supplementary medical cover from {period_start} "
        "to {period_end}; the premium of {premium} yuan is paid by the mutual-aid fund.",
    },
    "coverage_self_paid": {
        "zh": "您已参保工会二次医保，保障期{period_start}至{period_end}，保费{premium}元。",
        "en": "You are enrolled in the union's supplementary medical cover from {period_start} "
        "to {period_end}; premium {premium} yuan.",
    },
    "self_paid_offer": {
        "zh": "您可自费参加工会二次医保，保费{premium}元/年，在粤工惠“我的保障”中办理。",
        "en": "You can join the union's supplementary medical cover at your own cost: {premium} yuan "
        "a year, under 'My cover' in the app.",
    },
    "coverage_ended": {
        "zh": "您的工会二次医保已于{ended_on}到期终止。",
        "en": "Your union supplementary medical cover ended on {ended_on}.",
    },
    "injury_case_opened": {
        "zh": "您的工伤探视申请已受理（案件{case_ref}），{union_name}将安排探视员于{visit_due}前到医院看望您。",
        "en": "Your work-injury report is registered (case {case_ref}); {union_name} will send a "
        "visitor by {visit_due}.",
    },
    "injury_visitor_assigned": {
        "zh": "工会探视员{visitor_name}将于{visit_due}前到{hospital_name}看望您（案件{case_ref}）。",
        "en": "Union visitor {visitor_name} will see you at {hospital_name} by {visit_due} "
        "(case {case_ref}).",
    },
    "visit_assignment": {
        "zh": "新探视任务：案件{case_ref}，{hospital_name}。请于{accept_by}前接单，{visit_due}前完成探视。",
        "en": "New visit: case {case_ref} at {hospital_name}. Accept by {accept_by}; visit by "
        "{visit_due}.",
    },
    "visit_due_soon": {
        "zh": "提醒：案件{case_ref}须于{visit_due}前完成探视。",
        "en": "Reminder: case {case_ref} must be visited by {visit_due}.",
    },
    "visit_overdue": {
        "zh": "督办：工伤案件{case_ref}应于{visit_due}前探视，至今未完成，请即安排。",
        "en": "Escalation: injury case {case_ref} was due a visit by {visit_due} and has had none.",
    },
    "visit_unassigned": {
        "zh": "督办：工伤案件{case_ref}暂无在岗探视员可派，须于{visit_due}前探视，请即安排。",
        "en": "Escalation: no visitor on duty for injury case {case_ref}; it is due a visit by "
        "{visit_due}.",
    },
    "condolence_paid": {
        "zh": "工会工伤慰问金{amount}元已发放，祝您早日康复。",
        "en": "The union's condolence money of {amount} yuan has been paid. Get well soon.",
    },
    "follow_ups_scheduled": {
        "zh": "您已出院，工会将于{dates}回访您，如有困难可随时联系工会。",
        "en": "You are discharged; the union will call on you on {dates}.",
    },
    "follow_up_due": {
        "zh": "工会今天将对您进行第{sequence}次出院回访（案件{case_ref}）。",
        "en": "The union will call on you today: follow-up {sequence} of case {case_ref}.",
    },
    "follow_up_task": {
        "zh": "回访任务：案件{case_ref}第{sequence}次回访今天到期，请完成并记录。",
        "en": "Follow-up {sequence} of case {case_ref} is due today: please make and record it.",
    },
    "follow_up_escalated": {
        "zh": "督办：工伤案件{case_ref}第{sequence}次回访逾期未记录，请即安排。",
        "en": "Escalation: follow-up {sequence} of injury case {case_ref} was not recorded in time.",
    },
    "legal_referral": {
        "zh": "已为您转介工会法律援助，律师将联系您协助工伤赔偿事宜。",
        "en": "You have been referred to the union's legal aid; a lawyer will contact you about "
        "your compensation.",
    },
    "legal_case_opened": {
        "zh": "您的劳动争议求助已受理（案件{case_ref}，{kind}），{union_name}将安排工会律师为您提供法律服务。",
        "en": "Your labour-dispute request is registered (case {case_ref}, {kind}); {union_name} "
        "will arrange a union lawyer for you.",
    },
    "legal_assignment": {
        "zh": "新劳动争议案件：案件{case_ref}，{station_name}。请于{accept_by}前接案。",
        "en": "New labour-dispute case {case_ref} at {station_name}. Accept by {accept_by}.",
    },
    "legal_lawyer_assigned": {
        "zh": "{station_name}工会律师{lawyer_name}将与您联系，协助处理您的劳动争议（案件{case_ref}）。",
        "en": "Union lawyer {lawyer_name} of {station_name} will contact you about your labour "
        "dispute (case {case_ref}).",
    },
    "legal_unassigned": {
        "zh": "督办：劳动争议案件{case_ref}（{kind}）暂无工会律师可接，请即安排。",
        "en": "Escalation: no union lawyer is free for labour-dispute case {case_ref} ({kind}).",
    },
    "legal_unassigned_priority": {
        "zh": "督办：优先服务群体劳动争议案件{case_ref}（{kind}）暂无工会律师可接，请优先安排。",
        "en": "Escalation: no union lawyer is free for priority labour-dispute case {case_ref} "
        "({kind}); please see to it first.",
    },
    "legal_stage_changed": {
        "zh": "您的劳动争议案件{case_ref}已由{from_stage}阶段转入{to_stage}阶段，本阶段期限至{due_on}。",
        "en": "Your labour-dispute case {case_ref} has moved from {from_stage} to {to_stage}; "
        "this stage runs until {due_on}.",
    },
    "legal_stage_extended": {
        "zh": "您的劳动争议案件{case_ref}{stage}阶段期限已延长至{due_on}。",
        "en": "The {stage} stage of your labour-dispute case {case_ref} is extended to {due_on}.",
    },
    "legal_settlement_confirmed": {
        "zh": "您的劳动争议案件{case_ref}的调解协议已经法院司法确认，用人单位不履行的，可直接申请强制执行。",
        "en": "The court has confirmed the mediated agreement of your labour-dispute case "
        "{case_ref}: if the employer does not pay, it can be enforced at once.",
    },
    "legal_deadline_near": {
        "zh": "提醒：案件{case_ref}（{stage}阶段）{deadline}将于{due}届满，请及时处理。",
        "en": "Reminder: case {case_ref} ({stage}): {deadline} ends at {due}.",
    },
    "legal_deadline_missed": {
        "zh": "督办：劳动争议案件{case_ref}（{stage}阶段）{deadline}已于{due}届满，请即跟进。",
        "en": "Escalation: labour-dispute case {case_ref} ({stage}): {deadline} ran out at {due}.",
    },
    "legal_case_closed": {
        "zh": "您的劳动争议案件{case_ref}已结案：{outcome}。",
        "en": "Your labour-dispute case {case_ref} is closed: {outcome}.",
    },
    "legal_case_closed_amount": {
        "zh": "您的劳动争议案件{case_ref}已结案：{outcome}，涉及金额{amount}元。",
        "en": "Your labour-dispute case {case_ref} is closed: {outcome}, for {amount} yuan.",
    },
    "legal_warning_employer_filings": {
        "zh": "预警：{employer_name}近{window_days}天内有{count}宗劳动争议求助，请关注。",
        "en": "Early warning: {employer_name} has {count} labour-dispute filings in "
        "{window_days} days.",
    },
    "legal_warning_employer_workers": {
        "zh": "预警：{employer_name}近{window_days}天内的劳动争议涉及{count}名职工，请关注。",
        "en": "Early warning: labour disputes with {employer_name} involve {count} workers in "
        "{window_days} days.",
    },
    "legal_warning_arrears_hotspot": {
        "zh": "预警：{district_name}{industry}近{window_days}天内有{count}宗欠薪求助，请关注。",
        "en": "Early warning: {count} wage-arrears filings in {window_days} days in "
        "{district_name}, industry {industry}.",
    },
    "legal_supervision_letter": {
        "zh": "已就{employer_name}发出劳动法律监督{letter}，涉及案件{cases}宗，回复期限为{respond_by}。",
        "en": "A labour-law supervision {letter} was issued about {employer_name} ({cases} "
        "cases); the answer is due by {respond_by}.",
    },
    "claim_approved": {
        "zh": "您的住院医疗互助金已核准：{payout}元（理赔{claim_ref}），将发放到您的收款账户。",
        "en": "Your mutual-aid payout of {payout} yuan for a hospital stay is approved (claim "
        "{claim_ref}); it will be paid into your account.",
    },
    "claim_approved_changed": {
        "zh": "您的理赔{claim_ref}已重新核定：互助金{change}，合计{payout}元。",
        "en": "Your claim {claim_ref} is reassessed: {change}, {payout} yuan in all.",
    },
    "claim_approved_nothing_due": {
        "zh": "您的住院结算已核定（理赔{claim_ref}）：按互助保障规则，本次没有可支付的互助金。",
        "en": "Your hospital stay is assessed (claim {claim_ref}): under the cover's rules, "
        "nothing is due this time.",
    },
    "claim_under_review": {
        "zh": "您的理赔{claim_ref}需由工会工作人员审核，结果将另行通知；如需补充材料，工作人员会与您联系。",
        "en": "Your claim {claim_ref} is being reviewed by union staff; you will be told the "
        "result, and contacted if anything more is needed.",
    },
    "claim_review_task": {
        "zh": "待审核：{origin}互助理赔{claim_ref}需人工审核，原因：{reasons}。",
        "en": "To review: mutual-aid claim {claim_ref} ({origin}) needs a decision: {reasons}.",
    },
    "claim_rejected": {
        "zh": "您的理赔{claim_ref}未获通过，原因：{reason}。如有疑问，请联系所在工会。",
        "en": "Your claim {claim_ref} was not approved: {reason}. Ask your union if anything is "
        "unclear.",
    },
    "claim_reversed": {
        "zh": "医保部门已撤销（冲正）理赔{claim_ref}对应的住院结算，该理赔随之撤销。",
        "en": "The medical-insurance bureau cancelled the hospital settlement of claim "
        "{claim_ref}; the claim is cancelled with it.",
    },
    "claim_paid": {
        "zh": "理赔{claim_ref}的互助金{amount}元已到账，请查收。",
        "en": "The payout of {amount} yuan for claim {claim_ref} has reached your account.",
    },
    "claim_condolence_paid": {
        "zh": "工会慰问金{amount}元已到账，请查收（理赔{claim_ref}）。",
        "en": "The union's condolence money of {amount} yuan has reached your account (claim "
        "{claim_ref}).",
    },
    "claim_payment_failed": {
        "zh": "支付失败：理赔{claim_ref}的付款{payment_ref}（{amount}元）已尝试{attempts}次仍未成功（{reason}），请核查处理。",
        "en": "Payment failed: payment {payment_ref} of {amount} yuan for claim {claim_ref} was "
        "refused {attempts} times ({reason}); please see to it.",
    },
    "claim_clawed_back": {
        "zh": "因医保结算更正或撤销，理赔{claim_ref}多付的互助金{amount}元须退回互助基金，工会工作人员将与您联系办理。",
        "en": "The hospital settlement was corrected or cancelled: {amount} yuan overpaid on claim "
        "{claim_ref} is owed back to the mutual-aid fund; union staff will contact you about it.",
    },
    "illness_condolence_paid": {
        "zh": "得知您身患重病，工会向您致以诚挚慰问，重大疾病慰问金{amount}元已批准发放，祝您早日康复。",
        "en": "The union is sorry to hear of your serious illness: condolence money of {amount} "
        "yuan is granted. Get well soon.",
    },
    "relief_case_opened": {
        "zh": "您{policy_year}年度扣除互助金后自付的医疗费用已达{out_of_pocket}元，超过困难救助标准，{union_name}将与您联系办理困难救助。",
        "en": "Your own medical costs in {policy_year}, after the union's payouts, have reached "
        "{out_of_pocket} yuan, past the hardship line: {union_name} will contact you about relief.",
    },
    "relief_case_task": {
        "zh": "困难救助待办：会员{member_ref}{policy_year}年度扣除互助金后的医疗自付费用已超过救助标准（救助{relief_ref}），请核实并决定是否救助。",
        "en": "Relief to decide: the own medical costs of member {member_ref} in {policy_year}, "
        "after payouts, passed the hardship line (relief {relief_ref}); please check and decide.",
    },
    "seat_confirmed": {
        "zh": "报名成功：{course_title}，{starts_at}在{campus}上课（座位{seat_ref}）。如不能参加请提前取消，把名额留给其他职工。",
        "en": "Your seat is booked: {course_title}, {starts_at} at {campus} (seat {seat_ref}). "
        "If you cannot come, cancel early so another worker can have it.",
    },
    "seat_offered": {
        "zh": "{course_title}（{starts_at}，{campus}）有一个座位留给您，请于{offer_until}前确认，逾期将让给下一位。",
        "en": "A seat is free for you: {course_title} ({starts_at}, {campus}). Confirm by "
        "{offer_until} or it passes to the next on the waitlist.",
    },
    "seat_offer_lapsed": {
        "zh": "您未在期限内确认{course_title}的候补名额，名额已让给下一位职工。",
        "en": "You did not confirm the seat offered on {course_title} in time: it passed to the "
        "next worker.",
    },
    "seat_hold_expired": {
        "zh": "您预留的课程座位未在期限内确认，已自动释放。",
        "en": "The course seat held for you was not confirmed in time and has been released.",
    },
    "session_cancelled": {
        "zh": "抱歉，{course_title}（{starts_at}）已取消，您的报名同时取消。",
        "en": "Sorry: {course_title} ({starts_at}) is cancelled, and your booking with it.",
    },
    "session_sold_out": {
        "zh": "课程满员：{course_title}的{capacity}个名额开放{minutes}分钟内已约满（场次{session_ref}），可考虑加开班次。",
        "en": "Sold out: all {capacity} seats of {course_title} went within {minutes} minutes "
        "of opening (session {session_ref}); consider another class.",
    },
    "degree_aid_not_passed": {
        "zh": "很抱歉，您的求学圆梦助学申请未通过初审：{reason}。",
        "en": "Sorry: your degree-aid application did not pass screening: {reason}.",
    },
    "degree_aid_granted": {
        "zh": "恭喜！您在{cycle_name}中排名第{rank}位，获得助学金{amount}元。如放弃请尽早告知，名额将顺延给下一位。",
        "en": "Congratulations: ranked {rank} in {cycle_name}, you are granted {amount} yuan of "
        "degree aid. If you decline, say so early: the grant passes to the next in line.",
    },
    "degree_aid_paid": {
        "zh": "您的求学圆梦助学金{amount}元已发放，祝学业有成。",
        "en": "Your degree aid of {amount} yuan has been paid. Good luck with your studies.",
    },
    "craftsman_nominated": {
        "zh": "您已被推荐参评{year}年度{tier}，请留意工会后续通知。",
        "en": "You are nominated for {tier} of {year}; your union will be in touch.",
    },
    "craftsman_candidate": {
        "zh": "祝贺！您已入选{year}年度{tier}培育对象。",
        "en": "Congratulations: you are selected as a {tier} candidate of {year}.",
    },
    "craftsman_title": {
        "zh": "祝贺您获得“{tier}”称号（{reference}）！",
        "en": "Congratulations on the title of {tier} ({reference})!",
    },
    "ladder_quota_exhausted": {
        "zh": "{year}年度{tier}培育对象名额（{quota}名）已全部选定，新的推荐将无法入选。",
        "en": "All {quota} places for {tier} candidates of {year} are taken: further nominees "
        "cannot be selected.",
    },
    "competition_medal": {
        "zh": "祝贺您在{title}中荣获{medal}！",
        "en": "Congratulations on your {medal} medal in {title}!",
    },
    "award_recommendation": {
        "zh": "{title}第一名“{entrant}”推荐参评{award}，请按程序办理。",
        "en": "{entrant}, winner of {title}, is recommended for the {award}: please take it "
        "forward.",
    },
}

FALLBACK_LOCALE = "en"
Value = (
    str | Mapping[str, str]
)  # a text, or a label by language ({"zh": "调解", "en": "mediation"})


def fields(text: str) -> frozenset[str]:
    """The values a text needs."""
    return frozenset(name for _, name, _, _ in Formatter().parse(text) if name)


def render(template: str, locale: str, values: Mapping[str, Value]) -> tuple[str, str]:
    """The text of `template` in `locale`, else in English; returns (locale used, text). A value
    given by language (a label: a stage, a kind) is put in the text's language."""
    texts = TEMPLATES[template]
    used = locale if locale in texts else FALLBACK_LOCALE
    words = {
        name: value if isinstance(value, str) else value.get(used, value[FALLBACK_LOCALE])
        for name, value in values.items()
    }
    return used, texts[used].format(**words)
