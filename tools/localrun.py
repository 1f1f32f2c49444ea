"""Run the platform's services on this machine against the local stack (`make up`).

    python tools/localrun.py start [SERVICE...]   start services not yet running; wait until ready
    python tools/localrun.py stop  [SERVICE...]   SIGTERM (graceful), SIGKILL after 30 s
    python tools/localrun.py status               one line per service; exit 1 if any is down
    python tools/localrun.py reset                stop all, empty their databases and topics

Each service runs as its own process with its own database, logs to .local/logs/<service>.log
and its pid in .local/run/<service>.pid.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import typer

from gonghui_contracts.access import Partner, partner_principal
from servicekit.kafka_access import KafkaAccess, client_options
from servicekit.kafka_identity import Credentials
from servicekit.partners import read_partners
from servicekit.tokens import LocalTokens

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("GONGHUI_STATE_DIR", ROOT / ".local"))
RUN, LOGS = STATE / "run", STATE / "logs"
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
PG_PORT = os.environ.get("GONGHUI_PG_PORT", "15432")
REDIS_PORT = os.environ.get("GONGHUI_REDIS_PORT", "16379")
ZIPKIN = f"http://127.0.0.1:{os.environ.get('GONGHUI_ZIPKIN_PORT', '9411')}"
NOTICE_SINK = STATE / "notices.jsonl"
PAYMENT_SINK = STATE / "payments.jsonl"
PARTNERS_FILE = ROOT / "deploy" / "local" / "partners.json"
# Every Kafka client authenticates as its principal (`make up` made their passwords): the
# services as their own, the tools as the operator, a partner's messages as that partner.
CREDENTIALS = Credentials(STATE / "kafka" / "credentials.json")
if CREDENTIALS.path.exists():
    os.environ.update(
        CREDENTIALS.environment("operator", KafkaAccess(kafka_bootstrap_servers=KAFKA))
    )

app = typer.Typer(help=__doc__, no_args_is_help=True)


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    redis_db: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return RUN / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOGS / f"{self.name}.log"


SERVICES = {
    s.name: s
    for s in (
        Service("membership", 8101, 1),
        Service("aid", 8102, 2),
        Service("legal", 8103, 3),
        Service("skills", 8104, 4),
        Service("notify", 8105, 5),
    )
}


def pii_keys() -> str:
    """The local stack's personal-data key ring (PII_KEYS), made once with one random key and
    readable by its owner only; production takes it from a secret. Add a key here to rehearse a
    rotation (`servicekit pii`)."""
    path = STATE / "pii-keys.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        ring = json.dumps({"1": base64.b64encode(os.urandom(32)).decode()})
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made meanwhile by another start
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as file:
            file.write(ring)
    return path.read_text().strip()


def local_tokens() -> LocalTokens:
    """The local stack's token signing key (`servicekit token keygen`, made once under
    .local/token/): the services verify with its public key, the demo's apps mint with it."""
    return LocalTokens(STATE / "token")


class NoticeSink:
    """Follows the notice sink file (JSON lines) as it grows, reading each line once."""

    def __init__(self, *, from_end: bool = False) -> None:
        """From the file's start, or (`from_end`) from its end now: what comes after."""
        self.offset = NOTICE_SINK.stat().st_size if from_end and NOTICE_SINK.exists() else 0
        self.seen: list[dict[str, object]] = []

    def read(self) -> list[dict[str, object]]:
        import json

        if NOTICE_SINK.exists():
            with NOTICE_SINK.open("rb") as sink:
                sink.seek(self.offset)
                chunk = sink.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            self.seen.extend(json.loads(line) for line in complete.splitlines())
        return self.seen


@cache
def partners() -> dict[str, Partner]:
    """The local partner directory, by id (read once: the tools look partners up per message)."""
    return {p.partner_id: p for p in read_partners(PARTNERS_FILE)}


def partner(partner_id: str) -> Partner:
    """A partner of the local directory."""
    return partners()[partner_id]


def partner_options(sender: Partner) -> dict[str, Any]:
    """aiokafka's options for a client of `sender`, as its own principal."""
    access = KafkaAccess(kafka_bootstrap_servers=KAFKA)
    return CREDENTIALS.access(partner_principal(sender), access).client_options()


