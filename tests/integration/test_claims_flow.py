"""Mutual-aid claims through membership → aid, as separate processes on the real stack, on topics
of their own and fresh databases: the medical-insurance bureau publishes its settlements as
itself on its own topic, aid answers on the bureau's own outcome topic, decides and pays the
claims (its payment job writes to a sink file), and tells of them on aid.claims.v1."""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from aid.claims.payments import PaymentOrder, sink_records
from gonghui_contracts import Envelope
from gonghui_contracts.access import partner_principal
from gonghui_contracts.events import SettlementRecorded, SettlementReversed

from .conftest import (
    BUREAU,
    SF,
    Platform,
    StartPlatform,
    events_on,
    eventually,
    random_resident_id,
    read_topic,
)
from .test_kafka_acls import as_principal
from .test_kafka_acls import publish as publish_as
from .test_membership import REQUESTS, join_request, outcomes_for

pytestmark = pytest.mark.integration
SETTLEMENTS = "partner.aid.settlements.v1"
OUTCOMES = "partner.aid.settlement-outcomes.v1"
JOIN_OUTCOMES = "partner.membership.join-outcomes.v1"
CLAIMS = "aid.claims.v1"
FUND = "gd-mutual-aid-claims"
BUDGET = Decimal("1000000.00")
NOT_A_MEMBER = {"field": "resident_id", "rule": "the insured person is not a member"}
NO_COVER = {
    "field": "admitted_on",
    "rule": "the member had no mutual-aid cover on the day of admission",
}
ABOVE_AUTO_LIMIT = {
    "field": "out_of_pocket_in_list",
    "rule": "the payout is above the limit approved without review",
}
FUND_SHORT = {"field": "payout", "rule": "the claims fund cannot pay it now"}
Body = SettlementRecorded | SettlementReversed


def payout_of(out_of_pocket: int) -> Decimal:
    """What aid's default terms pay for a general stay with this out-of-pocket part (yuan):
    half of it above a 500-yuan deductible (without review up to 20,000 yuan a claim)."""
    return (Decimal(max(0, out_of_pocket - 500)) / 2).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Member:
    member_id: str
    resident_id: str
    joined_on: date  # the first day of cover


def settlement(
    resident_id: str,
    out_of_pocket: int,
    admitted_on: date,
    *,
    ref: str | None = None,
    revision: int = 0,
    stay_days: int = 0,
) -> SettlementRecorded:
    return SettlementRecorded.model_validate(
        {
            "settlement_id": ref or f"st-{uuid.uuid4().hex[:12]}",
            "revision": revision,
            "bureau_id": BUREAU.partner_id,
            "resident_id": resident_id,
            "hospital": "广州市第一人民医院",
            "admitted_on": admitted_on.isoformat(),
            "discharged_on": (admitted_on + timedelta(days=stay_days)).isoformat(),
            "total_cost": f"{out_of_pocket * 2}.00",  # under 100,000 yuan: not serious
            "basic_paid": f"{out_of_pocket}.00",
            "out_of_pocket_in_list": f"{out_of_pocket}.00",
            "diagnosis": "general",
        }
    )


def reversal(ref: str, revision: int) -> SettlementReversed:
    return SettlementReversed(
        settlement_id=ref, revision=revision, bureau_id=BUREAU.partner_id, reason="冲正"
    )


def envelope(body: Body) -> Envelope[Any]:
    """A new message (a new event id) carrying `body`, as the bureau's system wraps it."""
    return Envelope.wrap(body, key=body.settlement_id, producer=BUREAU.partner_id)


def message(body: Body) -> tuple[bytes, bytes]:
    return body.settlement_id.encode(), envelope(body).to_bytes()


async def from_bureau(platform: Platform, *bodies: Body) -> None:
    """Each body as a message of its own, sent by the bureau on its own topic, in order."""
    await platform.send_batch(SETTLEMENTS, BUREAU, [message(body) for body in bodies])


