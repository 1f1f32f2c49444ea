"""Service settings from environment variables, with the standard names where there are any.

Each field is read from the variable of the same name in capitals (KAFKA_BOOTSTRAP_SERVERS,
DATABASE_URL, REDIS_URL, ...). A service subclasses KitSettings to set its own defaults
(service_name, http_port) and add its own settings.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from servicekit import pii
from servicekit.kafka_access import KafkaAccess


class KitSettings(KafkaAccess):
    """What every service reads from its environment.

    OTEL_* variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_ZIPKIN_ENDPOINT, ...) are read by the
    OpenTelemetry SDK itself; OTEL_SERVICE_NAME defaults to `service_name`.
    """

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    database_url: str = Field(default="", description="Empty: SQLite file <service_name>.db")
    redis_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="A request body larger than this is answered 413 (a filing of 2,000 "
        "workers, every name written as JSON escapes, is under 2 MiB)",
    )
    kafka_consumer_group: str = Field(default="", description="Empty: the service name")
    kafka_topic_prefix: str = Field(
        default="",
        description="Put before every topic name: isolates a test run on a shared cluster",
    )
    partners_file: Path | None = Field(
        default=None,
        description="The partner directory (JSON list of partner_id and kind): the service "
        "reads each listed partner's own topic of the intake families it subscribes to",
    )
    kafka_consume_batch_size: int = Field(
        default=500,
        ge=1,
        description="Most records handled in one transaction; twice as many are read ahead "
        "of the handlers and held in memory",
    )
    kafka_consume_batch_wait_ms: int = Field(
        default=20,
        ge=0,
        description="How long a batch waits for records close behind its first: fewer, larger "
        "transactions, for at most this much more time a hop",
    )
    kafka_fetch_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024 * 1024,
        description="Most bytes one fetch brings, and most bytes of records read ahead of the "
        "handlers before fetching stops. Both are held in memory, the fetch twice while it is "
        "read off the socket",
    )
    handler_max_attempts: int = Field(
        default=3, ge=1, description="Tries of a failing message before it becomes a dead letter"
    )
    transient_retry_seconds: float = Field(
        default=60.0,
        description="How long a batch is retried while the database or broker is unreachable "
        "before its messages are handed back to Kafka for redelivery",
    )
    kafka_max_consumed_bytes: int = Field(
        default=512 * 1024,
        ge=1024,
        description="A consumed record larger than this is dead-lettered before it is parsed",
    )
    kafka_max_published_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        description="The largest record the outbox relay sends (value, key and headers); a "
        "larger one is parked, not sent. Keep it under the broker's message.max.bytes",
    )
    outbox_batch_size: int = Field(
        default=1000,
        ge=1,
        description="Most outbox rows one relay pass publishes (and holds in memory). A "
        "consumed batch can stage several rows an event, and the relay shares the event loop "
        "with the consumer: passes much smaller than what a batch stages leave the relay "
        "behind under a burst",
    )
    outbox_sweep_seconds: float = Field(default=2.0, gt=0)
    db_migrate_on_start: bool = True
    gc_young_threshold: int = Field(
        default=20_000,
        ge=1,
        description="Allocations between two collections of the garbage collector's youngest "
        "generation, set once the service has started (CPython's default is 700, too often "
        "for batches of events: see servicekit.heap)",
    )
    shutdown_grace_seconds: float = 15.0
    time_zone: str = Field(default="Asia/Shanghai", description="Where calendar dates are taken")
    clock_adjustable: bool = Field(
        default=False,
        description="Tests and demos only: POST /admin/clock/advance moves the service's clock",
    )
    pii_key: SecretStr = Field(
        default=SecretStr(""),
        description="Secret for encrypting and hashing personal data at rest (base64, 32 bytes); "
        "key 1 of the key ring",
    )
    pii_keys: SecretStr = Field(
        default=SecretStr(""),
        description='The personal-data key ring: JSON {"<id>": "<base64, 32 bytes>", ...}',
    )
    pii_active_key: int | None = Field(
        default=None, description="The ring's key that makes new ciphertext; empty: the highest id"
    )
    pii_allow_development_key: bool = Field(
        default=False,
        description="Development only: without any key, use the built-in development key "
        "instead of refusing to start",
    )

    def model_post_init(self, _context: object) -> None:
        super().model_post_init(_context)  # Kafka: credentials where the protocol needs them
        # Refuses to start without a key; raises PiiKeyError, which names no key material.
        pii.key_ring(
            keys=self.pii_keys.get_secret_value(),
            single_key=self.pii_key.get_secret_value(),
            active=self.pii_active_key,
            development_allowed=self.pii_allow_development_key,
        )
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///./{self.service_name}.db"
        if not self.kafka_consumer_group:
            self.kafka_consumer_group = self.service_name
