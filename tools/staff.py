"""What the demo's staff apps share: a client for one service's HTTP API, with a bound on
requests in flight and the service's clock, and the tokens of who calls (minted with the local
key, `servicekit token`): the provincial union's staff by default, the visitor, lawyer or
worker themself where they act."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import localrun

from servicekit.identity import Role

Headers = dict[str, str]


def as_staff(union: str = "440000") -> Headers:
    """Union staff (and operator: the demo moves the services' clocks)."""
    return localrun.local_tokens().headers(
        Role.STAFF, Role.OPERATOR, subject=f"demo-staff-{union}", union=union
    )


def as_person(role: Role, person_id: str) -> Headers:
    """A visitor or lawyer acting as themself."""
    return localrun.local_tokens().headers(role, subject=person_id)


def as_worker(resident_id: str) -> Headers:
    """A worker's app account, verified as this resident ID."""
    return localrun.local_tokens().headers(
        Role.MEMBER, subject=f"app-{resident_id[-6:]}", resident_id=resident_id
    )


class ServiceClient:
    def __init__(self, client: httpx.AsyncClient, base_url: str, in_flight: int = 16) -> None:
        self.client = client
        self.base_url = base_url
        self.limit = asyncio.Semaphore(in_flight)
        self.staff = as_staff()

    async def call(
        self, method: str, path: str, body: Any = None, *, as_: Headers | None = None
    ) -> httpx.Response:
        """One request, as the union's staff unless `as_` says who."""
        async with self.limit:
            return await self.client.request(
                method, f"{self.base_url}{path}", json=body, headers=as_ or self.staff
            )

    async def ok(
        self, method: str, path: str, body: Any = None, *, as_: Headers | None = None
    ) -> Any:
        """The answer's JSON; raises naming the request if the service refused it."""
        response = await self.call(method, path, body, as_=as_)
        if response.is_error:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    async def advance_hours(self, hours: float) -> None:
        """Move the service's clock (CLOCK_ADJUSTABLE=true) forward."""
        await self.ok("POST", "/admin/clock/advance", {"seconds": hours * 3600})