async def answers(platform: Platform, expect: int, timeout: float = 60) -> list[dict[str, Any]]:
    """The envelopes on the bureau's own outcome topic."""
    topic = platform.partner_topic(OUTCOMES, BUREAU)
    return [json.loads(r.value) for r in await read_topic(topic, expect=expect, timeout=timeout)]


def sink(platform: Platform) -> Path:
    return Path(platform.services["aid"].env["PAYMENT_SINK_PATH"])


def paid_to(platform: Platform, claim_id: str) -> list[PaymentOrder]:
    return [order for order in sink_records(sink(platform)) if order.claim_id == claim_id]


async def fund(platform: Platform) -> dict[str, Any]:
    """The claims fund, as aid's API shows it to the province union's staff."""
    response = await platform.call("aid", "GET", f"/v1/funds/{FUND}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def platform_env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "PAYMENT_CHANNEL": "sink",
        "PAYMENT_SINK_PATH": str(tmp_path / "payments.jsonl"),
        "PAYMENT_SWEEP_SECONDS": "0.5",
        "CLAIMS_FUND_BUDGET": str(BUDGET),
        **more,
    }


async def join(platform: Platform, count: int) -> list[Member]:
    """`count` couriers joined through membership (as sf-express-guangzhou's batch), once aid
    has enrolled each with the gift fund's cover and knows who they are."""
    run = uuid.uuid4().hex[:8]
    people: dict[str, str] = {}
    while len(people) < count:
        person = random_resident_id()
        if person not in people.values():
            people[f"cl-{run}-{len(people):03d}"] = person
    await platform.send_batch(
        REQUESTS, SF, [(ref.encode(), join_request(ref, person)) for ref, person in people.items()]
    )
    outcomes = await outcomes_for(
        platform.partner_topic(JOIN_OUTCOMES, SF), set(people), expect=count
    )
    assert {o["outcome"] for o in outcomes.values()} == {"joined"}
    ids = [uuid.UUID(outcomes[ref]["member_id"]) for ref in people]

    async def known() -> list[Any]:
        rows = await platform.sql(
            "aid",
            "SELECT e.member_id, e.period_start FROM enrolments e "
            "JOIN insured_persons p ON p.member_id = e.member_id "
            "WHERE e.status = 'covered' AND e.paid_by = 'gift_fund' AND e.member_id = ANY($1)",
            ids,
        )
        return rows if len(rows) == count else []

    rows = await eventually(known, timeout=60)
    assert rows, "aid did not enrol and identify every member"
    joined_on = {str(row["member_id"]): row["period_start"] for row in rows}
    return [
        Member(str(member_id), people[ref], joined_on[str(member_id)])
        for ref, member_id in zip(people, ids, strict=True)
    ]


@pytest.fixture
async def platform(start_platform: StartPlatform, tmp_path: Path) -> Platform:
    return await start_platform(
        ("membership", "aid"), platform_env(tmp_path), partners=(SF, BUREAU)
    )


