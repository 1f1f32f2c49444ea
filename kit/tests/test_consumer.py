"""The batch consumer against a real SQLite database: inbox, savepoints, dead letters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Column, Integer, String, Table, func, insert, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gonghui_contracts import Catalog, ContractViolation, Envelope, EventPayload, RawEnvelope
from gonghui_contracts.access import Partner
from gonghui_contracts.events import InjuryReportOutcome, PatientDischarged
from gonghui_contracts.topics import AID_INJURY_REPORTS
from gonghui_contracts.values import PartnerKind
from servicekit import BatchProcessor, PermanentError, Settled, Subscription, Unit, each, telemetry
from servicekit.consumer import REPLAY_HEADER, process_together
from servicekit.db import new_metadata
from servicekit.testing import outbox_rows, record, sqlite_sessions

TOPIC = "test.in.v1"


class Ask(EventPayload):
    EVENT_TYPE = "test.ask"
    n: int
    fail: str = ""


class Answer(EventPayload):
    EVENT_TYPE = "test.answer"
    n: int


catalog = Catalog([Ask, Answer])
metadata = new_metadata()
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("n", Integer),
    Column("note", String(20)),
)


class Handler:
    def __init__(self) -> None:
        self.calls = 0
        self.transient_failures = 0
        self.rejected: list[list[str]] = []

    async def __call__(self, unit: Unit, event: Envelope[Any]) -> None:
        self.calls += 1
        await unit.session.execute(insert(effects).values(n=event.data.n))
        if self.transient_failures:
            self.transient_failures -= 1
            raise OperationalError("SELECT 1", {}, ConnectionError("database went away"))
        if event.data.fail == "permanent":
            raise PermanentError("cannot ever do this")
        if event.data.fail == "bug":
            raise KeyError("a bug")
        unit.emit(Answer(n=event.data.n), key=event.key, cause=event, topic="test.out.v1")

    async def reject(self, unit: Unit, head: RawEnvelope, violation: ContractViolation) -> None:
        self.rejected.append(violation.errors)


@pytest.fixture
async def sessions(tmp_path: Path) -> Any:
    async with sqlite_sessions(tmp_path, metadata) as made:
        yield made


def processor(
    sessions: async_sessionmaker[AsyncSession], handler: Handler, *, reject: bool = False
) -> BatchProcessor:
    return BatchProcessor(
        Subscription(TOPIC, on={Ask: each(handler)}, reject=handler.reject if reject else None),
        sessions=sessions,
        catalog=catalog,
        group="g",
        producer="test",
        max_attempts=3,
        transient_retry_seconds=5,
    )


def ask(n: int, fail: str = "") -> bytes:
    return Envelope.wrap(Ask(n=n, fail=fail), key=f"k{n}", producer="t").to_bytes()


async def effect_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(effects)) or 0)


async def test_a_handled_event_commits_its_effect_and_its_events_together(sessions: Any) -> None:
    handler = Handler()
    message = ask(1)
    assert await processor(sessions, handler).process([record(TOPIC, message)]) == [Settled.HANDLED]
    assert await effect_count(sessions) == 1
    [row] = await outbox_rows(sessions)
    answer = json.loads(row.value)
    assert (row.topic, answer["data"], answer["causation_id"]) == (
        "test.out.v1",
        {"n": 1},
        json.loads(message)["event_id"],
    )


async def test_a_redelivered_event_has_no_second_effect(sessions: Any) -> None:
    handler, message = Handler(), ask(2)
    consumer = processor(sessions, handler)
    first = await consumer.process([record(TOPIC, message), record(TOPIC, message)])
    again = await consumer.process([record(TOPIC, message)])
    assert first == [Settled.HANDLED, Settled.DUPLICATE]
    assert again == [Settled.DUPLICATE]
    assert (handler.calls, await effect_count(sessions), len(await outbox_rows(sessions))) == (
        1,
        1,
        1,
    )


async def test_an_undecodable_message_is_dead_lettered_and_the_batch_goes_on(sessions: Any) -> None:
    handler = Handler()
    bad = record(TOPIC, b"{not json", headers={"origin": "partner"})
    settled = await processor(sessions, handler).process([bad, record(TOPIC, ask(3))])
    assert settled == [Settled.DEAD_LETTER, Settled.HANDLED]
    dead, answer = await outbox_rows(sessions)
    headers = json.loads(dead.headers)
    assert (dead.topic, dead.value, dead.key) == (TOPIC + ".dlq", b"{not json", b"k")
    assert headers["origin"] == "partner"
    assert headers["dlq.reason"].startswith("ContractViolation")
    assert (headers["dlq.group"], headers["dlq.offset"]) == ("g", str(bad.offset))
    assert answer.topic == "test.out.v1"


async def test_a_failing_handler_is_retried_then_dead_lettered_and_its_writes_undone(
    sessions: Any,
) -> None:
    handler = Handler()
    settled = await processor(sessions, handler).process(
        [record(TOPIC, ask(4, fail="bug")), record(TOPIC, ask(5))]
    )
    assert settled == [Settled.DEAD_LETTER, Settled.HANDLED]
    assert handler.calls == 1 + 3 + 1  # the optimistic pass, three isolated tries, the good one
    assert await effect_count(sessions) == 1  # only the good event's effect survived
    dead = (await outbox_rows(sessions))[0]
    assert (
        json.loads(dead.headers)["dlq.reason"] == "KeyError"
    )  # the type only: texts can hold data
    assert json.loads(dead.headers)["dlq.attempts"] == "3"


async def test_a_permanent_error_is_dead_lettered_without_retries(sessions: Any) -> None:
    handler = Handler()
    assert await processor(sessions, handler).process(
        [record(TOPIC, ask(6, fail="permanent"))]
    ) == [Settled.DEAD_LETTER]
    assert handler.calls == 1 + 1  # the optimistic pass, then one isolated try: no retries
    assert (
        "cannot ever do this" in json.loads((await outbox_rows(sessions))[0].headers)["dlq.reason"]
    )


async def test_a_payload_that_breaks_the_contract_goes_to_the_rejecter_when_there_is_one(
    sessions: Any,
) -> None:
    handler = Handler()
    message = json.loads(ask(7))
    message["data"]["n"] = "seven"
    settled = await processor(sessions, handler, reject=True).process(
        [record(TOPIC, json.dumps(message).encode())]
    )
    assert settled == [Settled.REJECTED]
    assert handler.rejected
    assert handler.rejected[0][0].startswith("data.n: ")
    assert await outbox_rows(sessions) == []


async def test_transient_failures_retry_the_batch_without_losing_or_doubling_anything(
    sessions: Any,
) -> None:
    handler = Handler()
    handler.transient_failures = 2
    assert await processor(sessions, handler).process([record(TOPIC, ask(8))]) == [Settled.HANDLED]
    assert (handler.calls, await effect_count(sessions), len(await outbox_rows(sessions))) == (
        3,
        1,
        1,
    )


async def test_a_transient_failure_that_lasts_hands_the_batch_back(sessions: Any) -> None:
    handler = Handler()
    handler.transient_failures = 10**6
    consumer = processor(sessions, handler)
    consumer.transient_retry_seconds = 0.3
    with pytest.raises(OperationalError):
        await consumer.process([record(TOPIC, ask(9))])
    assert await effect_count(sessions) == 0


async def test_a_replayed_dead_letter_is_handled_once(sessions: Any) -> None:
    handler = Handler()
    consumer = processor(sessions, handler)
    message = json.loads(ask(10, fail="permanent"))
    assert await consumer.process([record(TOPIC, json.dumps(message).encode())]) == [
        Settled.DEAD_LETTER
    ]
    message["data"]["fail"] = ""  # the cause was fixed (here: in the message itself)
    replayed = record(TOPIC, json.dumps(message).encode(), headers={REPLAY_HEADER: "x"})
    assert await consumer.process([replayed]) == [Settled.HANDLED]
    assert await consumer.process([replayed]) == [Settled.DUPLICATE]
    assert await effect_count(sessions) == 1


async def test_a_record_over_the_size_limit_is_dead_lettered_unparsed_with_a_digest(
    sessions: Any,
) -> None:
    import hashlib

    handler = Handler()
    consumer = processor(sessions, handler)
    consumer.max_record_bytes = 10_000
    huge = ask(11)[:-1] + b', "padding": "' + b"x" * 50_000 + b'"}'
    settled = await consumer.process([record(TOPIC, huge), record(TOPIC, ask(12))])
    assert settled == [Settled.DEAD_LETTER, Settled.HANDLED]
    assert handler.calls == 1  # the big one never reached the handler
    dead, _answer = await outbox_rows(sessions)
    headers = json.loads(dead.headers)
    assert "more than the 10000 accepted" in headers["dlq.reason"]
    assert headers["dlq.original-bytes"] == str(len(huge))
    assert headers["dlq.original-sha256"] == hashlib.sha256(huge).hexdigest()
    assert dead.value == huge[:4096]


async def test_an_event_its_topic_does_not_carry_is_refused_not_ignored(sessions: Any) -> None:
    from gonghui_contracts import CATALOG
    from gonghui_contracts.events import MemberLeft

    handler = Handler()
    on_intake = BatchProcessor(
        Subscription(AID_INJURY_REPORTS, on={PatientDischarged: each(handler)}),
        sessions=sessions,
        catalog=CATALOG,
        group="g",
        producer="test",
    )
    stray = Envelope.wrap(
        MemberLeft(member_id=uuid.uuid4(), union_id="u", reason="r", left_on=date(2026, 1, 1)),
        key="k",
        producer="t",
    )
    settled = await on_intake.process([record("partner.aid.injury-reports.v1", stray.to_bytes())])
    assert settled == [Settled.DEAD_LETTER]
    assert handler.calls == 0
    [dead] = await outbox_rows(sessions)
    assert "is not carried by this topic" in json.loads(dead.headers)["dlq.reason"]


async def test_a_dead_letters_id_fits_the_outbox_whatever_the_names(sessions: Any) -> None:
    long_topic = "it0123abcd." + "partner.membership.join-requests.v1"
    consumer = BatchProcessor(
        Subscription(long_topic, on={Ask: each(Handler())}),
        sessions=sessions,
        catalog=catalog,
        group="a-consumer-group-of-a-rather-long-name-for-its-deployment",
        producer="test",
    )
    assert await consumer.process([record(long_topic, b"{not json")]) == [Settled.DEAD_LETTER]
    [dead] = await outbox_rows(sessions)
    assert len(dead.message_id) <= 64


HOSPITAL = Partner("sz-h-001", PartnerKind.HOSPITAL)
INTAKE = "partner.aid.injury-reports.v1"


def discharge(hospital_id: str) -> bytes:
    payload = PatientDischarged(
        report_ref="r-1", hospital_id=hospital_id, discharged_on=date(2026, 11, 30)
    )
    return Envelope.wrap(payload, key="r-1", producer="t").to_bytes()


class HospitalDesk:
    """Answers each hospital message on the outcome family, as aid does."""

    def __init__(self) -> None:
        self.senders: list[Partner | None] = []
        self.rejected: list[list[str]] = []

    async def handle(self, unit: Unit, event: Envelope[Any]) -> None:
        self.senders.append(unit.sender)
        unit.emit(InjuryReportOutcome(report_ref="r-1", outcome="discharge_recorded"), key="r-1")

    async def reject(self, unit: Unit, head: RawEnvelope, violation: ContractViolation) -> None:
        self.rejected.append(violation.errors)
        unit.emit(InjuryReportOutcome(report_ref="r-1", outcome="rejected"), key="r-1")


async def from_hospital(
    sessions: Any, desk: HospitalDesk, *values: bytes, reject: bool
) -> list[Settled]:
    """`values` read from HOSPITAL's own topic of the intake family."""
    from gonghui_contracts import CATALOG

    consumer = BatchProcessor(
        Subscription(
            AID_INJURY_REPORTS,
            on={PatientDischarged: each(desk.handle)},
            reject=desk.reject if reject else None,
        ),
        sessions=sessions,
        catalog=CATALOG,
        group="aid",
        producer="aid",
        sender=HOSPITAL,
    )
    topic = f"{INTAKE}.{HOSPITAL.partner_id}"
    return await consumer.process([record(topic, value) for value in values])


