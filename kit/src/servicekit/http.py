"""What every service's HTTP API shares beyond FastAPI's own: the error answers and the OpenAPI
that documents them, a bounded request body, calendar days and bounded periods as parameters.

    @api.get("/cases/{case_id}", responses=answers(404))
    @api.post("/reports", responses=answers(rules="the hospital must be in the registry",
                                            rejection=ReportAnswer))

Every route with parameters or a body documents the kit's 422 (the field list `invalid_request`
answers); every route with a body also 400 (not JSON) and 413 (too large). A 422 that a
schema-valid request can still get (a checksum, a registry, a rule between fields) is named
in `rules`: the OpenAPI says which rules, under `x-rules-beyond-schema`.
"""

# Without `from __future__ import annotations`: FastAPI reads the annotations of the period
# dependency at run time, and they name values of the function that makes it.
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Query
from fastapi.openapi.utils import get_openapi
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Responses = dict[int | str, dict[str, Any]]


class Problem(BaseModel):
    """An error answer: what went wrong, without the request's values."""

    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int] = Field(description="Where: body, query or path, then the field's path")
    msg: str = Field(description="The rule the value breaks (the value is never repeated)")
    type: str


class Invalid(BaseModel):
    """422: each field that breaks a rule, and the rule."""

    detail: list[FieldProblem]


DESCRIPTIONS = {
    400: "The body is not JSON text",
    401: "No bearer token, or one that does not verify",
    403: "The token's roles do not include one this needs",
    404: "No such resource",
    409: "Refused: the resource's state or a rule of the process does not allow it",
    413: "The body is larger than the service takes (HTTP_MAX_BODY_BYTES)",
    422: "A parameter or a field breaks a rule: each is named, with the rule",
    503: "Not ready: a dependency does not answer",
}
RULES_KEY = "x-rules-beyond-schema"


def answers(
    *codes: int, rules: str | None = None, rejection: type[BaseModel] | None = None
) -> Responses:
    """`responses=` for a route: each of `codes` with the kit's error answer. `rules` names
    what the route refuses with 422 beyond its schema; `rejection` is the model of that 422
    answer when it is not the field list (a use case's own rejection with reasons)."""
    documented: Responses = {
        code: {"model": Problem, "description": DESCRIPTIONS.get(code, "Refused")} for code in codes
    }
    if rules is not None or rejection is not None:
        entry: dict[str, Any] = {"description": DESCRIPTIONS[422]}
        if rules is not None:
            entry["description"] += f"; also refused, though the schema cannot say so: {rules}"
            entry[RULES_KEY] = rules
        if rejection is not None:
            entry["model"] = rejection
        documented[422] = entry
    return documented


def document_common_answers(app: FastAPI) -> None:
    """The app's OpenAPI, with what the kit answers for every route: 422 in the shape the kit
    really sends, 400 and 413 wherever a body is read, 401 and 403 wherever a token is."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (Problem, Invalid):
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(found.pop("$defs", {}))
            schemas[model.__name__] = found
        problem, invalid = (_ref(Problem.__name__), _ref(Invalid.__name__))
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                _document(operation, problem, invalid)
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused not in json.dumps(schema["paths"]):
                schemas.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _document(operation: dict[str, Any], problem: dict[str, Any], invalid: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    has_input = bool(operation.get("parameters") or operation.get("requestBody"))
    if "422" in responses:
        schema = responses["422"].get("content", {}).get("application/json", {}).get("schema")
        if schema in (None, _ref("HTTPValidationError")):
            responses["422"]["content"] = _json(invalid)
        elif schema != invalid:
            responses["422"]["content"] = _json({"anyOf": [invalid, schema]})
    elif has_input:
        responses["422"] = {"description": DESCRIPTIONS[422], "content": _json(invalid)}
    if operation.get("security"):
        for code in (401, 403):
            responses.setdefault(
                str(code), {"description": DESCRIPTIONS[code], "content": _json(problem)}
            )
    if "requestBody" in operation:
        for code in (400, 413):
            responses.setdefault(
                str(code), {"description": DESCRIPTIONS[code], "content": _json(problem)}
            )


class BodyLimit:
    """Refuses a request body over `max_bytes` with 413, counting the bytes as they arrive:
    a Content-Length that lies, or none (chunked), does not get a larger body in. The body is
    read before the app runs, so the app never sees part of a refused one."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {"detail": f"the request body is larger than {self.max_bytes} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value):
        return date.fromisoformat(value)  # refuses 2024-02-30
    raise ValueError("must be a calendar date written YYYY-MM-DD")


Day = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar date, written YYYY-MM-DD and nothing else (no timestamps, no times)."""


def _written_moment(value: object) -> object:
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be a date and time written as ISO 8601 text, with its offset")


Moment = Annotated[AwareDatetime, BeforeValidator(_written_moment)]
"""A moment with its offset, written as ISO 8601 text (never a number of seconds)."""

MAX_PERIOD_DAYS = 366
# Days outside these hold nothing, and a period reaching past them cannot be a timestamp.
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9000, 1, 1)


@dataclass(frozen=True)
class Period:
    """The days from `start` (its midnight) to `end` (the midnight after the last day)."""

    start: datetime
    end: datetime


def period_parameter(
    today: Callable[[], date], zone: ZoneInfo, *, default_days: int, counted: str
) -> Callable[..., Period]:
    """A dependency reading `since` (a day) and `days` (1 to MAX_PERIOD_DAYS): a summary or a
    list never covers more than that. Without `since`, the last `days` days up to today."""

    def period(
        since: Annotated[
            Day | None,
            Query(description=f"First day of the period ({counted}); default: `days` days ago"),
        ] = None,
        days: Annotated[
            int,
            Query(ge=1, le=MAX_PERIOD_DAYS, description="Days in the period, `since` included"),
        ] = default_days,
    ) -> Period:
        first = since if since is not None else today() - timedelta(days=days - 1)
        first = min(first, _LAST_DAY)
        after = max(min(first + timedelta(days=days), _LAST_DAY), _FIRST_DAY)
        first = max(first, _FIRST_DAY)
        return Period(
            datetime.combine(first, time(), tzinfo=zone),
            datetime.combine(after, time(), tzinfo=zone),
        )

    return period