async def test_a_settlement_pays_once_a_correction_moves_the_difference_a_reversal_claws_back(
    platform: Platform,
) -> None:
    (member,) = await join(platform, 1)
    first = settlement(member.resident_id, 10_000, member.joined_on)
    ref = first.settlement_id
    await from_bureau(platform, first, first)  # the bureau's system sends it twice
    answered = [e["data"] for e in await answers(platform, 2)]
    assert len(answered) == 2
    assert answered[0] == answered[1]  # the same answer, and nothing else done
    approved = answered[0]
    assert (approved["settlement_id"], approved["revision"]) == (ref, 0)
    assert (approved["outcome"], approved["payout"], approved["reasons"]) == (
        "approved",
        str(payout_of(10_000)),  # 4,750.00
        [],
    )
    assert approved["bureau_id"] == BUREAU.partner_id
    claim_id = approved["claim_id"]

    (paid,) = await eventually(lambda: paid_to(platform, claim_id), timeout=30)
    assert (paid.member_id, paid.kind, paid.amount) == (member.member_id, "payout", "4750.00")
    assert (await fund(platform))["balance"] == str(BUDGET - Decimal("4750.00"))

    # A correction: the stay cost the member more. Only the difference moves.
    await from_bureau(
        platform, settlement(member.resident_id, 12_000, member.joined_on, ref=ref, revision=1)
    )
    corrected = [e["data"] for e in await answers(platform, 3)][-1]
    assert (corrected["revision"], corrected["outcome"], corrected["payout"]) == (
        1,
        "approved",
        "5750.00",
    )
    assert corrected["claim_id"] == claim_id

    def two_payments() -> list[PaymentOrder]:
        found = paid_to(platform, claim_id)
        return found if len(found) == 2 else []

    assert [p.amount for p in await eventually(two_payments, timeout=30)] == ["4750.00", "1000.00"]

    # The bureau reverses the settlement (冲正): what it paid is clawed back, and a late copy of
    # the correction changes nothing.
    await from_bureau(
        platform,
        reversal(ref, 2),
        settlement(member.resident_id, 12_000, member.joined_on, ref=ref, revision=1),
    )
    last = [e["data"] for e in await answers(platform, 5)]
    assert len(last) == 5
    assert [(a["revision"], a["outcome"], a["payout"]) for a in last[3:]] == [
        (2, "reversed", "0.00"),
        (1, "superseded", "0.00"),
    ]
    assert {a["claim_id"] for a in last} == {claim_id}
    balance = await fund(platform)
    assert (balance["balance"], balance["budget"]) == (str(BUDGET), str(BUDGET))

    events = await events_on(platform, CLAIMS, expect=6)
    of_claim = [e for e in events if e["data"].get("claim_id") == claim_id]
    kinds = Counter(e["event_type"] for e in of_claim)
    assert kinds == {
        "aid.claim-decided": 3,
        "aid.claim-paid": 2,
        "aid.claim-clawed-back": 1,
    }, kinds
    decided = [e["data"] for e in of_claim if e["event_type"] == "aid.claim-decided"]
    assert [(d["decision"], d["decided_by"], d["change"], d["payout"]) for d in decided] == [
        ("approved", "auto", "4750.00", "4750.00"),
        ("approved", "auto", "1000.00", "5750.00"),
        ("reversed", "auto", "-5750.00", "0.00"),
    ]
    assert {d["member_id"] for d in decided} == {member.member_id}
    assert {d["district_code"] for d in decided} == {"440111"}
    paid_events = [e["data"] for e in of_claim if e["event_type"] == "aid.claim-paid"]
    assert sorted((p["payment_id"], p["amount"]) for p in paid_events) == sorted(
        (p.payment_id, p.amount) for p in paid_to(platform, claim_id)
    )
    (clawed,) = [e["data"] for e in of_claim if e["event_type"] == "aid.claim-clawed-back"]
    assert (clawed["member_id"], clawed["amount"]) == (member.member_id, "5750.00")

    ledger = await platform.sql(
        "aid",
        "SELECT kind, amount_cents FROM fund_ledger WHERE claim_id = $1 ORDER BY id",
        uuid.UUID(claim_id),
    )
    assert [tuple(row) for row in ledger] == [
        ("payout", -475_000),
        ("payout", -100_000),
        ("clawback", 575_000),
    ]
    payments = await platform.sql(
        "aid",
        "SELECT kind, amount_cents, status FROM claim_payments WHERE claim_id = $1 "
        "ORDER BY created_at",
        uuid.UUID(claim_id),
    )
    assert [tuple(row) for row in payments] == [
        ("payout", 475_000, "paid"),
        ("payout", 100_000, "paid"),
        ("clawback", -575_000, "owed"),  # the member owes it back: never sent to the channel
    ]
    assert len(list(sink_records(sink(platform)))) == 2  # nothing else was paid to anyone