def environment(service: Service, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "SERVICE_NAME": service.name,
        "HTTP_PORT": str(service.port),
        **CREDENTIALS.environment(
            f"svc-{service.name}", KafkaAccess(kafka_bootstrap_servers=KAFKA)
        ),
        "PARTNERS_FILE": str(PARTNERS_FILE),
        "DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{PG_PORT}/{service.name}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/{service.redis_db}",
        "OTEL_TRACES_EXPORTER": os.environ.get("OTEL_TRACES_EXPORTER", "zipkin"),
        "OTEL_EXPORTER_ZIPKIN_ENDPOINT": f"{ZIPKIN}/api/v2/spans",
        "PII_KEYS": pii_keys(),
        **local_tokens().service_env(),
        "NOTIFY_SINK_PATH": str(NOTICE_SINK),
        "PAYMENT_SINK_PATH": str(PAYMENT_SINK),
        **(extra or {}),
    }


def running(service: Service) -> int | None:
    try:
        pid = int(service.pid_file.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def ready(service: Service) -> bool:
    try:
        return httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_service(service: Service, extra: dict[str, str] | None = None) -> None:
    if running(service):
        return
    RUN.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    with service.log_file.open("a") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", f"{service.name}.main"],
            env=environment(service, extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service.pid_file.write_text(str(process.pid))


def wait_ready(services: list[Service], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    for service in services:
        while not ready(service):
            if not running(service):
                raise SystemExit(f"{service.name} exited during start; its log: {service.log_file}")
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{service.name} not ready in {timeout:.0f}s; its log: {service.log_file}"
                )
            time.sleep(0.3)


def stop_service(service: Service, grace: float = 30) -> None:
    pid = running(service)
    if pid is None:
        service.pid_file.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while running(service) and time.monotonic() < deadline:
        time.sleep(0.2)
    if running(service):
        os.kill(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)


def chosen(names: list[str] | None) -> list[Service]:
    unknown = set(names or []) - set(SERVICES)
    if unknown:
        raise typer.BadParameter(f"unknown services: {', '.join(sorted(unknown))}")
    return [SERVICES[n] for n in names] if names else list(SERVICES.values())


@app.command()
def start(names: list[str] | None = typer.Argument(None)) -> None:  # noqa: B008
    services = chosen(names)
    for service in services:
        start_service(service)
    wait_ready(services)
    for service in services:
        typer.echo(f"{service.name:<11} ready  {service.url}/docs")


@app.command()
def stop(names: list[str] | None = typer.Argument(None)) -> None:  # noqa: B008
    for service in chosen(names):
        stop_service(service)


@app.command()
def status() -> None:
    down = False
    for service in SERVICES.values():
        state = "ready" if ready(service) else ("starting" if running(service) else "down")
        down = down or state != "ready"
        typer.echo(f"{service.name:<11} {state:<9} {service.url}")
    raise typer.Exit(1 if down else 0)


@app.command()
def reset() -> None:
    """Stop every service, then empty their databases, Redis and the topics (a clean replay)."""
    for service in SERVICES.values():
        stop_service(service)
    asyncio.run(_reset_state())
    NOTICE_SINK.unlink(missing_ok=True)
    PAYMENT_SINK.unlink(missing_ok=True)


async def _reset_state() -> None:
    import asyncpg
    from redis.asyncio import Redis

    from gonghui_contracts import TOPICS
    from gonghui_contracts.access import topic_names
    from servicekit.topics_admin import ensure_topics, existing_topics

    admin = await asyncpg.connect(
        host="127.0.0.1", port=int(PG_PORT), user="postgres", database="postgres"
    )
    try:
        for name in SERVICES:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    redis = Redis(host="127.0.0.1", port=int(REDIS_PORT))
    await redis.flushall()
    await redis.aclose()
    from aiokafka.admin import AIOKafkaAdminClient

    directory = list(partners().values())
    names = set(topic_names(directory))
    kafka = AIOKafkaAdminClient(**client_options(KAFKA))
    await kafka.start()
    try:
        present = names & await existing_topics(KAFKA)
        if present:
            await kafka.delete_topics(list(present))
        for _ in range(50):  # deletion is asynchronous on the broker
            if not names & await existing_topics(KAFKA):
                break
            await asyncio.sleep(0.2)
    finally:
        await kafka.close()
    await ensure_topics(KAFKA, TOPICS, partners=directory)


if __name__ == "__main__":
    app()