async def test_a_partner_is_answered_on_its_own_topic_and_known_to_the_handler(
    sessions: Any,
) -> None:
    desk = HospitalDesk()
    settled = await from_hospital(sessions, desk, discharge(HOSPITAL.partner_id), reject=True)
    assert settled == [Settled.HANDLED]
    assert desk.senders == [HOSPITAL]
    [answer] = await outbox_rows(sessions)
    assert answer.topic == "partner.aid.injury-outcomes.v1.sz-h-001"


async def test_a_payload_naming_another_partner_is_rejected_to_its_sender(sessions: Any) -> None:
    desk = HospitalDesk()
    settled = await from_hospital(sessions, desk, discharge("sz-h-002"), reject=True)
    assert settled == [Settled.REJECTED]
    assert desk.senders == []
    [[problem]] = desk.rejected
    assert problem.startswith("hospital_id: names another partner")
    [answer] = await outbox_rows(sessions)
    assert answer.topic == "partner.aid.injury-outcomes.v1.sz-h-001"


async def test_a_partners_dead_letter_goes_to_its_own_topics_twin(sessions: Any) -> None:
    desk = HospitalDesk()
    settled = await from_hospital(sessions, desk, discharge("sz-h-002"), b"{not json", reject=False)
    assert settled == [Settled.DEAD_LETTER, Settled.DEAD_LETTER]
    dead = await outbox_rows(sessions)
    assert {row.topic for row in dead} == {"partner.aid.injury-reports.v1.sz-h-001.dlq"}


