"""Assembly: one object holding what a running service owns, and its HTTP app.

    runtime = Runtime(settings)
    runtime.subscribe(Subscription(MEMBERSHIP_EVENTS, on={MemberJoined: enrol_all}))
    app = runtime.http_app(title="aid", routers=[api.router])

Nothing is connected at import or construction time: `start()` (run by the HTTP app's lifespan)
migrates the database, connects Kafka, starts the consumers and the outbox relay; `stop()`
(on SIGTERM) stops consuming, lets in-flight batches finish and commit their offsets, publishes
what the outbox still holds, then flushes spans.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from redis.asyncio import Redis
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from gonghui_contracts import CATALOG, Catalog
from gonghui_contracts.access import Partner, partner_topic, senders
from gonghui_contracts.topics import BY_NAME
from gonghui_contracts.values import Service
from servicekit import db, heap, telemetry
from servicekit.clock import Clock, clock_router
from servicekit.consumer import BatchProcessor, IncomingRecord, Subscription, process_together
from servicekit.health import Check, health_router
from servicekit.http import BodyLimit, document_common_answers
from servicekit.identity import IdentitySettings, Verifier
from servicekit.loop import Step, WakeableLoop
from servicekit.outbox import KafkaPublisher, OutboxRelay
from servicekit.partners import read_partners
from servicekit.readahead import Consumer, ReadAheadConsumer
from servicekit.schema_upgrade import upgrade_in_child
from servicekit.settings import KitSettings
from servicekit.unit import UnitOfWork

log = logging.getLogger(__name__)
Job = Callable[[], Awaitable[None]]
ErrorStatuses = Mapping[type[Exception], int]


class Runtime:
    def __init__(
        self,
        settings: KitSettings,
        *,
        catalog: Catalog = CATALOG,
        migrations_dir: Path | None = None,
        kafka_consumer: Callable[[], Consumer] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.migrations_dir = migrations_dir
        self.tracer_provider: TracerProvider | None = None
        self.clock = Clock(settings.time_zone)
        self.engine = db.create_engine(settings.database_url)
        self.sessions = db.session_factory(self.engine)
        self.redis: Redis | None = (
            Redis.from_url(settings.redis_url) if settings.redis_url else None
        )
        # One consumer reads; the outbox relay publishes with a producer of its own.
        self._kafka_consumer = kafka_consumer or self._consumer
        self.reader: ReadAheadConsumer | None = None
        self.relay = OutboxRelay(
            self.sessions,
            KafkaPublisher(self._outbox_producer, settings.kafka_topic_prefix),
            batch_size=settings.outbox_batch_size,
            sweep_seconds=settings.outbox_sweep_seconds,
            max_record_bytes=settings.kafka_max_published_bytes,
        )
        self.workers: list[WakeableLoop] = []
        self.uow = UnitOfWork(self.sessions, settings.service_name, on_commit=self.committed)
        self.partners = read_partners(settings.partners_file)
        self.processors: dict[str, BatchProcessor] = {}  # by topic, prefix included
        self.jobs: list[tuple[str, float, Job]] = []
        self.startup: list[Job] = []
        self._job_tasks: list[asyncio.Task[None]] = []

    def _outbox_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self.settings.client_options(),
            client_id=f"{self.settings.service_name}-outbox",
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            # With idempotence one batch per partition is in flight, and a send finding its
            # partition's batch full waits for it to go: batches that take a relay pass's
            # records keep the relay from waiting on the broker record by record.
            max_batch_size=256 * 1024,
        )

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            **self.settings.client_options(),
            client_id=self.settings.service_name,
            group_id=self.settings.kafka_consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=self.settings.kafka_fetch_max_bytes,
        )

    def subscribe(self, subscription: Subscription) -> None:
        """Handle the events of `subscription.topic`; of a partners' intake family, those of
        each partner of the directory (PARTNERS_FILE), each read from the partner's own topic."""
        _check_registered_reader(self.settings.service_name, subscription.name)
        spec = subscription.spec
        if spec is None or not spec.partner_facing:
            self._read(subscription.name, subscription, sender=None)
            return
        partners = senders(spec, self.partners)
        if not partners:
            log.warning("no partner of the directory writes %s", subscription.topic)
        for partner in partners:
            self._read(partner_topic(spec, partner.partner_id), subscription, sender=partner)

    def _read(self, name: str, subscription: Subscription, sender: Partner | None) -> None:
        topic = self.settings.kafka_topic_prefix + name
        if topic in self.processors:
            raise ValueError(f"{name} is subscribed twice: one handler per topic")
        self.processors[topic] = BatchProcessor(
            subscription,
            sessions=self.sessions,
            catalog=self.catalog,
            group=self.settings.kafka_consumer_group,
            producer=self.settings.service_name,
            max_attempts=self.settings.handler_max_attempts,
            transient_retry_seconds=self.settings.transient_retry_seconds,
            max_record_bytes=self.settings.kafka_max_consumed_bytes,
            on_commit=self.committed,
            sender=sender,
        )

    def _consume_subscribed_topics(self) -> ReadAheadConsumer:
        """One Kafka consumer reads every subscribed topic and hands each its records: a process
        is one member of its group, so its start or stop is one rebalance, not one per topic."""
        processors = dict(self.processors)

        async def consume(batch: Sequence[ConsumerRecord[Any, Any]]) -> None:
            by_topic: dict[str, list[IncomingRecord]] = {}
            for record in batch:
                by_topic.setdefault(record.topic, []).append(IncomingRecord.from_kafka(record))
            await process_together([(processors[t], records) for t, records in by_topic.items()])

        batch_size = self.settings.kafka_consume_batch_size
        return ReadAheadConsumer(
            self._kafka_consumer(),
            list(processors),
            consume,
            max_batch=batch_size,
            max_queued=2 * batch_size,
            max_queued_bytes=self.settings.kafka_fetch_max_bytes,
            linger_seconds=self.settings.kafka_consume_batch_wait_ms / 1000,
        )

    def committed(self) -> None:
        """Something was committed: the relay and the workers may have work."""
        self.relay.wake()
        for worker in self.workers:
            worker.wake()

    def worker(self, name: str, step: Step, idle_seconds: float) -> WakeableLoop:
        """A loop that runs `step` after every commit, again while it returns True, and at
        least every `idle_seconds` (sending notices, dispatching tasks)."""
        loop = WakeableLoop(name, step, idle_seconds)
        self.workers.append(loop)
        return loop

    def on_start(self, job: Job) -> None:
        """Run `job` once after migrations, before consuming starts (e.g. seed reference data)."""
        self.startup.append(job)

    def every(self, seconds: float, name: str, job: Job) -> None:
        """Run `job` every `seconds` while the service runs (timers, deadlines, expiries).
        A failing run is logged and the next one happens as usual."""
        self.jobs.append((name, seconds, job))

    async def _run_job(self, name: str, seconds: float, job: Job) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                # Polling is not worth a trace; a job that acts starts its own spans.
                with telemetry.quiet():
                    await job()
            except Exception:
                log.exception("job %s failed", name)

    def checks(self) -> dict[str, Check]:
        async def database() -> object:
            async with self.engine.connect() as connection:
                return await connection.scalar(text("SELECT 1"))

        async def kafka() -> object:
            if self.reader is not None:
                return await self.reader.ping()
            if self.processors:
                raise RuntimeError("not consuming yet")
            return "nothing to consume"

        checks: dict[str, Check] = {"database": database, "kafka": kafka}
        if self.redis is not None:
            redis = self.redis

            async def redis_ping() -> object:
                return await redis.ping()

            checks["redis"] = redis_ping
        return checks

    async def start(self) -> None:
        self.tracer_provider = telemetry.setup_tracing(self.settings.service_name)
        SQLAlchemyInstrumentor().instrument(
            engine=self.engine.sync_engine,
            tracer_provider=self.tracer_provider,
            enable_commenter=False,
        )
        if self.redis is not None and not RedisInstrumentor().is_instrumented_by_opentelemetry:
            RedisInstrumentor().instrument(tracer_provider=self.tracer_provider)
        if self.settings.db_migrate_on_start and self.migrations_dir is not None:
            await upgrade_in_child(self.migrations_dir, self.settings.database_url)
        for job in self.startup:
            await job()
        if self.processors:
            self.reader = self._consume_subscribed_topics()
            await self.reader.start()
        self.relay.start()
        for worker in self.workers:
            worker.start()
        self._job_tasks = [
            asyncio.create_task(self._run_job(name, seconds, job), name=f"job-{name}")
            for name, seconds, job in self.jobs
        ]
        heap.settle_after_start(self.settings.gc_young_threshold)
        log.info("%s started: %d subscriptions", self.settings.service_name, len(self.processors))

    async def stop(self) -> None:
        for task in self._job_tasks:
            task.cancel()
        if self.reader is not None:
            await self.reader.stop(self.settings.shutdown_grace_seconds)
        for worker in self.workers:
            await worker.stop()
        published = await self.relay.stop()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        log.info(
            "%s stopped; published %d outbox rows on the way out",
            self.settings.service_name,
            published,
        )

    def http_app(
        self,
        *,
        title: str,
        routers: Sequence[APIRouter] = (),
        error_statuses: ErrorStatuses | None = None,
        identity: IdentitySettings | None = None,
        **fastapi: Any,
    ) -> FastAPI:
        """The service's HTTP app; its routes verify bearer tokens with `identity` (default:
        the AUTH_* environment), and without a key to verify them with it refuses to start."""
        verifier = Verifier(identity or IdentitySettings())

        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, lifespan=lifespan, **fastapi)
        app.state.runtime = self
        app.state.verifier = verifier
        install_error_handlers(app, error_statuses or {})
        app.include_router(health_router(self.checks()))
        if self.settings.clock_adjustable:
            app.include_router(clock_router(self.clock))
        for router in routers:
            app.include_router(router)
        document_common_answers(app)
        app.add_middleware(BodyLimit, max_bytes=self.settings.http_max_body_bytes)
        FastAPIInstrumentor.instrument_app(
            app,
            excluded_urls="healthz,readyz,metrics",
            # a span per request; its ASGI send and receive messages are not worth one each
            exclude_spans=["receive", "send"],
        )
        return app


