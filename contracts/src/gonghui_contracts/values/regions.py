"""GB/T 2260 administrative division codes of Guangdong, shipped as data.

A region code names either a prefecture-level city (4401xx → 440100) or one of its county-level
divisions. Dongguan (441900) and Zhongshan (442000) have no county level: the city code is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated

from pydantic import AfterValidator, Field


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    city_code: str
    city_name: str

    @property
    def is_city(self) -> bool:
        return self.code == self.city_code


@cache
def guangdong_regions() -> dict[str, Region]:
    raw = json.loads(
        resources.files("gonghui_contracts.data")
        .joinpath("gb2260_guangdong.json")
        .read_text("utf-8")
    )
    regions: dict[str, Region] = {}
    for city in raw["cities"]:
        regions[city["code"]] = Region(city["code"], city["name"], city["code"], city["name"])
        for code, name in city["counties"].items():
            regions[code] = Region(code, name, city["code"], city["name"])
    return regions


def region(code: str) -> Region:
    """The region for a known code; KeyError otherwise."""
    return guangdong_regions()[code]


def local_federation(code: str) -> tuple[str, str]:
    """Id and name of the union federation of a place (属地工会): its county's, or the city's
    where the city has no county level."""
    place = region(code)
    return f"{place.code}-county", f"{place.name}总工会"


def validate_region_code(value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise ValueError("must be a 6-digit GB/T 2260 code")
    if not value.startswith("44"):
        raise ValueError("must be a Guangdong code (44xxxx)")
    if value not in guangdong_regions():
        raise ValueError("is not a Guangdong city or county code in GB/T 2260")
    return value


RegionCode = Annotated[
    str,
    Field(
        min_length=6,
        max_length=6,
        pattern=r"^44[0-9]{4}$",
        description="GB/T 2260 code of a Guangdong city or county-level division",
        examples=["440106", "441900"],
    ),
    AfterValidator(validate_region_code),
]
