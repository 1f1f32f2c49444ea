"""Notice texts: Chinese first, English where a text or a locale has no Chinese version."""

from __future__ import annotations

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
}

FALLBACK_LOCALE = "en"


def fields(text: str) -> frozenset[str]:
    """The values a text needs."""
    return frozenset(name for _, name, _, _ in Formatter().parse(text) if name)


def render(template: str, locale: str, values: dict[str, str]) -> tuple[str, str]:
    """The text of `template` in `locale`, else in English; returns (locale used, text)."""
    texts = TEMPLATES[template]
    used = locale if locale in texts else FALLBACK_LOCALE
    return used, texts[used].format(**values)
