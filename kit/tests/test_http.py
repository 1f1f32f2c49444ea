"""The kit's HTTP pieces: the body limit, strict days, bounded periods, documented answers."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import BaseModel, TypeAdapter, ValidationError

from servicekit.app import install_error_handlers
from servicekit.http import (
    MAX_PERIOD_DAYS,
    BodyLimit,
    Day,
    Period,
    answers,
    document_common_answers,
    period_parameter,
)
from servicekit.settings import KitSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Echo:
    """An ASGI app that records the body it was given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(limit: int, chunks: list[bytes], length: int | None) -> tuple[int, bytes, Echo]:
    app = Echo()
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    await BodyLimit(app, max_bytes=limit)(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]), app


async def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    status, _, app = await call(10, [b"12345", b"67890"], None)
    assert status == 200
    assert app.bodies == [b"1234567890"]


@pytest.mark.parametrize(
    ("chunks", "length"),
    [
        ([b"x" * 11], 11),  # declared honestly
        ([b"x" * 6, b"x" * 6], None),  # chunked: no length at all
        ([b"x" * 11], 5),  # a length that lies
        ([b""], 1_000_000),  # declared too large: refused before reading
    ],
)
async def test_a_body_over_the_limit_is_refused_with_413(
    chunks: list[bytes], length: int | None
) -> None:
    status, body, app = await call(10, chunks, length)
    assert status == 413
    assert json.loads(body) == {"detail": "the request body is larger than 10 bytes"}
    assert app.bodies == []  # the app never saw any of it


def test_the_default_limit_takes_the_largest_legitimate_filing() -> None:
    """2,000 workers (legal's maximum), every text at its longest and written as JSON escapes
    of characters outside the BMP (12 bytes each), pretty-printed."""
    name = "\U00020000" * 50
    worker = {
        "name": name,
        "resident_id": "11010519491231002X",
        "phone": "+86 138-0013-8000 ",
        "claimed": "999999999999.99",
        "groups": ["migrant", "hardship", "disabled", "veteran", "minor"],
    }
    filing = {
        "employer": {"credit_code": "91440300MA5FXXXX0X", "name": "\U00020000" * 100},
        "industry": "express_delivery",
        "district_code": "440111",
        "kind": "wage_arrears",
        "arose_on": "2024-06-27",
        "workers": [worker] * 2000,
        "station_id": "x" * 32,
        "filing_ref": "x" * 64,
    }
    size = len(json.dumps(filing, ensure_ascii=True, indent=4).encode())
    assert size < KitSettings.model_fields["http_max_body_bytes"].default


@pytest.mark.parametrize("written", ["2024-06-27", "0001-01-01", "9999-12-31"])
def test_a_day_is_written_yyyy_mm_dd(written: str) -> None:
    assert TypeAdapter(Day).validate_python(written) == date.fromisoformat(written)


@pytest.mark.parametrize(
    "written",
    [
        "0.5",
        "20240627",
        "2024-6-27",
        "2024-02-30",
        "2024-06-27T00:00:00",
        "２０２４-０６-２７",
        0,
        1.5,
    ],
)
def test_anything_else_is_not_a_day(written: object) -> None:
    with pytest.raises(ValidationError, match=r"YYYY-MM-DD|day is out of range"):
        TypeAdapter(Day).validate_python(written)


def _period(since: date | None = None, days: int = 30) -> Period:
    period = period_parameter(lambda: date(2024, 6, 27), SHANGHAI, default_days=30, counted="x")
    return period(since=since, days=days)


def test_a_period_is_whole_days_where_the_service_works() -> None:
    assert _period() == Period(
        datetime(2024, 5, 29, tzinfo=SHANGHAI), datetime(2024, 6, 28, tzinfo=SHANGHAI)
    )
    assert _period(date(2024, 1, 1), 1) == Period(
        datetime(2024, 1, 1, tzinfo=SHANGHAI), datetime(2024, 1, 2, tzinfo=SHANGHAI)
    )


