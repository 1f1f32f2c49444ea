"""Every HTTP operation of every service takes a bearer token, read from the services' own
OpenAPI documents: whatever a service serves but `/healthz` and `/readyz` answers 401 without a
token and with one another key signed, and 403 with a valid token granting no role. A route
added later without a role is caught here without changing this test."""

from __future__ import annotations

import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from servicekit.identity import Role
from servicekit.tokens import LocalTokens

from .conftest import TOKENS, StartPlatform

pytestmark = pytest.mark.integration

SERVICES = ("membership", "aid", "legal", "notify", "skills")
PROBES = {"/healthz", "/readyz"}
METHODS = {"get", "put", "post", "delete", "patch"}


def path_value(schema: dict[str, Any]) -> str:
    """A value of a path parameter's type (whether it exists does not matter: the token is
    refused first)."""
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    if schema.get("type") == "integer":
        return str(max(1, int(schema.get("minimum", 1))))
    return "x1"


def operations(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, concrete path) of each operation of the document."""
    found = []
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            values = {
                p["name"]: path_value(p.get("schema", {}))
                for p in operation.get("parameters", [])
                if p["in"] == "path"
            }
            path = template
            for parameter, value in values.items():
                path = path.replace(f"{{{parameter}}}", value)
            found.append((method.upper(), path))
    return found


async def test_every_operation_but_the_probes_refuses_a_request_without_a_token(
    start_platform: StartPlatform,
) -> None:
    platform = await start_platform(SERVICES, {"CLOCK_ADJUSTABLE": "true"})
    forged = LocalTokens(Path(tempfile.mkdtemp(prefix="gonghui-forged-"))).mint(
        *Role, subject="it-forger", union="440000"
    )
    callers = {
        "none": ({}, 401),
        "another key": ({"Authorization": f"Bearer {forged}"}, 401),
        "no role": (TOKENS.headers(subject="it-nobody"), 403),
    }
    wrong: list[str] = []
    checked: Counter[str] = Counter()
    for name in SERVICES:
        async with httpx.AsyncClient(base_url=platform.url(name), timeout=30) as client:
            spec = (await client.get("/openapi.json")).raise_for_status().json()
            served = set(spec["paths"])
            assert served >= PROBES | {"/metrics", "/admin/clock/advance"}, name
            for probe in PROBES:
                assert (await client.get(probe)).status_code in (200, 503)
            for method, path in operations(spec):
                if path in PROBES:
                    continue
                for caller, (headers, expected) in callers.items():
                    answer = await client.request(method, path, headers=headers)
                    if answer.status_code != expected:
                        wrong.append(f"{name} {method} {path} ({caller}): {answer.status_code}")
                    if expected == 401 and "Bearer" not in answer.headers.get(
                        "www-authenticate", ""
                    ):
                        wrong.append(f"{name} {method} {path} ({caller}): no Bearer challenge")
                checked[name] += 1
    print(f"\noperations refusing a request without a token: {sum(checked.values())} {checked}")
    assert not wrong, "\n".join(wrong)
    assert set(checked) == set(SERVICES)
