"""The broker enforces the ACLs made from the topic registry: every client authenticates, and each
principal may do what its role needs and nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from gonghui_contracts.access import Partner, partner_principal, partner_topics
from gonghui_contracts.values import PartnerKind
from servicekit import kafka_identity
from servicekit.kafka_access import KafkaAccess, client_options
from servicekit.kafka_identity import Credentials

from .conftest import CREDENTIALS, KAFKA

pytestmark = pytest.mark.integration


def as_principal(name: str, password: str | None = None) -> dict[str, Any]:
    """aiokafka's options for `name`, with its password unless another is given."""
    password = CREDENTIALS.load()[name] if password is None else password
    return {
        "bootstrap_servers": KAFKA,
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
    admin = AIOKafkaAdminClient(**client_options(KAFKA))
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


async def fetched(principal: dict[str, Any], topic: str) -> int | str:
    """How many records `principal` fetches from partition 0 of `topic`, in no group; or the
    name of the error the broker answered with."""
    consumer = AIOKafkaConsumer(**principal, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        batches = await consumer.getmany(timeout_ms=3000)
        return sum(len(records) for records in batches.values())
    except KafkaError as error:
        return type(error).__name__
    finally:
        await consumer.stop()


async def test_a_partner_writes_its_own_intake_and_nothing_of_anyone_else(
    partners: tuple[Partner, Partner, dict[str, str]], topics: list[str]
) -> None:
    courier, hospital, passwords = partners
    me = as_principal(partner_principal(courier), passwords[partner_principal(courier)])
    hospitals = as_principal(partner_principal(hospital), passwords[partner_principal(hospital)])
    mine = f"partner.membership.join-requests.v1.{courier.partner_id}"
    theirs = f"partner.aid.injury-reports.v1.{hospital.partner_id}"
    assert await publish(me, mine) == "ok"
    assert await publish(me, theirs) == "TopicAuthorizationFailedError"
    assert await publish(me, "membership.events.v1") == "TopicAuthorizationFailedError"
    group = f"{courier.partner_id}.outcomes"  # a group under its own prefix
    my_outcomes = f"partner.membership.join-outcomes.v1.{courier.partner_id}"
    their_outcomes = f"partner.aid.injury-outcomes.v1.{hospital.partner_id}"
    # the services answer each partner on its own topic
    assert await publish(as_principal("svc-membership"), my_outcomes) == "ok"
    assert await publish(as_principal("svc-aid"), their_outcomes) == "ok"
    assert await read(me, my_outcomes, group) == 1
    assert await read(me, their_outcomes, group) == 0
    assert await read(hospitals, their_outcomes, f"{hospital.partner_id}.outcomes") == 1


async def test_a_service_writes_only_the_topics_it_produces_and_its_dead_letters(
    partners: tuple[Partner, Partner, dict[str, str]], topics: list[str]
) -> None:
    courier, _, passwords = partners
    notify, membership = as_principal("svc-notify"), as_principal("svc-membership")
    aid = as_principal("svc-aid")
    assert await publish(notify, "membership.events.v1") == "TopicAuthorizationFailedError"
    assert await publish(membership, "aid.events.v1") == "TopicAuthorizationFailedError"
    intake = f"partner.membership.join-requests.v1.{courier.partner_id}"
    assert await publish(membership, intake) == "TopicAuthorizationFailedError"
    assert await publish(membership, intake + ".dlq") == "ok"  # dead letters of what it reads
    assert await publish(aid, intake + ".dlq") == "TopicAuthorizationFailedError"
    # only the operator reads dead letters (to replay them): not the service that wrote them,
    # nor the partner whose message it was
    # (the one dead letter is there: a refused reader gets an error, or aiokafka logs the
    # refusal and fetches nothing)
    assert await fetched(as_principal("operator"), intake + ".dlq") == 1
    refused = (0, "TopicAuthorizationFailedError")
    assert await fetched(membership, intake + ".dlq") in refused
    me = as_principal(partner_principal(courier), passwords[partner_principal(courier)])
    assert await fetched(me, intake + ".dlq") in refused


async def test_a_client_without_credentials_or_with_wrong_ones_is_refused(
    partners: tuple[Partner, Partner, dict[str, str]],
) -> None:
    courier, _, _ = partners
    anonymous = AIOKafkaProducer(bootstrap_servers=KAFKA, request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):
        await anonymous.start()
    await anonymous.stop()
    wrong = as_principal(partner_principal(courier), "not-the-password")
    assert await publish(wrong, "membership.events.v1") != "ok"
