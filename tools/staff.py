"""What the demo's staff apps share: a client for one service's HTTP API, with a bound on
requests in flight and the service's clock."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class ServiceClient:
    def __init__(self, client: httpx.AsyncClient, base_url: str, in_flight: int = 16) -> None:
        self.client = client
        self.base_url = base_url
        self.limit = asyncio.Semaphore(in_flight)

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        async with self.limit:
            return await self.client.request(method, f"{self.base_url}{path}", json=body)

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        """The answer's JSON; raises naming the request if the service refused it."""
        response = await self.call(method, path, body)
        if response.is_error:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    async def advance_hours(self, hours: float) -> None:
        """Move the service's clock (CLOCK_ADJUSTABLE=true) forward."""
        await self.ok("POST", "/admin/clock/advance", {"seconds": hours * 3600})
