"""The lawyers a batch of new cases is shared out among: read once, their rows locked (in lawyer
order, so that two replicas' batches take turns rather than deadlock), each taking counted here,
and written back at the end with one conditional update per lawyer. With the rows locked the
counts are exact, so no lawyer is ever given more open cases than their capacity."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select, update

from legal.models import Lawyer
from servicekit import Unit

PROFILE_COLUMNS = (  # what a lawyer's profile is made from
    Lawyer.lawyer_id,
    Lawyer.name,
    Lawyer.station_id,
    Lawyer.specialties,
    Lawyer.capacity,
    Lawyer.acts_for,
)
COLUMNS = (Lawyer.open_cases, Lawyer.district_code, *PROFILE_COLUMNS)


class LawyerPool:
    def __init__(self) -> None:
        self._rows: dict[str, tuple[Any, ...]] | None = None  # by lawyer id: COLUMNS
        self.taken: Counter[str] = Counter()

    async def free(
        self, unit: Unit, district_code: str, whole_city: bool
    ) -> list[tuple[int, tuple[Any, ...]]]:
        """Lawyers on duty of the district (or of its city: a city's districts share their first
        four digits) with room for a case: their open cases, batch included, and their profile
        row (lawyer id, name, station, specialties, capacity, acts for)."""
        rows = await self._locked(unit)
        free = []
        for open_cases, district, *profile in rows.values():
            if (district[:4] == district_code[:4]) if whole_city else district == district_code:
                now_open = open_cases + self.taken[profile[0]]
                if now_open < profile[4]:
                    free.append((now_open, tuple(profile)))
        return free

    def take(self, lawyer_id: str) -> bool:
        assert self._rows is not None
        open_cases, *_, capacity, _acts_for = self._rows[lawyer_id]
        if open_cases + self.taken[lawyer_id] >= capacity:
            return False
        self.taken[lawyer_id] += 1
        return True

    async def write(self, unit: Unit) -> None:
        for lawyer_id, count in self.taken.items():
            done = await unit.session.execute(
                update(Lawyer)
                .where(Lawyer.lawyer_id == lawyer_id, Lawyer.open_cases + count <= Lawyer.capacity)
                .values(open_cases=Lawyer.open_cases + count)
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise RuntimeError(f"lawyer {lawyer_id} changed while locked")  # never
        self.taken.clear()

    async def _locked(self, unit: Unit) -> dict[str, tuple[Any, ...]]:
        if self._rows is None:
            found = await unit.session.execute(
                select(*COLUMNS)
                .where(Lawyer.on_duty.is_(True))
                .order_by(Lawyer.lawyer_id)
                .with_for_update()
            )
            self._rows = {row[2]: tuple(row) for row in found.tuples()}
        return self._rows
