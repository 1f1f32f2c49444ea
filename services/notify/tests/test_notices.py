from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gonghui_contracts import Envelope
from gonghui_contracts.events import InsuranceEnrolled, MemberJoined, MemberLeft, SelfPaidOffered
from notify import domain, service, templates
from notify.channels import ChannelError, Outgoing, SinkChannel, WebhookChannel
from notify.limits import HourlyLimit
from notify.models import Base, Notice
from servicekit import UnitOfWork
from servicekit.testing import outbox_rows, sqlite_sessions
from servicekit.webhooks import signature

MEMBER = uuid.uuid4()


def welcome_event() -> Envelope[MemberJoined]:
    return Envelope.wrap(
        MemberJoined(
            member_id=MEMBER,
            union_id="440100-express_delivery",
            union_name="广州市快递行业工会联合会",
            region_code="440111",
            city_code="440100",
            industry="express_delivery",
            new_employment_form=True,
            channel="partner_batch",
            joined_on=date(2024, 6, 27),
        ),
        key=str(MEMBER),
        producer="membership",
    )


def test_each_member_event_calls_for_its_notice() -> None:
    enrolled = InsuranceEnrolled(
        member_id=MEMBER,
        policy_year=2024,
        period_start=date(2024, 6, 27),
        period_end=date(2025, 6, 26),
        premium=Decimal("60.00"),
        paid_by="gift_fund",
        fund_id="f",
    )
    offer = SelfPaidOffered(
        member_id=MEMBER, policy_year=2024, premium=Decimal("60"), reason="fund_exhausted"
    )
    assert [n.template for n in domain.notices_for(welcome_event().data)] == ["welcome"]
    assert [n.template for n in domain.notices_for(enrolled)] == ["coverage_gifted"]
    assert [n.template for n in domain.notices_for(offer)] == ["self_paid_offer"]
    left = MemberLeft(member_id=MEMBER, union_id="u", reason="r", left_on=date(2024, 1, 1))
    assert domain.notices_for(left) == []
    assert domain.notices_for(enrolled)[0].recipient == f"member:{MEMBER}"


def test_texts_are_chinese_with_an_english_fallback() -> None:
    values = {"union_name": "广州市快递行业工会联合会", "member_ref": "abcd1234"}
    assert templates.render("welcome", "zh", values) == (
        "zh",
        "欢迎加入广州市快递行业工会联合会！您的会员号为abcd1234，可在粤工惠查看会员权益。",
    )
    locale, text = templates.render("welcome", "yue", values)
    assert locale == "en"
    assert text.startswith("Welcome to 广州市快递行业工会联合会")


def test_every_language_of_a_template_uses_the_same_values() -> None:
    for name, texts in templates.TEMPLATES.items():
        assert set(texts) >= {"zh", "en"}, name
        assert len({templates.fields(text) for text in texts.values()}) == 1, name


class FlakyChannel:
    name = "sink"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Outgoing] = []

    async def send(self, notice: Outgoing) -> None:
        if self.failures:
            self.failures -= 1
            raise ChannelError("gateway answered 503")
        self.sent.append(notice)


@pytest.fixture
async def uow(tmp_path: Path) -> Any:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        yield UnitOfWork(sessions, "notify")


async def test_one_notice_per_recipient_and_cause_however_often_the_event_comes(
    uow: UnitOfWork,
) -> None:
    event = welcome_event()
    async with uow() as unit:  # twice in one batch,
        assert await service.record_notices(unit, [event, event], "zh") == 1
    for _ in range(2):  # and again later
        async with uow() as unit:
            assert await service.record_notices(unit, [event], "zh") == 0
    channel = FlakyChannel(failures=0)
    await service.NoticeSender(uow, channel).send_due()
    assert len(channel.sent) == 1
    [sent] = [json.loads(r.value) for r in await outbox_rows(uow.sessions)]
    assert (sent["event_type"], sent["data"]["template"], sent["data"]["attempts"]) == (
        "notify.notice-sent",
        "welcome",
        1,
    )


