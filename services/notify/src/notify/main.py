"""Assembly of the notify service: subscriptions record notices, a worker sends them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from pydantic import SecretStr, model_validator

from notify import handlers
from notify.channels import Channel, SinkChannel, WebhookChannel
from notify.limits import HourlyLimit
from notify.service import NoticeSender
from servicekit import KitSettings, Runtime, serve


class Settings(KitSettings):
    service_name: str = "notify"
    http_port: int = 8105
    notify_channel: Literal["sink", "webhook"] = "sink"
    notify_sink_path: Path = Path("notices.jsonl")
    notify_webhook_url: str = ""
    notify_webhook_secret: SecretStr = SecretStr("")
    notify_locale: str = "zh"
    notify_max_attempts: int = 5
    notify_per_recipient_hourly: int = 20

    @model_validator(mode="after")
    def _webhook_is_configured(self) -> Settings:
        if self.notify_channel == "webhook" and not (
            self.notify_webhook_url and self.notify_webhook_secret.get_secret_value()
        ):
            raise ValueError(
                "NOTIFY_CHANNEL=webhook needs NOTIFY_WEBHOOK_URL and NOTIFY_WEBHOOK_SECRET"
            )
        return self


def channel(settings: Settings) -> Channel:
    if settings.notify_channel == "webhook":
        return WebhookChannel(
            settings.notify_webhook_url, settings.notify_webhook_secret.get_secret_value().encode()
        )
    return SinkChannel(settings.notify_sink_path)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime(settings, migrations_dir=Path(__file__).with_name("migrations"))
    for subscription in handlers.subscriptions(settings.notify_locale):
        runtime.subscribe(subscription)
    redis = runtime.redis
    limit = (
        HourlyLimit(redis, settings.notify_per_recipient_hourly, settings.kafka_topic_prefix)
        if redis is not None
        else None
    )
    sender = NoticeSender(
        runtime.uow, channel(settings), max_attempts=settings.notify_max_attempts, limit=limit
    )
    runtime.worker("send-notices", sender.send_due, idle_seconds=1.0)
    return runtime.http_app(title="gonghui notify")


def run() -> None:
    settings = Settings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    run()
