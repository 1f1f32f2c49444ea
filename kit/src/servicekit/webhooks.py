"""Signed JSON webhooks, and the local file of JSON lines that stands in for one.

A receiver authenticates a webhook by recomputing `X-Gonghui-Signature` over the timestamp and
the body it got with the secret both sides hold, and drops repeats by `Idempotency-Key`: a
sender that cannot tell whether a POST arrived sends it again under the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, as the receiver recomputes it: `sha256=<hex>`."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookError(Exception):
    """The receiver did not take the body. The text is safe to log: it names the failure only,
    never the URL, the body or the answer's content."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code  # None: the receiver was not reached


class WebhookPoster:
    """POSTs JSON bodies to one URL, signed with the shared secret."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        client: httpx.AsyncClient | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.client = client or httpx.AsyncClient(timeout=5.0)
        self.clock = clock

    async def post(self, payload: Mapping[str, Any], idempotency_key: str) -> httpx.Response:
        """Send `payload` (JSON-serialisable); the answer if its status is below 300, else
        WebhookError, as when the receiver cannot be reached."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Gonghui-Timestamp": timestamp,
            "X-Gonghui-Signature": signature(self.secret, timestamp, body),
            "Idempotency-Key": idempotency_key,
        }
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise WebhookError(f"webhook unreachable: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise WebhookError(f"webhook answered {response.status_code}", response.status_code)
        return response


class JsonLinesSink:
    """Appends each record as one JSON line to a local file (the demo and the tests read it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    async def append(self, record: Mapping[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        # One write of the whole line to a file opened for appending lands whole after the
        # others; a text-mode file object built per line cost more than the line. The records
        # may name people: a new file is its owner's alone.
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
