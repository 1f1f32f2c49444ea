"""The broker enforces the ACLs made from the topic registry: on the SASL listener each principal
may do what its role needs and nothing more (issue: who may write what)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from gonghui_contracts.access import Partner, partner_principal, partner_topics
from gonghui_contracts.values import PartnerKind
from servicekit import kafka_identity
from servicekit.kafka_access import KafkaAccess
from servicekit.kafka_identity import Credentials

from .conftest import KAFKA, ROOT

pytestmark = pytest.mark.integration
SASL = f"127.0.0.1:{os.environ.get('GONGHUI_KAFKA_SASL_PORT', '19094')}"
STATE = Path(os.environ.get("GONGHUI_STATE_DIR", ROOT / ".local"))
PLATFORM_CREDENTIALS = Path(
    os.environ.get("KAFKA_CREDENTIALS_FILE", STATE / "kafka" / "credentials.json")
)


def as_principal(name: str, password: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": SASL,
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": name,
        "sasl_plain_password": password,
        "request_timeout_ms": 10_000,
    }


def servicekit(*args: str) -> str:
    command = [str(Path(sys.executable).with_name("servicekit")), *args]
    environment = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": KAFKA, "COLUMNS": "300"}
    return subprocess.run(
        command, capture_output=True, text=True, check=True, env=environment
    ).stdout


@pytest.fixture
def partners(tmp_path: Path) -> Iterator[tuple[Partner, Partner, dict[str, str]]]:
    """Two partners of this test's own, added as an operator adds one (`servicekit partner
    add`: user, ACLs, topics); withdrawn afterwards."""
    tag = uuid.uuid4().hex[:8]
    courier = Partner(f"it-{tag}-courier", PartnerKind.PLATFORM_UNION)
    hospital = Partner(f"it-{tag}-hospital", PartnerKind.HOSPITAL)
    credentials = tmp_path / "partners.json"
    for partner in (courier, hospital):
        said = servicekit(
            "partner",
            "add",
            partner.partner_id,
            "--kind",
            partner.kind.value,
            "--credentials",
            str(credentials),
        )
        assert f"{len(partner_topics(partner))} topics created" in said
    yield courier, hospital, Credentials(credentials).load()
    kafka_identity.withdraw(KafkaAccess(kafka_bootstrap_servers=KAFKA), [courier, hospital])


@pytest.fixture
async def topics(partners: tuple[Partner, Partner, dict[str, str]]) -> AsyncIterator[list[str]]:
    courier, hospital, _ = partners
    names = partner_topics(courier) + partner_topics(hospital)
    yield names
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    await admin.delete_topics(names)
    await admin.close()


async def publish(principal: dict[str, Any], topic: str) -> str:
    """'ok', or the name of the error the broker answered with."""
    producer = AIOKafkaProducer(**principal)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"k")
    except KafkaError as error:
        return type(error).__name__
    finally:
        await producer.stop()
    return "ok"


async def read(principal: dict[str, Any], topic: str, group: str) -> int:
    """How many records `principal` reads from `topic` in a few seconds (an unauthorized
    reader gets none: aiokafka logs the broker's refusal and fetches nothing)."""
    consumer = AIOKafkaConsumer(
        **principal, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.subscribe([topic])
        batches = await consumer.getmany(timeout_ms=5000)
        return sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()


async def answer(topic: str) -> None:
    """An outcome on a partner's topic, published by the platform (as a super user)."""
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"k")
    finally:
        await producer.stop()


async def test_a_partner_writes_its_own_intake_and_nothing_of_anyone_else(
    partners: tuple[Partner, Partner, dict[str, str]], topics: list[str]
) -> None:
    courier, hospital, passwords = partners
    me = as_principal(partner_principal(courier), passwords[partner_principal(courier)])
    mine = f"partner.membership.join-requests.v1.{courier.partner_id}"
    theirs = f"partner.aid.injury-reports.v1.{hospital.partner_id}"
    assert await publish(me, mine) == "ok"
    assert await publish(me, theirs) == "TopicAuthorizationFailedError"
    assert await publish(me, "membership.events.v1") == "TopicAuthorizationFailedError"
    group = f"{courier.partner_id}.outcomes"  # a group under its own prefix
    my_outcomes = f"partner.membership.join-outcomes.v1.{courier.partner_id}"
    their_outcomes = f"partner.aid.injury-outcomes.v1.{hospital.partner_id}"
    await answer(my_outcomes)
    await answer(their_outcomes)
    assert await read(me, my_outcomes, group) == 1
    assert await read(me, their_outcomes, group) == 0


async def test_a_service_writes_only_the_topics_it_produces_and_its_dead_letters(
    partners: tuple[Partner, Partner, dict[str, str]], topics: list[str]
) -> None:
    courier, _, _ = partners
    passwords = json.loads(PLATFORM_CREDENTIALS.read_bytes())  # noqa: ASYNC240
    notify = as_principal("svc-notify", passwords["svc-notify"])
    membership = as_principal("svc-membership", passwords["svc-membership"])
    aid = as_principal("svc-aid", passwords["svc-aid"])
    assert await publish(notify, "membership.events.v1") == "TopicAuthorizationFailedError"
    assert await publish(membership, "aid.events.v1") == "TopicAuthorizationFailedError"
    intake = f"partner.membership.join-requests.v1.{courier.partner_id}"
    assert await publish(membership, intake) == "TopicAuthorizationFailedError"
    assert await publish(membership, intake + ".dlq") == "ok"  # dead letters of what it reads
    assert await publish(aid, intake + ".dlq") == "TopicAuthorizationFailedError"


async def test_a_client_without_credentials_or_with_wrong_ones_is_refused(
    partners: tuple[Partner, Partner, dict[str, str]],
) -> None:
    courier, _, _ = partners
    anonymous = AIOKafkaProducer(bootstrap_servers=SASL, request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await anonymous.start()
    await anonymous.stop()
    wrong = as_principal(partner_principal(courier), "not-the-password")
    assert await publish(wrong, "membership.events.v1") != "ok"