def _check_registered_reader(service_name: str, topic: str) -> None:
    """A platform service reads a registry topic only if the registry names it a reader: its
    Kafka ACLs are made from the registry, so anything else would be refused by the broker."""
    spec = BY_NAME.get(topic)
    if spec is None or service_name not in {s.value for s in Service}:
        return
    if Service(service_name) not in spec.readers:
        raise ValueError(f"the topic registry does not name {service_name} a reader of {topic}")


def install_error_handlers(app: FastAPI, statuses: ErrorStatuses) -> None:
    """422 for invalid requests; for each error type a service maps, its status with the
    error's text as the detail (those texts must not hold personal data)."""
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for error_type, code in statuses.items():
        app.add_exception_handler(error_type, _answer_with(code))


async def http_error(request: Request, error: Exception) -> Response:
    """FastAPI's answer, except that a 405 names every method of the path in `Allow`: the
    methods of one path are separate routes, and Starlette names only the first one's."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        allowed = {
            method
            for route in request.app.router.routes
            if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE
            for method in route.methods or ()
        }
        error = StarletteHTTPException(405, error.detail, {"Allow": ", ".join(sorted(allowed))})
    return await http_exception_handler(request, error)


def _answer_with(code: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def answer(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=code)

    return answer


def invalid_value(location: tuple[str, ...], rule: str) -> RequestValidationError:
    """For a rule the request's schema cannot state: raise it, and the client gets the same 422
    shape as for any invalid field."""
    return RequestValidationError([{"loc": location, "msg": rule, "type": "value_error"}])


async def invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """422 naming each field and rule, without echoing the values (they can be personal data)."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return JSONResponse({"detail": problems}, status_code=422)


def build_app(
    settings: KitSettings,
    *,
    title: str,
    migrations_dir: Path,
    subscriptions: Sequence[Subscription] = (),
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The usual service: a runtime with these subscriptions, and its HTTP app."""
    runtime = Runtime(settings, migrations_dir=migrations_dir)
    for subscription in subscriptions:
        runtime.subscribe(subscription)
    return runtime.http_app(title=title, routers=routers)


def serve(app: FastAPI, settings: KitSettings) -> None:
    """Run the service until SIGTERM/SIGINT (uvicorn then runs the lifespan's shutdown)."""
    import uvicorn

    telemetry.setup_logging()
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