async def test_a_failing_channel_is_retried_later_and_a_notice_failing_for_good_is_reported(
    uow: UnitOfWork,
) -> None:
    async with uow() as unit:
        await service.record_notices(unit, [welcome_event()], "zh")
    sender = service.NoticeSender(uow, FlakyChannel(failures=10), max_attempts=2)
    await sender.send_due()
    async with uow.sessions() as session:
        notice = await session.scalar(select(Notice))
        assert notice is not None
        assert (notice.status, notice.attempts) == ("pending", 1)
        notice.next_attempt_at = notice.created_at  # the backoff has passed
        await session.commit()
    await sender.send_due()
    [failed] = [json.loads(r.value) for r in await outbox_rows(uow.sessions)]
    assert failed["event_type"] == "notify.notice-failed"
    assert failed["data"]["error"] == "gateway answered 503"


async def test_the_webhook_signs_each_notice_and_names_it_for_deduplication() -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    channel = WebhookChannel(
        "https://sms.example/notices",
        b"secret",
        httpx.AsyncClient(transport=httpx.MockTransport(gateway)),
    )
    notice = Outgoing("n1", "member:1", "welcome", "zh", "欢迎", "c1", "k1")
    await channel.send(notice)
    [request] = seen
    expected = signature(b"secret", request.headers["X-Gonghui-Timestamp"], request.content)
    assert request.headers["X-Gonghui-Signature"] == expected
    assert request.headers["Idempotency-Key"] == "n1"
    assert json.loads(request.content)["body"] == "欢迎"


async def test_a_webhook_error_status_is_a_channel_error() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(500)))
    with pytest.raises(ChannelError, match="500"):
        await WebhookChannel("https://sms.example", b"s", client).send(
            Outgoing("n", "r", "t", "zh", "b", "c", "k")
        )


async def test_the_sink_appends_one_json_line_per_notice(tmp_path: Path) -> None:
    sink = SinkChannel(tmp_path / "notices.jsonl")
    await sink.send(Outgoing("n1", "member:1", "welcome", "zh", "欢迎", "c1", "k1"))
    [line] = (tmp_path / "notices.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["notice_id"] == "n1"


class MemoryCounter:
    """Redis's counting, as HourlyLimit's script does it: INCRBY each key by its count."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def register_script(self, source: str) -> Callable[..., Awaitable[list[int]]]:
        assert "INCRBY" in source

        async def count(keys: list[str], args: list[int]) -> list[int]:
            for key, amount in zip(keys, args[1:], strict=True):
                self.counts[key] = self.counts.get(key, 0) + amount
            return [self.counts[key] for key in keys]

        return count


async def test_a_recipient_over_the_hourly_limit_waits_for_the_next_hour(uow: UnitOfWork) -> None:
    events = [welcome_event() for _ in range(3)]  # three causes, one recipient
    for event in events:
        async with uow() as unit:
            await service.record_notices(unit, [event], "zh")
    channel = FlakyChannel(failures=0)
    await service.NoticeSender(
        uow, channel, limit=HourlyLimit(MemoryCounter(), per_hour=2)
    ).send_due()
    assert len(channel.sent) == 2
    async with uow.sessions() as session:
        waiting = (await session.scalars(select(Notice).where(Notice.status == "pending"))).all()
    assert len(waiting) == 1
    assert waiting[0].attempts == 0  # postponed, not failed
    assert waiting[0].next_attempt_at.timestamp() == HourlyLimit.next_hour()


async def test_environments_sharing_a_redis_count_their_recipients_apart() -> None:
    shared = MemoryCounter()
    one, other = HourlyLimit(shared, 1, "it1."), HourlyLimit(shared, 1, "it2.")
    assert await one.allow_all(["union:440111-county"], now=36000) == [True]
    assert await one.allow_all(["union:440111-county"], now=36001) == [False]
    assert await other.allow_all(["union:440111-county"], now=36002) == [True]


async def test_one_batch_counts_each_notice_to_a_recipient_in_turn() -> None:
    counter = MemoryCounter()
    limit = HourlyLimit(counter, 3)
    assert await limit.allow_all(["a", "b", "a"], now=36000) == [True, True, True]
    assert await limit.allow_all(["a", "a", "b", "a"], now=36001) == [True, False, True, False]
    assert await limit.allow_all(["a"], now=36000 + 3600) == [True]  # the next hour
