"""Service settings from environment variables, with the standard names where there are any."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KitSettings(BaseSettings):
    """What every service reads from its environment. Services subclass it for their own.

    OTEL_* variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_ZIPKIN_ENDPOINT, ...) are read by the
    OpenTelemetry SDK itself; OTEL_SERVICE_NAME defaults to `service_name`.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    service_name: str = Field(default="service", validation_alias="SERVICE_NAME")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    http_host: str = Field(default="127.0.0.1", validation_alias="HTTP_HOST")
    http_port: int = Field(default=8000, validation_alias="HTTP_PORT")
    consumer_group: str = Field(default="", validation_alias="KAFKA_CONSUMER_GROUP")
    consume_batch_size: int = Field(default=500, ge=1, validation_alias="KAFKA_CONSUME_BATCH_SIZE")
    consume_batch_wait_ms: int = Field(default=20, ge=0, validation_alias="KAFKA_CONSUME_BATCH_WAIT_MS")
    max_attempts: int = Field(
        default=3, ge=1, validation_alias="HANDLER_MAX_ATTEMPTS",
        description="Tries of a failing message before it goes to the dead-letter topic",
    )
    transient_retry_seconds: float = Field(
        default=60.0, validation_alias="TRANSIENT_RETRY_SECONDS",
        description="How long a batch is retried while the database or broker is unavailable "
        "before the messages are handed back to Kafka for redelivery",
    )
    outbox_batch_size: int = Field(default=500, ge=1, validation_alias="OUTBOX_BATCH_SIZE")
    outbox_sweep_seconds: float = Field(default=2.0, gt=0, validation_alias="OUTBOX_SWEEP_SECONDS")
    migrate_on_start: bool = Field(default=True, validation_alias="DB_MIGRATE_ON_START")
    shutdown_grace_seconds: float = Field(default=15.0, validation_alias="SHUTDOWN_GRACE_SECONDS")
    pii_key: SecretStr = Field(
        default=SecretStr(""), validation_alias="PII_KEY",
        description="Key for encrypting and hashing personal data at rest (base64, 32 bytes)",
    )

    def model_post_init(self, _context: object) -> None:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///./{self.service_name}.db"
        if not self.consumer_group:
            self.consumer_group = self.service_name
