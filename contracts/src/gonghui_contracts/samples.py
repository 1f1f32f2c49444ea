"""Valid sample values for tests, demos and benchmarks: resident IDs, phones, names, employers.

Deterministic for a seeded `random.Random`; never real people. (Partners' integrators can use
them to build test messages as well.)
"""

from __future__ import annotations

import random
from datetime import date

from gonghui_contracts.values import credit_code, resident_id

HOME_AREAS = [
    "4401",
    "4403",
    "4405",
    "4414",
    "4508",
    "4305",
    "3607",
    "5101",
    "4113",
    "4210",
    "3509",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华"
ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id_born(rng: random.Random, born: date, area: str | None = None) -> str:
    county = area or f"{rng.choice(HOME_AREAS)}{rng.randint(1, 30):02d}"
    first17 = f"{county}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + resident_id.check_character(first17)


def adult_resident_id(rng: random.Random, today: date | None = None) -> str:
    year = (today or date.today()).year
    born = date(rng.randint(year - 60, year - 18), rng.randint(1, 12), rng.randint(1, 28))
    return resident_id_born(rng, born)


def mobile_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))


def employer_credit_code(rng: random.Random, area: str = "440300") -> str:
    """A company's code (91 = enterprise registered with market regulation) in `area`."""
    first17 = "91" + area + "".join(rng.choices(ORG_CHARS, k=9))
    return first17 + credit_code.check_character(first17)