def test_an_answer_to_a_partner_needs_the_partner() -> None:
    unit = Unit(cast(AsyncSession, SimpleNamespace(info={})), "aid")
    with pytest.raises(ValueError, match="to=<partner id>"):
        unit.emit(InjuryReportOutcome(report_ref="r-1", outcome="rejected"), key="r-1")
    unit.emit(InjuryReportOutcome(report_ref="r-1", outcome="rejected"), key="r-1", to="sz-h-9")
    assert [r.topic for r in unit.staged] == ["partner.aid.injury-outcomes.v1.sz-h-9"]


class Note(EventPayload):
    EVENT_TYPE = "test.note"
    n: int


class BatchRecorder:
    """A set-based handler: one multi-row insert for all its events, an answer for each."""

    def __init__(self, name: str, calls: list[tuple[str, list[int]]]) -> None:
        self.name, self.calls = name, calls

    async def __call__(self, unit: Unit, events: Sequence[Envelope[Any]]) -> None:
        self.calls.append((self.name, [e.data.n for e in events]))
        await unit.session.execute(insert(effects), [{"n": e.data.n} for e in events])
        if any(e.data.n == 13 for e in events):
            raise KeyError("thirteen is a bug")
        for event in events:
            unit.emit(Answer(n=event.data.n), key=event.key, cause=event, topic="test.out.v1")


