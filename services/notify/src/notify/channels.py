"""Where notices go. One interface; the webhook is how SMS gateways and app-push providers are
integrated, the sink is a local file of JSON lines that the demo and the tests read."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import httpx

from servicekit.webhooks import JsonLinesSink, WebhookError, WebhookPoster


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
        self.sink = JsonLinesSink(path)

    async def send(self, notice: Outgoing) -> None:
        await self.sink.append({**asdict(notice), "sent_at": time.time()})


class WebhookChannel:
    """POSTs each notice as JSON, signed; the notice id is the `Idempotency-Key`."""

    name = "webhook"

    def __init__(self, url: str, secret: bytes, client: httpx.AsyncClient | None = None) -> None:
        self.poster = WebhookPoster(url, secret, client)

    async def send(self, notice: Outgoing) -> None:
        try:
            await self.poster.post(asdict(notice), notice.notice_id)
        except WebhookError as error:
            raise ChannelError(str(error)) from None
