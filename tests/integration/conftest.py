"""Fixtures for tests against the real local stack (`make up`): Kafka, PostgreSQL, Redis, Zipkin."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gonghui_contracts import TOPICS, samples
from gonghui_contracts.access import (
    Partner,
    partner_principal,
    partner_topic,
    platform_grants,
    with_prefix,
)
from gonghui_contracts.topics import topic as registry_topic
from gonghui_contracts.values import PartnerKind
from servicekit import kafka_identity, telemetry
from servicekit.identity import Role
from servicekit.kafka_access import KafkaAccess, client_options
from servicekit.kafka_identity import Credentials
from servicekit.partners import write_partners
from servicekit.tokens import LocalTokens
from servicekit.topics_admin import ensure_topics, reader_from_start

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
PG_PORT = os.environ.get("GONGHUI_PG_PORT", "15432")
REDIS_URL = f"redis://127.0.0.1:{os.environ.get('GONGHUI_REDIS_PORT', '16379')}/0"
ZIPKIN = f"http://127.0.0.1:{os.environ.get('GONGHUI_ZIPKIN_PORT', '9411')}"
STATE = Path(os.environ.get("GONGHUI_STATE_DIR", ROOT / ".local"))
# Every Kafka client authenticates: the local stack's principals and their passwords (`make
# up`). The tests themselves act as the operator; each service started here as its own
# principal, each partner's messages are sent as that partner.
CREDENTIALS = Credentials(
    Path(os.environ.get("KAFKA_CREDENTIALS_FILE", STATE / "kafka" / "credentials.json"))
)
if CREDENTIALS.path.exists():
    os.environ.update(
        CREDENTIALS.environment("operator", KafkaAccess(kafka_bootstrap_servers=KAFKA))
    )
SF = Partner("sf-express-guangzhou", PartnerKind.PLATFORM_UNION)
HOTLINE = Partner("gz-12351", PartnerKind.HOTLINE_12351)
COURT = Partner("gz-intermediate-court", PartnerKind.COURT)
ARBITRATION = Partner("gz-labour-arbitration", PartnerKind.ARBITRATION)
BUREAU = Partner("gz-medical-insurance", PartnerKind.MEDICAL_INSURANCE)
GATEWAY = Partner("sz-i-gong", PartnerKind.APP_GATEWAY)


def hospital(number: int) -> Partner:
    """A designated hospital of the local partner directory (sz-h-001 … sz-h-087)."""
    return Partner(f"sz-h-{number:03d}", PartnerKind.HOSPITAL)


# One partition for each partner's own topic on a test platform: a test may have dozens of
# partners, and this machine two cores (ordering per key does not depend on the count).
PARTNER_PARTITIONS = 1
# The partners a test platform has unless it asks for others: each has its own topics there.
PARTNERS = (SF, HOTLINE, COURT, ARBITRATION, hospital(16), hospital(50), hospital(61))
# Every service started here gets this run's own personal-data key ring (a service without a
# key refuses to start); a test may override it in the service's env.
PII_ENV = {"PII_KEYS": json.dumps({"1": base64.b64encode(os.urandom(32)).decode()})}
# This run's own token signing key: every service started here verifies its tokens.
TOKENS = LocalTokens(Path(tempfile.mkdtemp(prefix="gonghui-tokens-")))
AUTH_ENV = TOKENS.service_env()
Headers = dict[str, str]


def as_operator() -> Headers:
    return TOKENS.headers(Role.OPERATOR, subject="it-operator")


def as_staff(union: str = "440000", subject: str = "it-staff") -> Headers:
    """Union staff: of the province by default, or of a city's or district's union."""
    return TOKENS.headers(Role.STAFF, subject=subject, union=union)


def as_staff_operator() -> Headers:
    """The province union's staff who is also an operator: the tests' default caller."""
    return TOKENS.headers(Role.STAFF, Role.OPERATOR, subject="it-staff", union="440000")


def as_visitor(visitor_id: str) -> Headers:
    return TOKENS.headers(Role.VISITOR, subject=visitor_id)


def as_lawyer(lawyer_id: str) -> Headers:
    return TOKENS.headers(Role.LAWYER, subject=lawyer_id)


def as_member(member_id: str | None = None, resident_id: str | None = None) -> Headers:
    """A member's app account: the member it has joined as, the resident ID it was verified
    with."""
    return TOKENS.headers(
        Role.MEMBER,
        subject=f"app-{uuid.uuid4().hex[:12]}",
        member_id=member_id,
        resident_id=resident_id,
    )


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def tracing_env(service_name: str) -> dict[str, str]:
    return {
        "SERVICE_NAME": service_name,
        "OTEL_TRACES_EXPORTER": "zipkin",
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{ZIPKIN}/api/v2/spans",
    }


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{PG_PORT}/{database}"


@pytest.fixture(scope="session", autouse=True)
def stack_is_up() -> None:
    result = subprocess.run(
        [str(ROOT / "deploy/local/stack.sh"), "status"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"the local stack is not up (run `make up`):\n{result.stdout}{result.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def new_database() -> AsyncIterator[Any]:
    """Makes throwaway PostgreSQL databases, so every test starts from empty tables."""
    import asyncpg

    admin = await asyncpg.connect(
        host="127.0.0.1", port=int(PG_PORT), user="postgres", database="postgres"
    )
    made: list[str] = []

    async def make(prefix: str) -> str:
        name = f"it_{prefix}_{uuid.uuid4().hex[:10]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return pg_url(name)

    yield make
    for name in made:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def new_topic() -> AsyncIterator[Any]:
    """Makes throwaway topics (and their .dlq twins); deletes them afterwards."""
    admin = AIOKafkaAdminClient(**client_options(KAFKA))
    await admin.start()
    made: list[str] = []

    async def make(prefix: str, partitions: int = 3) -> str:
        name = f"it.{prefix}.{uuid.uuid4().hex[:10]}"
        await admin.create_topics([NewTopic(name, partitions, 1), NewTopic(name + ".dlq", 1, 1)])
        made.extend([name, name + ".dlq"])
        return name

    yield make
    await admin.delete_topics(made)
    await admin.close()


@pytest.fixture
async def registry_topics() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """`prefix = await registry_topics(partners)`: every topic of the registry (of a partner
    family, each partner's own), under a prefix of this test's own, with the registry's ACLs
    for these names; deleted and revoked afterwards. (Ask for it before `services`, so that the
    services are stopped before their topics go.)"""
    made: list[tuple[str, list[Any]]] = []
    operator = KafkaAccess(kafka_bootstrap_servers=KAFKA)

    async def make(partners: Iterable[Partner] = PARTNERS) -> str:
        prefix = f"it{uuid.uuid4().hex[:8]}."
        grants = with_prefix(platform_grants(partners), prefix)
        made.append((prefix, grants))
        partners = list(partners)
        await ensure_topics(
            KAFKA, TOPICS, prefix=prefix, partners=partners, partner_partitions=PARTNER_PARTITIONS
        )
        await asyncio.to_thread(kafka_identity.grant, operator, grants)
        return prefix

    yield make
    admin = AIOKafkaAdminClient(**client_options(KAFKA))
    await admin.start()
    try:
        prefixes = tuple(prefix for prefix, _ in made)
        names = [t for t in await admin.list_topics() if t.startswith(prefixes)] if made else []
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
    for _, grants in made:
        await asyncio.to_thread(kafka_identity.revoke, operator, grants)


def kafka_properties(partner: Partner, path: Path) -> Path:
    """A librdkafka configuration file (kcat -F) for a client of `partner`, readable by its
    owner only."""
    access = CREDENTIALS.access(partner_principal(partner))
    lines = [
        f"security.protocol={access.kafka_security_protocol}",
        f"sasl.mechanisms={access.kafka_sasl_mechanism}",
        f"sasl.username={access.kafka_sasl_username}",
        f"sasl.password={access.kafka_sasl_password.get_secret_value()}",
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write("\n".join(lines) + "\n")
    return path


def partner_options(partner: Partner) -> dict[str, Any]:
    """aiokafka's options for a client of `partner`: as its own principal."""
    access = KafkaAccess(kafka_bootstrap_servers=KAFKA)
    return CREDENTIALS.access(partner_principal(partner), access).client_options()


async def publish(
    topic: str,
    value: bytes,
    *,
    key: bytes | None = None,
    headers: dict[str, str] | None = None,
    partition: int | None = None,
    sender: Partner | None = None,
) -> None:
    """Publish one record, as `sender` if given (else as the operator)."""
    options = partner_options(sender) if sender else client_options(KAFKA)
    producer = AIOKafkaProducer(**options, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value,
            key=key,
            partition=partition,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )
    finally:
        await producer.stop()


async def publish_many(
    topic: str, messages: list[tuple[bytes, bytes]], *, sender: Partner | None = None
) -> None:
    """Publish (key, value) pairs with one producer, as a partner's batch upload would (as
    `sender` if given, else as the operator)."""
    options = partner_options(sender) if sender else client_options(KAFKA)
    producer = AIOKafkaProducer(**options, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def read_topic(
    topic: str, *more: str, expect: int, timeout: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Everything on `topic` (and `more` topics) from the start, waiting until at least `expect`
    records arrived (and a short while longer, so that an unexpected extra record would be seen
    too)."""
    consumer, _ = await reader_from_start(KAFKA, topic, *more)
    try:
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            for batch in batches.values():
                records.extend(batch)
            if len(records) >= expect:
                settle_until = settle_until or time.monotonic() + 1.5
                if time.monotonic() >= settle_until:
                    break
        return records
    finally:
        await consumer.stop()


@dataclass
class ServiceProcess:
    """A service run as a real OS process, as in production."""

    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['HTTP_PORT']}"

    def start(self, wait: bool = True) -> None:
        assert self.log_path is not None
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            self.command,
            env={**os.environ, **PII_ENV, **AUTH_ENV, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"service exited with {self.process.returncode}; log: {self.log_path}"
                )
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"service not ready in {timeout}s; log: {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, exactly like a crashed pod."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Any]:
    started: list[ServiceProcess] = []

    def make(command: list[str], env: dict[str, str]) -> ServiceProcess:
        name = env.get("SERVICE_NAME", Path(command[-1]).stem)
        proc = ServiceProcess(command, {"HTTP_PORT": str(free_port()), **env})
        proc.log_path = tmp_path / f"{name}.log"
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


@dataclass
class Platform:
    """Some of the platform's services, on topics of their own and fresh databases."""

    prefix: str
    services: dict[str, ServiceProcess]
    databases: dict[str, str]
    sink: Path

    def topic(self, name: str) -> str:
        return self.prefix + name

    def partner_topic(self, family: str, partner: Partner) -> str:
        """The partner's own topic of a registry family, on this platform."""
        return self.prefix + partner_topic(registry_topic(family), partner.partner_id)

    async def send(
        self,
        family: str,
        sender: Partner,
        value: bytes,
        *,
        key: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        """One record published by `sender`, as itself, on its own topic of `family`."""
        topic = self.partner_topic(family, sender)
        await publish(topic, value, key=key, headers=headers, sender=sender)

    async def send_batch(
        self, family: str, sender: Partner, messages: list[tuple[bytes, bytes]]
    ) -> None:
        """(key, value) pairs published by `sender` with one producer, on its own topic."""
        await publish_many(self.partner_topic(family, sender), messages, sender=sender)

    def url(self, service: str) -> str:
        return self.services[service].url

    def notices(self) -> list[dict[str, Any]]:
        if not self.sink.exists():
            return []
        return [json.loads(line) for line in self.sink.read_text("utf-8").splitlines()]

    async def call(
        self, service: str, method: str, path: str, body: Any = None, *, as_: Headers | None = None
    ) -> httpx.Response:
        """One HTTP request to a service's API, with the token of `as_` (`as_visitor(id)`,
        ...; `{}`: none); by default as the province union's staff, also operator."""
        headers = as_ if as_ is not None else as_staff_operator()
        async with httpx.AsyncClient(base_url=self.url(service), timeout=30) as client:
            return await client.request(method, path, json=body, headers=headers)

    async def once_set(self, service: str, path: str, field: str, timeout: float = 30) -> str:
        """`field` of the resource at `path`, once it is set (a case's lawyer, its visitor)."""

        async def found() -> Any:
            return (await self.call(service, "GET", path)).json()[field]

        value = await eventually(found, timeout=timeout)
        assert value, f"{path} has no {field} after {timeout:.0f}s"
        return str(value)

    async def sql(self, service: str, query: str, *args: Any) -> list[Any]:
        connection = await asyncpg.connect(
            self.databases[service].replace("postgresql+asyncpg", "postgresql")
        )
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()


async def events_on(platform: Platform, topic: str, expect: int) -> list[dict[str, Any]]:
    """The events on one of the platform's topics, from its start (waiting for `expect`)."""
    return [json.loads(r.value) for r in await read_topic(platform.topic(topic), expect=expect)]


StartPlatform = Callable[..., Awaitable[Platform]]


def service_kafka_env(service: str) -> dict[str, str]:
    """A service's KAFKA_* settings: as its own principal."""
    access = KafkaAccess(kafka_bootstrap_servers=KAFKA)
    return CREDENTIALS.environment(f"svc-{service}", access)


@pytest.fixture
async def start_platform(
    registry_topics: Any, new_database: Any, services: Any, tmp_path: Path
) -> StartPlatform:
    """`await start_platform(("aid", "notify"), {"ENV": "value"})`: those services started as
    processes, each as its own Kafka principal, with every topic of the registry created under
    a prefix of their own (a partner family's for each of `partners`, default PARTNERS)."""

    async def start(
        names: tuple[str, ...], env: dict[str, str], partners: Iterable[Partner] = PARTNERS
    ) -> Platform:
        partners = list(partners)
        prefix = await registry_topics(partners)
        directory = tmp_path / f"partners-{prefix}json"
        write_partners(directory, partners)
        databases = {name: await new_database(name) for name in names}
        sink = tmp_path / "notices.jsonl"
        started = {}
        for name in names:
            started[name] = services(
                python("-m", f"{name}.main"),
                {
                    **tracing_env(name),
                    **service_kafka_env(name),
                    "PARTNERS_FILE": str(directory),
                    "KAFKA_TOPIC_PREFIX": prefix,
                    "DATABASE_URL": databases[name],
                    "REDIS_URL": REDIS_URL,
                    "NOTIFY_SINK_PATH": str(sink),
                    # a group of its own: tests run at once never rebalance each other
                    "KAFKA_CONSUMER_GROUP": prefix + name,
                    **env,
                },
            )
            started[name].start()
        return Platform(prefix, started, databases, sink)

    return start


async def eventually(check: Any, timeout: float = 30.0, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check() if asyncio.iscoroutinefunction(check) else check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


@contextmanager
def partner_span(
    name: str, service_name: str = "it-partner"
) -> Iterator[tuple[str, dict[str, str]]]:
    """A PRODUCER span as a partner's system would make it, exported to Zipkin; yields its
    trace id and the headers that carry it."""
    from opentelemetry.propagate import inject
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(
        SimpleSpanProcessor(telemetry.zipkin_exporter(f"{ZIPKIN}/api/v2/spans"))
    )
    with provider.get_tracer("it").start_as_current_span(name, kind=SpanKind.PRODUCER) as span:
        headers: dict[str, str] = {}
        inject(headers)
        yield format(span.get_span_context().trace_id, "032x"), headers
    provider.shutdown()


async def zipkin_spans(trace_id: str) -> dict[str, list[str]]:
    """Span names by service name, for one trace as Zipkin's HTTP API returns it."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{ZIPKIN}/api/v2/trace/{trace_id}")
    found: dict[str, list[str]] = {}
    if response.status_code == 200:
        for item in response.json():
            found.setdefault(item["localEndpoint"]["serviceName"], []).append(item["name"])
    return found


async def trace_holding(
    trace_id: str, wanted: Mapping[str, Iterable[str]], timeout: float = 60.0
) -> dict[str, list[str]]:
    """The trace's span names by service, once Zipkin holds every span name `wanted` lists for
    each service (a service listed with no names: any span of it). Services export in batches
    every few seconds; if the trace is still short after `timeout`, the error says what is
    missing and what Zipkin holds, and whether Zipkin dropped spans it received."""
    deadline = time.monotonic() + timeout
    while True:
        found = await zipkin_spans(trace_id)
        missing = {
            service: sorted(set(names) - set(found.get(service, []))) or ["any span"]
            for service, names in wanted.items()
            if service not in found or not set(names) <= set(found[service])
        }
        if not missing:
            return found
        if time.monotonic() > deadline:
            held = {service: len(names) for service, names in found.items()}
            raise AssertionError(
                f"trace {trace_id} after {timeout:.0f}s lacks {missing}; Zipkin holds spans "
                f"{held} of it; {await zipkin_dropped()}"
            )
        await asyncio.sleep(0.5)


async def zipkin_dropped() -> str:
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{ZIPKIN}/prometheus")).text
    dropped = [
        line for line in metrics.splitlines() if line.startswith("zipkin_collector_spans_dropped")
    ]
    return "; ".join(dropped) or "no drop counters"


def random_resident_id() -> str:
    """A valid, random resident ID of an adult, so tests on shared topics never meet each other."""
    return samples.adult_resident_id(random.SystemRandom())
