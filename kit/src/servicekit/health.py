"""/healthz, /readyz and /metrics, the same on every service: the first two open to the
orchestrator's probes, the metrics for the operator's token (Prometheus scrapes with one)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from servicekit.http import DESCRIPTIONS
from servicekit.identity import Role, requires

Check = Callable[[], Awaitable[object]]


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


def health_router(checks: dict[str, Check], timeout: float = 2.0) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Kafka, the database and Redis answer",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": DESCRIPTIONS[503]}},
    )
    async def readyz() -> JSONResponse:
        results = await asyncio.gather(*(_run(check, timeout) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": report},
            status_code=200 if ready else 503,
        )

    @router.get(
        "/metrics",
        summary="Prometheus metrics (the operator's token)",
        response_class=PlainTextResponse,
        dependencies=[Depends(requires(Role.OPERATOR))],
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


async def _run(check: Check, timeout: float) -> str:
    try:
        result = await asyncio.wait_for(check(), timeout)
    except Exception as error:
        return f"failed: {type(error).__name__}"
    return "ok" if result is not False else "failed"