async def test_a_stranger_and_a_member_outside_cover_are_reviewed_staff_decide_over_http(
    platform: Platform,
) -> None:
    (member,) = await join(platform, 1)
    before_joining = member.joined_on - timedelta(days=12)
    stranger = settlement(random_resident_id(), 10_000, member.joined_on)
    uncovered = settlement(member.resident_id, 10_000, before_joining, stay_days=5)
    costly = settlement(member.resident_id, 45_000, member.joined_on)  # pays 22,250 yuan
    await from_bureau(platform, stranger, uncovered, costly)
    answered = {e["data"]["settlement_id"]: e["data"] for e in await answers(platform, 3)}
    assert len(answered) == 3
    assert {a["outcome"] for a in answered.values()} == {"under_review"}
    assert {a["payout"] for a in answered.values()} == {"0.00"}
    assert answered[stranger.settlement_id]["reasons"] == [NOT_A_MEMBER]
    assert answered[uncovered.settlement_id]["reasons"] == [NO_COVER]
    assert answered[costly.settlement_id]["reasons"] == [ABOVE_AUTO_LIMIT]
    claim = {ref: a["claim_id"] for ref, a in answered.items()}

    queue = await platform.call("aid", "GET", "/v1/claims?status=under_review")
    assert queue.status_code == 200
    assert {c["claim_id"] for c in queue.json()} == set(claim.values())
    (costly_view,) = [c for c in queue.json() if c["claim_id"] == claim[costly.settlement_id]]
    assert (costly_view["proposed"], costly_view["payout"]) == ("22250.00", "0.00")

    async def decide(ref: str, body: dict[str, Any]) -> Any:
        return await platform.call("aid", "POST", f"/v1/claims/{claim[ref]}/decision", body)

    # nothing to approve without a member covered on the day of admission: only rejected
    for ref in (stranger.settlement_id, uncovered.settlement_id):
        refused = await decide(ref, {"action": "approve"})
        assert refused.status_code == 409, refused.text
    rejected = await decide(stranger.settlement_id, {"action": "reject", "reason": "不是会员"})
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    approved = await decide(costly.settlement_id, {"action": "approve"})
    assert approved.status_code == 200, approved.text
    view = approved.json()
    assert (view["status"], view["decided_by"], view["payout"]) == (
        "approved",
        "staff",
        "22250.00",
    )
    assert [(h["actor"], h["action"]) for h in view["history"]] == [
        ("auto", "review"),
        ("it-staff", "approved"),
    ]
    again = await decide(costly.settlement_id, {"action": "approve"})
    assert again.status_code == 409  # decided once

    (paid,) = await eventually(lambda: paid_to(platform, claim[costly.settlement_id]), timeout=30)
    assert (paid.member_id, paid.amount) == (member.member_id, "22250.00")
    assert (await fund(platform))["balance"] == str(BUDGET - Decimal("22250.00"))
    ledger = await platform.sql(
        "aid", "SELECT claim_id, amount_cents FROM fund_ledger WHERE claim_id IS NOT NULL"
    )
    assert [(str(r["claim_id"]), r["amount_cents"]) for r in ledger] == [
        (claim[costly.settlement_id], -2_225_000)
    ]

    # the bureau, whose last answers were under_review, hears what staff decided
    told = [e["data"] for e in await answers(platform, 5)][3:]
    assert [(t["settlement_id"], t["outcome"], t["payout"], t["reasons"]) for t in told] == [
        (stranger.settlement_id, "rejected", "0.00", [{"field": "claim", "rule": "不是会员"}]),
        (costly.settlement_id, "approved", "22250.00", []),
    ]

    # The bureau reverses the stay outside cover while it is under review: the claim ends as
    # reversed, with that in its history and on aid.claims.v1 (so the member hears of it).
    await from_bureau(platform, reversal(uncovered.settlement_id, 1))
    reversed_ = [e["data"] for e in await answers(platform, 6)][-1]
    assert (reversed_["settlement_id"], reversed_["outcome"], reversed_["payout"]) == (
        uncovered.settlement_id,
        "reversed",
        "0.00",
    )
    view = (
        await platform.call("aid", "GET", f"/v1/claims/{claim[uncovered.settlement_id]}")
    ).json()
    assert (view["status"], view["revision"], view["payout"]) == ("reversed", 1, "0.00")
    assert [(h["actor"], h["action"], h["revision"]) for h in view["history"]] == [
        ("auto", "review", 0),
        ("auto", "reversed", 1),
    ]
    assert (await platform.call("aid", "GET", "/v1/claims?status=under_review")).json() == []

    (payments,) = await platform.sql("aid", "SELECT count(*) FROM claim_payments")
    assert payments[0] == 1  # the stranger and the uncovered stay: nothing paid

    events = await events_on(platform, CLAIMS, expect=7)
    decided = [
        (e["data"]["claim_id"], e["data"]["decision"], e["data"]["decided_by"])
        for e in events
        if e["event_type"] == "aid.claim-decided"
    ]
    assert sorted(decided) == sorted(
        [
            (claim[stranger.settlement_id], "under_review", "auto"),
            (claim[stranger.settlement_id], "rejected", "staff"),
            (claim[uncovered.settlement_id], "under_review", "auto"),
            (claim[uncovered.settlement_id], "reversed", "auto"),
            (claim[costly.settlement_id], "under_review", "auto"),
            (claim[costly.settlement_id], "approved", "staff"),
        ]
    )
    about_stranger, about_uncovered = (
        [
            e["data"]
            for e in events
            if e["event_type"] == "aid.claim-decided" and e["data"]["claim_id"] == claim[ref]
        ]
        for ref in (stranger.settlement_id, uncovered.settlement_id)
    )
    assert [(d["member_id"], d["reasons"]) for d in about_stranger] == [
        (None, [NOT_A_MEMBER]),
        (None, [{"field": "claim", "rule": "不是会员"}]),
    ]
    assert [(d["member_id"], d["decision"], d["change"]) for d in about_uncovered] == [
        (member.member_id, "under_review", "0.00"),
        (member.member_id, "reversed", "0.00"),
    ]
    assert [e["data"]["claim_id"] for e in events if e["event_type"] == "aid.claim-paid"] == [
        claim[costly.settlement_id]
    ]


