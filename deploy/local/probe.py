"""Ask one part of the local stack whether it answers, and print what it says it is.

    probe.py kafka|postgres|redis|zipkin HOST:PORT

Exit status 0 and one line (version and a detail) when the part answers; 1 otherwise.
Used by stack.sh to wait for each part and for `make status`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.request
from pathlib import Path

STATE_DIR = Path(
    os.environ.get("GONGHUI_STATE_DIR", Path(__file__).resolve().parents[2] / ".local")
)
KAFKA_JAR_DIR = STATE_DIR / "jars" / "kafka"


def kafka_version() -> str:
    jars = sorted(KAFKA_JAR_DIR.glob("kafka_2.13-*.jar"))
    return jars[-1].stem.removeprefix("kafka_2.13-") if jars else "?"


async def kafka(address: str) -> str:
    from aiokafka.admin import AIOKafkaAdminClient

    from servicekit.kafka_access import client_options

    # as the KAFKA_SECURITY_PROTOCOL / KAFKA_SASL_* principal of the environment
    admin = AIOKafkaAdminClient(**client_options(address), request_timeout_ms=3000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        topics = await admin.list_topics()
    finally:
        await admin.close()
    return (
        f"Apache Kafka {kafka_version()} (KRaft), cluster {cluster['cluster_id']}, "
        f"controller {cluster['controller_id']}, {len(topics)} topics"
    )


async def postgres(address: str) -> str:
    import asyncpg

    host, port = address.rsplit(":", 1)
    conn = await asyncpg.connect(host=host, port=int(port), user="postgres", timeout=3)
    try:
        version = await conn.fetchval("SHOW server_version")
        databases = await conn.fetchval(
            "SELECT count(*) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'"
        )
    finally:
        await conn.close()
    return f"PostgreSQL {version}, {databases} databases"


async def redis(address: str) -> str:
    from redis.asyncio import Redis

    host, port = address.rsplit(":", 1)
    client = Redis(host=host, port=int(port), socket_timeout=3)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    return f"Redis {info['redis_version']}"


async def zipkin(address: str) -> str:
    def get(path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=3) as response:
            return dict(json.load(response))

    health = await asyncio.to_thread(get, "/health")
    if health.get("status") != "UP":
        raise RuntimeError(f"zipkin health: {health}")
    info = await asyncio.to_thread(get, "/info")
    version = dict(info.get("zipkin", {})).get("version", "?")  # type: ignore[call-overload]
    return f"Zipkin {version}, UI http://{address}/zipkin/"


PROBES = {"kafka": kafka, "postgres": postgres, "redis": redis, "zipkin": zipkin}


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in PROBES:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(asyncio.run(asyncio.wait_for(PROBES[sys.argv[1]](sys.argv[2]), timeout=8)))
    except Exception as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