def batch_processor(
    sessions: async_sessionmaker[AsyncSession], calls: list[tuple[str, list[int]]]
) -> BatchProcessor:
    return BatchProcessor(
        Subscription(
            TOPIC, on={Ask: BatchRecorder("ask", calls), Note: BatchRecorder("note", calls)}
        ),
        sessions=sessions,
        catalog=Catalog([Ask, Answer, Note]),
        group="g",
        producer="test",
        max_attempts=1,
    )


def note(n: int) -> bytes:
    return Envelope.wrap(Note(n=n), key=f"k{n}", producer="t").to_bytes()


async def test_a_handler_gets_the_events_of_its_type_that_came_in_a_row(sessions: Any) -> None:
    calls: list[tuple[str, list[int]]] = []
    values = [
        ask(1),
        ask(2),
        note(3),
        note(4),
        ask(5),
        Envelope.wrap(Answer(n=6), key="k6", producer="t").to_bytes(),
    ]
    settled = await batch_processor(sessions, calls).process([record(TOPIC, v) for v in values])
    assert settled == [Settled.HANDLED] * 6
    assert calls == [("ask", [1, 2]), ("note", [3, 4]), ("ask", [5])]  # Answer: no handler here
    assert sorted(json.loads(r.value)["data"]["n"] for r in await outbox_rows(sessions)) == [
        1,
        2,
        3,
        4,
        5,
    ]


async def test_a_failing_batch_is_narrowed_to_the_failing_record(sessions: Any) -> None:
    calls: list[tuple[str, list[int]]] = []
    values = [ask(12), ask(13), ask(14)]
    settled = await batch_processor(sessions, calls).process([record(TOPIC, v) for v in values])
    assert settled == [Settled.HANDLED, Settled.DEAD_LETTER, Settled.HANDLED]
    assert calls == [("ask", [12, 13, 14]), ("ask", [12]), ("ask", [13]), ("ask", [14])]
    async with sessions() as session:
        assert sorted(await session.scalars(select(effects.c.n))) == [12, 14]
    rows = await outbox_rows(sessions)
    assert sorted(r.topic for r in rows) == ["test.in.v1.dlq", "test.out.v1", "test.out.v1"]