async def test_sigkill_of_aid_mid_burst_answers_every_settlement_and_pays_each_claim_once(
    start_platform: StartPlatform, tmp_path: Path
) -> None:
    rng = random.Random(20240627)
    stays = 250
    out_of_pocket = [rng.randint(1_000, 5_000) for _ in range(stays)]
    due = sum(payout_of(amount) for amount in out_of_pocket)
    budget = (due * Decimal("0.8")).quantize(Decimal("1"))  # some claims find the fund short
    platform = await start_platform(
        ("membership", "aid"),
        # small batches, so that the kill lands between commits
        platform_env(tmp_path, CLAIMS_FUND_BUDGET=str(budget), KAFKA_CONSUME_BATCH_SIZE="20"),
        partners=(SF, BUREAU),
    )
    members = await join(platform, 50)
    bodies = [
        settlement(member.resident_id, amount, member.joined_on)
        for member, amount in zip(itertools.cycle(members), out_of_pocket, strict=False)
    ]
    repeated = rng.sample(bodies, 50)
    burst = bodies + repeated
    rng.shuffle(burst)
    sent = {}  # event id -> settlement id
    messages = []
    for body in burst:
        wrapped = envelope(body)
        sent[str(wrapped.event_id)] = body.settlement_id
        messages.append((body.settlement_id.encode(), wrapped.to_bytes()))
    await platform.send_batch(SETTLEMENTS, BUREAU, messages)

    async def midway() -> bool:
        (row,) = await platform.sql("aid", "SELECT count(*) FROM claims")
        return 80 <= int(row[0]) < 200

    # aid is deciding the burst, and its payment job paying the first claims...
    assert await eventually(midway, timeout=60, interval=0.05)
    platform.services["aid"].kill()  # ...when it dies without any chance to clean up
    platform.services["aid"].start()

    outcomes_topic = platform.partner_topic(OUTCOMES, BUREAU)

    async def every_message_answered() -> list[dict[str, Any]]:
        found = [json.loads(r.value) for r in await read_topic(outcomes_topic, expect=0, timeout=2)]
        causes = {o["causation_id"] for o in found}
        return found if causes >= set(sent) else []

    outcomes = await eventually(every_message_answered, timeout=120, interval=1)
    assert outcomes, "some settlements were never answered"

    async def all_paid() -> bool:
        (row,) = await platform.sql(
            "aid", "SELECT count(*) FROM claim_payments WHERE status <> 'paid'"
        )
        return int(row[0]) == 0

    assert await eventually(all_paid, timeout=60)

    # Every message answered, a repeated settlement answered as its first copy was.
    distinct = {o["event_id"]: o for o in outcomes}.values()  # a relay may publish again
    assert {o["causation_id"] for o in distinct} == set(sent)
    assert len(distinct) == len(burst)
    per_settlement: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for outcome in distinct:
        data = outcome["data"]
        assert sent[outcome["causation_id"]] == data["settlement_id"]
        per_settlement[data["settlement_id"]].add(
            (data["claim_id"], data["outcome"], data["payout"])
        )
    assert len(per_settlement) == stays
    assert {len(answers) for answers in per_settlement.values()} == {1}

    claims = {
        str(row["claim_id"]): row
        for row in await platform.sql(
            "aid",
            "SELECT claim_id, reference, status, payout_cents, proposed_cents, reasons FROM claims",
        )
    }
    assert len(claims) == stays
    for ((claim_id, outcome, payout),) in per_settlement.values():
        row = claims[claim_id]
        assert (row["status"], Decimal(payout) * 100) == (outcome, row["payout_cents"])
    statuses = Counter(row["status"] for row in claims.values())
    assert set(statuses) == {"approved", "under_review"}, statuses
    short = [row for row in claims.values() if row["status"] == "under_review"]
    assert {row["reasons"] for row in short} == {json.dumps([FUND_SHORT], ensure_ascii=False)}

    # Each claim decided once, and each approved one paid once: one payment, sent with its one
    # payment id (a payment retried after the crash may be in the sink twice, with the same id)
    approved = {claim_id for claim_id, row in claims.items() if row["status"] == "approved"}
    events = await events_on(platform, CLAIMS, expect=stays + len(approved))
    decided = Counter(
        e["data"]["claim_id"]
        for e in {e["event_id"]: e for e in events}.values()
        if e["event_type"] == "aid.claim-decided"
    )
    assert set(decided) == set(claims)
    assert set(decided.values()) == {1}
    (history,) = await platform.sql(
        "aid",
        "SELECT count(*), count(DISTINCT claim_id) FROM claim_history",
    )
    assert tuple(history) == (stays, stays)
    orders: dict[str, dict[str, PaymentOrder]] = defaultdict(dict)
    for order in sink_records(sink(platform)):
        orders[order.claim_id][order.payment_id] = order
    assert set(orders) == approved
    assert {len(payments) for payments in orders.values()} == {1}
    for claim_id, payments in orders.items():
        (order,) = payments.values()
        assert Decimal(order.amount) * 100 == claims[claim_id]["payout_cents"]
    (payments,) = await platform.sql(
        "aid", "SELECT count(*), count(DISTINCT claim_id) FROM claim_payments"
    )
    assert tuple(payments) == (len(approved), len(approved))
    paid_events = {
        e["data"]["payment_id"]: e["data"]["claim_id"]
        for e in events
        if e["event_type"] == "aid.claim-paid"
    }
    assert paid_events == {
        payment_id: claim_id for claim_id, ps in orders.items() for payment_id in ps
    }

    # The money: Σ ledger payouts == Σ claims' payouts == budget − balance, never below zero,
    # and what was left could pay none of the claims it refused.
    ((ledger, rows),) = await platform.sql(
        "aid",
        "SELECT -sum(amount_cents), count(*) FROM fund_ledger WHERE kind = 'payout'",
    )
    paid_out = sum(row["payout_cents"] for row in claims.values())
    state = await fund(platform)
    spent = (Decimal(state["budget"]) - Decimal(state["balance"])) * 100
    assert ledger == paid_out == spent
    assert rows == state["payments"] == len(approved)
    assert Decimal(state["balance"]) >= 0
    assert Decimal(state["balance"]) * 100 < min(row["proposed_cents"] for row in short)
    dead = platform.partner_topic(SETTLEMENTS, BUREAU) + ".dlq"
    assert await read_topic(dead, expect=1, timeout=2) == []


