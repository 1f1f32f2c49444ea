"""Reading claims: a member's, the review queue, one claim's history, relief cases, and the
figures staff report (auto-approval rate, paid, clawed back, relief) by district and month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, func, select

from aid.models import Claim, ClaimHistory, ClaimPayment, ReliefCase
from servicekit import Unit


async def of_member(unit: Unit, member_id: uuid.UUID, limit: int) -> list[Claim]:
    return list(
        await unit.session.scalars(
            select(Claim)
            .where(Claim.member_id == member_id)
            .order_by(Claim.received_at.desc())
            .limit(limit)
        )
    )


async def queue(unit: Unit, region: str, status: str, limit: int, offset: int) -> list[Claim]:
    """Claims in `status` of the region's members (oldest first), and those of no member, which
    every staff member's queue shows."""
    query = select(Claim).where(
        Claim.status == status,
        (Claim.district_code.startswith(region, autoescape=True)) | Claim.district_code.is_(None),
    )
    ordered = query.order_by(Claim.received_at, Claim.claim_id).offset(offset).limit(limit)
    return list(await unit.session.scalars(ordered))


async def history(unit: Unit, claim_id: uuid.UUID) -> list[ClaimHistory]:
    return list(
        await unit.session.scalars(
            select(ClaimHistory).where(ClaimHistory.claim_id == claim_id).order_by(ClaimHistory.id)
        )
    )


async def payments(unit: Unit, claim_id: uuid.UUID) -> list[ClaimPayment]:
    return list(
        await unit.session.scalars(
            select(ClaimPayment)
            .where(ClaimPayment.claim_id == claim_id)
            .order_by(ClaimPayment.created_at)
        )
    )


async def relief_cases(unit: Unit, region: str, status: str, limit: int) -> list[ReliefCase]:
    return list(
        await unit.session.scalars(
            select(ReliefCase)
            .where(
                ReliefCase.status == status,
                ReliefCase.district_code.startswith(region, autoescape=True),
            )
            .order_by(ReliefCase.opened_at)
            .limit(limit)
        )
    )


@dataclass
class Figures:
    claims: int = 0
    auto_approved: int = 0
    approved_by_staff: int = 0
    under_review: int = 0
    rejected: int = 0
    reversed: int = 0
    payout_cents: int = 0
    paid_cents: int = 0
    clawed_back_cents: int = 0
    condolence_cents: int = 0
    relief_cases: int = 0
    relief_granted_cents: int = 0


@dataclass
class Summary:
    total: Figures = field(default_factory=Figures)
    by_city: dict[str, Figures] = field(default_factory=dict)
    by_district: dict[str, Figures] = field(default_factory=dict)
    by_month: dict[str, Figures] = field(default_factory=dict)


async def summary(unit: Unit, region: str, start: datetime, end: datetime) -> Summary:
    """Claims received in [start, end) of the region's members, and the money they moved."""
    in_region = Claim.district_code.startswith(region, autoescape=True)
    month = func.substr(cast(Claim.received_at, String), 1, 7)
    rows = await unit.session.execute(
        select(
            Claim.district_code,
            month,
            Claim.status,
            Claim.decided_by,
            func.count(),
            func.coalesce(func.sum(Claim.payout_cents), 0),
        )
        .where(in_region, Claim.received_at >= start, Claim.received_at < end)
        .group_by(Claim.district_code, month, Claim.status, Claim.decided_by)
    )
    found = Summary()
    for district, when, status, decided_by, count, payout in rows.tuples():
        for figures in _buckets(found, district or "", when or ""):
            figures.claims += count
            figures.payout_cents += payout
            _count(figures, status, decided_by, count)
    money = await unit.session.execute(
        select(
            Claim.district_code,
            month,
            ClaimPayment.kind,
            ClaimPayment.status,
            func.sum(ClaimPayment.amount_cents),
        )
        .join(Claim, Claim.claim_id == ClaimPayment.claim_id)
        .where(in_region, Claim.received_at >= start, Claim.received_at < end)
        .group_by(Claim.district_code, month, ClaimPayment.kind, ClaimPayment.status)
    )
    for district, when, kind, status, amount in money.tuples():
        for figures in _buckets(found, district or "", when or ""):
            if kind == "clawback":
                figures.clawed_back_cents -= amount
            elif kind == "condolence":
                figures.condolence_cents += amount
            if kind != "clawback" and status == "paid":
                figures.paid_cents += amount
    relief = await unit.session.execute(
        select(ReliefCase.district_code, ReliefCase.opened_at, ReliefCase.granted_cents).where(
            ReliefCase.district_code.startswith(region, autoescape=True),
            ReliefCase.opened_at >= start,
            ReliefCase.opened_at < end,
        )
    )
    for district, opened_at, granted in relief.tuples():
        for figures in _buckets(found, district, opened_at.strftime("%Y-%m")):
            figures.relief_cases += 1
            figures.relief_granted_cents += granted or 0
    return found


def _buckets(summary: Summary, district: str, month: str) -> tuple[Figures, ...]:
    """The figures a claim counts in: the total, its city's, its district's and its month's."""
    return (
        summary.total,
        summary.by_city.setdefault(district[:4] + "00", Figures()),
        summary.by_district.setdefault(district, Figures()),
        summary.by_month.setdefault(month, Figures()),
    )


def _count(figures: Figures, status: str, decided_by: str, count: int) -> None:
    if status == "approved" and decided_by == "auto":
        figures.auto_approved += count
    elif status == "approved":
        figures.approved_by_staff += count
    elif status == "under_review":
        figures.under_review += count
    elif status == "rejected":
        figures.rejected += count
    elif status == "reversed":
        figures.reversed += count
