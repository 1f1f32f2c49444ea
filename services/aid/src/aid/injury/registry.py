"""The designated work-injury hospitals and the visitor roster, shipped as data.

Settings may point at other files of the same shape (another city, an updated list).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aid.injury.rules import Hospital
from gonghui_contracts.values import region

HOSPITALS_FILE = "shenzhen_injury_hospitals.json"
VISITORS_FILE = "shenzhen_injury_visitors.json"


@dataclass(frozen=True)
class RosterEntry:
    visitor_id: str
    name: str
    station_hospital_id: str


def _read(path: Path | None, packaged: str) -> dict[str, object]:
    if path is not None:
        text = path.read_text("utf-8")
    else:
        text = resources.files("aid.data").joinpath(packaged).read_text("utf-8")
    loaded: dict[str, object] = json.loads(text)
    return loaded


def load_hospitals(path: Path | None = None) -> dict[str, Hospital]:
    hospitals = {}
    for row in _read(path, HOSPITALS_FILE)["hospitals"]:  # type: ignore[attr-defined]
        hospital = Hospital(
            hospital_id=row["hospital_id"],
            name=row["name"],
            district_code=row["district_code"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
        )
        region(hospital.district_code)  # a KeyError names a district outside GB/T 2260
        hospitals[hospital.hospital_id] = hospital
    return hospitals


def load_roster(hospitals: dict[str, Hospital], path: Path | None = None) -> list[RosterEntry]:
    roster = [
        RosterEntry(row["visitor_id"], row["name"], row["station_hospital_id"])
        for row in _read(path, VISITORS_FILE)["visitors"]  # type: ignore[attr-defined]
    ]
    unknown = [v.visitor_id for v in roster if v.station_hospital_id not in hospitals]
    if unknown:
        raise ValueError(f"visitors stationed at hospitals not in the registry: {unknown}")
    return roster
