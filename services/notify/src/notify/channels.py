"""Where notices go. One interface; the webhook is how SMS gateways and app-push providers are
integrated, the sink is a local file of JSON lines that the demo and the tests read."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import httpx


@dataclass(frozen=True)
class Outgoing:
    notice_id: str
    recipient: str
    template: str
    locale: str
    body: str
    cause_event_id: str
    correlation_id: str


class ChannelError(Exception):
    """The channel did not take the notice; the text is safe to log (no personal data)."""


class Channel(Protocol):
    name: str

    async def send(self, notice: Outgoing) -> None:
        """Deliver or raise ChannelError."""


class SinkChannel:
    name = "sink"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = asyncio.Lock()

    async def send(self, notice: Outgoing) -> None:
        line = json.dumps({**asdict(notice), "sent_at": time.time()}, ensure_ascii=False) + "\n"
        async with self._lock:
            with self.path.open("a", encoding="utf-8") as sink:
                sink.write(line)


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `timestamp.body`, as the receiver recomputes it to authenticate us."""
    return (
        "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )


class WebhookChannel:
    """POSTs each notice as JSON, signed; `Idempotency-Key` lets the receiver drop repeats."""

    name = "webhook"

    def __init__(self, url: str, secret: bytes, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.secret = secret
        self.client = client or httpx.AsyncClient(timeout=5.0)

    async def send(self, notice: Outgoing) -> None:
        body = json.dumps(asdict(notice), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Gonghui-Timestamp": timestamp,
            "X-Gonghui-Signature": signature(self.secret, timestamp, body),
            "Idempotency-Key": notice.notice_id,
        }
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ChannelError(f"webhook unreachable: {type(error).__name__}") from None
        if response.status_code >= 300:
            raise ChannelError(f"webhook answered {response.status_code}")