async def test_a_bad_settlement_or_one_naming_another_bureau_is_rejected_and_others_cannot_write(
    start_platform: StartPlatform, tmp_path: Path
) -> None:
    platform = await start_platform(("aid",), platform_env(tmp_path), partners=(SF, BUREAU))
    person = random_resident_id()
    bad_id = json.loads(message(settlement(person, 10_000, date.today()))[1])
    wrong = "0" if person[17] != "0" else "1"
    bad_id["data"]["resident_id"] = person[:17] + wrong  # the check character does not match
    other = json.loads(message(settlement(person, 10_000, date.today()))[1])
    other["data"]["bureau_id"] = "sz-medical-insurance"
    other_reversal = json.loads(message(reversal("st-x", 1))[1])
    other_reversal["data"]["bureau_id"] = "sz-medical-insurance"
    hostile = [bad_id, other, other_reversal]
    await platform.send_batch(
        SETTLEMENTS,
        BUREAU,
        [(e["data"]["settlement_id"].encode(), json.dumps(e).encode()) for e in hostile],
    )
    answered = {e["causation_id"]: e["data"] for e in await answers(platform, 3)}
    assert len(answered) == 3
    for sent, field in zip(hostile, ["resident_id", "bureau_id", "bureau_id"], strict=True):
        data = answered[sent["event_id"]]
        assert (data["settlement_id"], data["outcome"]) == (
            sent["data"]["settlement_id"],
            "rejected",
        )
        assert data["bureau_id"] == BUREAU.partner_id  # told to the sender only
        assert [r["field"] for r in data["reasons"]] == [field]
        assert data["claim_id"] is None
    # no value is repeated back to the bureau (reasons name the field and the rule), nor logged
    assert person not in json.dumps(list(answered.values()), ensure_ascii=False)
    log = platform.services["aid"].log_path
    assert log is not None
    assert person[:17] not in log.read_text("utf-8")

    (rows,) = await platform.sql("aid", "SELECT count(*) FROM claims")
    assert rows[0] == 0  # nothing of these became a claim
    assert await read_topic(platform.topic(CLAIMS), expect=1, timeout=2) == []
    dead = platform.partner_topic(SETTLEMENTS, BUREAU) + ".dlq"
    assert await read_topic(dead, expect=1, timeout=2) == []

    # another partner cannot write to the bureau's topic (it can write to its own)
    courier = as_principal(partner_principal(SF))
    own = platform.partner_topic(REQUESTS, SF)
    assert await publish_as(courier, own) == "ok"
    intake = platform.partner_topic(SETTLEMENTS, BUREAU)
    assert await publish_as(courier, intake) == "TopicAuthorizationFailedError"
