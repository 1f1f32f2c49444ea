"""The legal-service stations and their union lawyers, shipped as sample data; settings may point
at another file of the same shape."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from gonghui_contracts.values import DisputeKind, region
from legal.rules.matching import LawyerProfile, Station

REGISTRY_FILE = "legal_stations.json"


def load(path: Path | None = None) -> tuple[dict[str, Station], list[LawyerProfile]]:
    """Stations by id, and every lawyer; raises ValueError on an unknown district or station."""
    if path is not None:
        text = path.read_text("utf-8")
    else:
        text = resources.files("legal.data").joinpath(REGISTRY_FILE).read_text("utf-8")
    data = json.loads(text)
    stations = {}
    for row in data["stations"]:
        region(row["district_code"])  # raises for a code that is not Guangdong's
        stations[row["station_id"]] = Station(
            station_id=row["station_id"],
            name=row["name"],
            district_code=row["district_code"],
            new_form=bool(row.get("new_form", False)),
        )
    lawyers = []
    for row in data["lawyers"]:
        station = stations.get(row["station_id"])
        if station is None:
            raise ValueError(f"lawyer {row['lawyer_id']}: no station {row['station_id']}")
        lawyers.append(
            LawyerProfile(
                lawyer_id=row["lawyer_id"],
                name=row["name"],
                station=station,
                specialties=frozenset(DisputeKind(k) for k in row["specialties"]),
                capacity=int(row["capacity"]),
                acts_for=frozenset(row.get("acts_for", [])),
            )
        )
    return stations, lawyers
