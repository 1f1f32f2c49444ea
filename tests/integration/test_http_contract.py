"""The HTTP contract says what the APIs do: schemathesis, every check, against each running
service's OpenAPI; races on a unique key get the answer they mean; bodies are bounded.

Schemathesis runs as its own process (its command line, as anyone would run it) against the
services started as in production. The only thing it is told beyond the OpenAPI: an operation
whose 422 names rules beyond its schema (`x-rules-beyond-schema`: check characters, registries)
may answer a schema-valid request 422. Every other check holds as schemathesis has it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from servicekit.identity import Role

from .conftest import TOKENS, StartPlatform, as_staff, random_resident_id

pytestmark = pytest.mark.integration

SERVICES = ("membership", "aid", "legal", "notify", "skills")
EXAMPLES = int(os.environ.get("HTTP_CONTRACT_EXAMPLES", "50"))
SEED = int(os.environ.get("HTTP_CONTRACT_SEED", "20240627"))
# what schemathesis accepts for a schema-valid request by default, and 422
VALID_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


def exceptions_config(spec: dict[str, Any]) -> tuple[str, list[str]]:
    """schemathesis.toml allowing 422 for schema-valid requests where the OpenAPI says which
    rules beyond the schema the operation applies; and the operations concerned."""
    lines: list[str] = []
    excepted: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "x-rules-beyond-schema" not in operation.get("responses", {}).get("422", {}):
                continue
            excepted.append(f"{method.upper()} {path}")
            lines += [
                "[[operations]]",
                f"include-path = {json.dumps(path)}",
                f'include-method = "{method.upper()}"',
                "checks.positive_data_acceptance.expected-statuses = "
                + json.dumps([*VALID_ANSWERS, "422"]),
                "",
            ]
    return "\n".join(lines), excepted


async def run_schemathesis(name: str, url: str, workdir: Path) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        spec = (await client.get(f"{url}/openapi.json")).raise_for_status().json()
    config, excepted = exceptions_config(spec)
    config_file = workdir / f"{name}.toml"
    config_file.write_text(config, "utf-8")
    report_file = workdir / f"{name}.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config_file),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report_file),
        "--no-color",
        # province staff who is also an operator: the widest a token reaches; schemathesis
        # also checks that each operation refuses a request without it
        "--header",
        "Authorization: Bearer "
        + TOKENS.mint(Role.STAFF, Role.OPERATOR, subject="it-contract", union="440000"),
    ]
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=workdir,  # its cache goes there, not into the work tree
    )
    (workdir / f"{name}.txt").write_text(done.stdout + done.stderr, "utf-8")
    assert report_file.exists(), f"schemathesis wrote no report for {name}:\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(report_file.read_text("utf-8"))
    report["output"] = done.stdout
    report["excepted"] = excepted
    return report


async def test_every_service_answers_as_its_openapi_says(
    start_platform: StartPlatform, tmp_path: Path
) -> None:
    platform = await start_platform(SERVICES, {})
    figures: dict[str, str] = {}
    failed: dict[str, str] = {}
    requests = 0
    for name in SERVICES:
        report = await run_schemathesis(name, platform.url(name), tmp_path)
        cases, operations = report["test_cases"], report["operations"]
        failures = sum(f["count"] for f in report["failures"])
        requests += cases["generated"]
        figures[name] = (
            f"{operations['tested']}/{operations['total']} operations, "
            f"{cases['generated']} requests, {failures} failures, {len(report['errors'])} errors"
            f" ({len(report['excepted'])} with rules beyond the schema: 422 allowed)"
        )
        if failures or report["errors"] or not report["complete"] or not cases["generated"]:
            failed[name] = report["output"][-6000:]
    print(f"\nschemathesis --checks all, {EXAMPLES} examples, seed {SEED}: {requests} requests")
    for name, line in figures.items():
        print(f"  {name}: {line}")
    assert not failed, "\n\n".join(f"== {name}\n{out}" for name, out in failed.items())


async def test_the_same_person_joining_100_times_at_once_joins_once(
    start_platform: StartPlatform,
) -> None:
    platform = await start_platform(("membership",), {})
    application = {
        "channel": "app",
        "name": "并发测试",
        "resident_id": random_resident_id(),
        "phone": "13800138000",
        "region_code": "440111",
        "industry": "express_delivery",
    }
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(
        base_url=platform.url("membership"), timeout=60, limits=limits, headers=as_staff()
    ) as client:
        answers = await asyncio.gather(
            *(client.post("/v1/members", json=application) for _ in range(100))
        )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {201: 1, 200: 99}, statuses
    member_ids = {answer.json()["member_id"] for answer in answers}
    assert len(member_ids) == 1, member_ids
    assert None not in member_ids
    assert {answer.json()["outcome"] for answer in answers if answer.status_code == 200} == {
        "already_member"
    }
    members = await platform.sql("membership", "SELECT count(*) AS n FROM members")
    assert members[0]["n"] == 1


def raw_request(url: str, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request exactly as written (a lying length, chunked) and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head)
        try:
            for chunk in chunks:
                connection.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading everything: as it should
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = connection.recv(65536)
            if not data:
                break
            answer += data
        return answer


async def test_a_body_over_the_limit_is_refused_however_it_is_sent(
    start_platform: StartPlatform,
) -> None:
    platform = await start_platform(("membership",), {"HTTP_MAX_BODY_BYTES": "65536"})
    url, path = platform.url("membership"), b"/v1/members"
    big = b'{"name": "' + b"a" * 200_000 + b'"}'

    declared = b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n" % path
    honest = await asyncio.to_thread(
        raw_request, url, declared + b"Content-Length: %d\r\n\r\n" % len(big), [big]
    )
    lying = await asyncio.to_thread(
        raw_request, url, declared + b"Content-Length: 100\r\n\r\n", [big]
    )
    chunked = await asyncio.to_thread(
        raw_request,
        url,
        declared + b"Transfer-Encoding: chunked\r\n\r\n",
        [b"%x\r\n%s\r\n" % (len(part), part) for part in _parts(big, 8192)] + [b"0\r\n\r\n"],
    )
    assert honest.startswith(b"HTTP/1.1 413"), honest[:200]
    # told 100 bytes, the server reads 100 (not JSON: 422 or 400), never the rest as a body
    assert lying.split(b" ")[1] in (b"400", b"422"), lying[:200]
    assert chunked.startswith(b"HTTP/1.1 413"), chunked[:200]
    async with httpx.AsyncClient(base_url=url, headers=as_staff()) as client:
        refused = await client.post(path.decode(), content=big)
        within = await client.post(path.decode(), json={"name": "x"})
    assert refused.status_code == 413
    assert refused.json() == {"detail": "the request body is larger than 65536 bytes"}
    assert within.status_code == 422  # read and validated


def _parts(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]