def other_processor(sessions: async_sessionmaker[AsyncSession], handler: Handler) -> BatchProcessor:
    return BatchProcessor(
        Subscription(OTHER_TOPIC, on={Ask: each(handler)}),
        sessions=sessions,
        catalog=catalog,
        group="g",
        producer="test",
        transient_retry_seconds=5,
    )


OTHER_TOPIC = "test.other.v1"


async def test_the_topics_of_one_consumed_batch_commit_in_one_transaction(sessions: Any) -> None:
    handler = Handler()
    commits: list[object] = []
    sqlalchemy_event.listen(sessions.kw["bind"].sync_engine, "commit", commits.append)
    batches = [
        (processor(sessions, handler), [record(TOPIC, ask(21)), record(TOPIC, ask(22))]),
        (other_processor(sessions, handler), [record(OTHER_TOPIC, ask(23))]),
    ]
    await process_together(batches)
    assert len(commits) == 1
    await process_together(batches)  # read again: no second effect

    async with sessions() as session:
        assert sorted(await session.scalars(select(effects.c.n))) == [21, 22, 23]
    assert len(await outbox_rows(sessions)) == 3


async def test_a_failure_in_one_topic_of_a_consumed_batch_leaves_the_others_effects(
    sessions: Any,
) -> None:
    handler = Handler()
    await process_together(
        [
            (processor(sessions, handler), [record(TOPIC, ask(31)), record(TOPIC, ask(32, "bug"))]),
            (other_processor(sessions, handler), [record(OTHER_TOPIC, ask(33))]),
        ]
    )
    async with sessions() as session:
        assert sorted(await session.scalars(select(effects.c.n))) == [31, 33]
    rows = await outbox_rows(sessions)
    assert sorted(r.topic for r in rows) == ["test.in.v1.dlq", "test.out.v1", "test.out.v1"]


async def test_each_answer_of_a_batch_joins_the_trace_of_its_own_cause(sessions: Any) -> None:
    calls: list[tuple[str, list[int]]] = []
    parents = {n: f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01" for n in (21, 22, 23)}
    records = [record(TOPIC, ask(n), headers={"traceparent": parents[n]}) for n in parents]
    await batch_processor(sessions, calls).process(records)
    answered = {
        json.loads(r.value)["data"]["n"]: json.loads(r.headers)["traceparent"].split("-")[1]
        for r in await outbox_rows(sessions)
    }
    assert answered == {n: parent.split("-")[1] for n, parent in parents.items()}


async def test_a_batchs_span_links_the_sampled_records_only(
    sessions: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()  # parent-based: a record's trace is kept as its sender decided
    provider.add_span_processor(SimpleSpanProcessor(exported))
    monkeypatch.setattr(telemetry, "tracer", lambda: provider.get_tracer("test"))
    flags = {31: "01", 32: "00", 33: "01"}
    parents = {n: f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-{f}" for n, f in flags.items()}
    records = [record(TOPIC, ask(n), headers={"traceparent": parents[n]}) for n in parents]
    await batch_processor(sessions, []).process(records)
    [batch] = [s for s in exported.get_finished_spans() if s.name.endswith(" batch")]
    assert {link.context.trace_id for link in batch.links} == {
        int(parents[n].split("-")[1], 16) for n in (31, 33)
    }


def test_a_subscription_names_only_types_its_registry_topic_carries() -> None:
    from gonghui_contracts.events import MemberJoined, MemberLeft
    from gonghui_contracts.topics import MEMBERSHIP_EVENTS

    async def handle(unit: Unit, events: Sequence[Envelope[Any]]) -> None: ...

    Subscription(MEMBERSHIP_EVENTS, on={MemberJoined: handle, MemberLeft: handle})
    with pytest.raises(TypeError, match=r"does not carry test\.ask"):
        Subscription(MEMBERSHIP_EVENTS, on={MemberJoined: handle, Ask: handle})
    with pytest.raises(TypeError, match="subscribe to its TopicSpec"):
        Subscription("membership.events.v1", on={MemberJoined: handle})