def test_a_period_at_the_ends_of_the_calendar_is_still_a_timestamp() -> None:
    late = _period(date(9999, 12, 31), MAX_PERIOD_DAYS)
    early = _period(date(1, 1, 1), MAX_PERIOD_DAYS)
    for found in (late, early):
        assert found.start <= found.end
        found.start.astimezone(UTC)  # what the database driver does: no overflow
    assert early.start == early.end  # nothing there


async def test_the_period_parameters_are_bounded() -> None:
    app = FastAPI()
    install_error_handlers(app, {})
    period = period_parameter(lambda: date(2024, 6, 27), SHANGHAI, default_days=30, counted="x")
    in_period = Depends(period)

    @app.get("/summary")
    async def summary(days: Period = in_period) -> dict[str, str]:
        return {"start": days.start.isoformat(), "end": days.end.isoformat()}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/summary", params={"since": "2024-01-01", "days": 366})
        too_long = await client.get("/summary", params={"days": 367})
        timestamp = await client.get("/summary", params={"since": "0.5"})
    assert ok.json() == {"start": "2024-01-01T00:00:00+08:00", "end": "2025-01-01T00:00:00+08:00"}
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["query", "days"]
    assert timestamp.status_code == 422
    schema = app.openapi()["paths"]["/summary"]["get"]["parameters"]
    days_schema = next(p["schema"] for p in schema if p["name"] == "days")
    assert (days_schema["minimum"], days_schema["maximum"]) == (1, MAX_PERIOD_DAYS)


class Answer(BaseModel):
    outcome: str


class Body(BaseModel):
    x: int


def test_the_openapi_documents_what_the_kit_answers() -> None:
    app = FastAPI()

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {}

    @app.get("/things/{thing}", responses=answers(404))
    async def thing(thing: int) -> dict[str, str]:
        return {}

    @app.post("/things", responses=answers(409, rules="a checksum", rejection=Answer))
    async def make(body: Body) -> dict[str, str]:
        return {}

    document_common_answers(app)
    spec = app.openapi()
    paths = spec["paths"]
    invalid = {"$ref": "#/components/schemas/Invalid"}
    problem = {"$ref": "#/components/schemas/Problem"}
    assert set(paths["/plain"]["get"]["responses"]) == {"200"}
    got = paths["/things/{thing}"]["get"]["responses"]
    assert set(got) == {"200", "404", "422"}
    assert got["422"]["content"]["application/json"]["schema"] == invalid
    assert got["404"]["content"]["application/json"]["schema"] == problem
    made = paths["/things"]["post"]["responses"]
    assert set(made) == {"200", "400", "409", "413", "422"}
    assert made["422"]["x-rules-beyond-schema"] == "a checksum"
    assert made["422"]["content"]["application/json"]["schema"] == {
        "anyOf": [invalid, {"$ref": "#/components/schemas/Answer"}]
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Invalid"]["properties"]["detail"]["type"] == "array"


async def test_a_method_the_path_does_not_take_is_405_naming_every_method_it_takes() -> None:
    app = FastAPI()
    install_error_handlers(app, {})

    @app.get("/v1/claims")
    async def queue() -> list[str]:
        return []

    @app.post("/v1/claims")
    async def claim() -> dict[str, str]:
        return {}

    @app.delete("/v1/claims/{claim_id}")
    async def forget(claim_id: str) -> None:
        return None

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        options = await client.options("/v1/claims")
        put = await client.put("/v1/claims/c-1")
        missing = await client.get("/v1/nothing")
    assert options.status_code == put.status_code == 405
    assert options.headers["Allow"] == "GET, POST"  # not the first route's alone
    assert put.headers["Allow"] == "DELETE"
    assert options.json() == {"detail": "Method Not Allowed"}
    assert missing.status_code == 404
