"""Funds that pay out (the insurance gift fund, the condolence fund) and their ledger.

Money leaves a fund only through `debit` (or `debit_all` for a batch): a conditional UPDATE, so
that concurrent payers cannot both spend the same balance, and ledger rows in the same
transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from aid import metrics
from aid.errors import NotFound
from aid.models import Fund, LedgerEntry
from servicekit import Unit
from servicekit.db import insert_rows


@dataclass(frozen=True)
class Payment:
    kind: str  # premium | condolence | payout | clawback
    amount_cents: int
    at: datetime
    member_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    claim_id: uuid.UUID | None = None
    cause_event_id: uuid.UUID | None = None


async def open_fund(
    unit: Unit,
    fund_id: str,
    name: str,
    budget_cents: int,
    *,
    at: datetime,
    premium_cents: int | None = None,
) -> None:
    """Create the fund with its opening ledger row, unless it exists already."""
    if await unit.session.get(Fund, fund_id) is not None:
        return
    unit.session.add(
        Fund(
            fund_id=fund_id,
            name=name,
            budget_cents=budget_cents,
            balance_cents=budget_cents,
            premium_cents=premium_cents,
            payments=0,
        )
    )
    unit.session.add(
        LedgerEntry(
            fund_id=fund_id,
            kind="opening",
            amount_cents=budget_cents,
            balance_after_cents=budget_cents,
            at=at,
        )
    )


async def debit(unit: Unit, fund_id: str, payment: Payment) -> int | None:
    """Pay `payment` if the fund still holds the whole amount; the balance after, or None."""
    result = await unit.session.execute(
        update(Fund)
        .where(Fund.fund_id == fund_id, Fund.balance_cents >= payment.amount_cents)
        .values(balance_cents=Fund.balance_cents - payment.amount_cents, payments=Fund.payments + 1)
        .returning(Fund.balance_cents)
        .execution_options(synchronize_session=False)
    )
    balance = result.scalar_one_or_none()
    if balance is not None:
        unit.session.add(_ledger_row(fund_id, payment, -payment.amount_cents, balance))
    return balance


async def debit_all(unit: Unit, fund_id: str, payments: Sequence[Payment]) -> list[int | None]:
    """Pay each of `payments`, in order, that the fund still holds the whole amount of when its
    turn comes: for each, the balance after it, or None. The fund's row is locked while the
    batch is shared out here; one conditional UPDATE and one insert of ledger rows follow."""
    if not payments:
        return []
    balance = await unit.session.scalar(
        select(Fund.balance_cents).where(Fund.fund_id == fund_id).with_for_update()
    )
    if balance is None:
        raise NotFound(f"no fund {fund_id}")
    balances: list[int | None] = []
    for payment in payments:
        if balance >= payment.amount_cents:
            balance -= payment.amount_cents
            balances.append(balance)
        else:
            balances.append(None)
    paid = [(p, after) for p, after in zip(payments, balances, strict=True) if after is not None]
    if not paid:
        return balances
    total = sum(p.amount_cents for p, _ in paid)
    result = await unit.session.execute(
        update(Fund)
        .where(Fund.fund_id == fund_id, Fund.balance_cents >= total)
        .values(balance_cents=Fund.balance_cents - total, payments=Fund.payments + len(paid))
        .returning(Fund.balance_cents)
        .execution_options(synchronize_session=False)
    )
    if result.scalar_one_or_none() != balance:
        raise RuntimeError(f"fund {fund_id} changed while locked")  # never: the row is locked
    await insert_rows(
        unit.session,
        LedgerEntry,
        [_ledger_values(fund_id, p, -p.amount_cents, after) for p, after in paid],
    )
    return balances


async def credit(unit: Unit, fund_id: str, payment: Payment) -> int:
    """Put `payment` back into the fund (a clawback); the balance after."""
    balance: int = (
        await unit.session.execute(
            update(Fund)
            .where(Fund.fund_id == fund_id)
            .values(balance_cents=Fund.balance_cents + payment.amount_cents)
            .returning(Fund.balance_cents)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one()
    unit.session.add(_ledger_row(fund_id, payment, payment.amount_cents, balance))
    return balance


def _ledger_row(fund_id: str, payment: Payment, amount_cents: int, balance: int) -> LedgerEntry:
    return LedgerEntry(**_ledger_values(fund_id, payment, amount_cents, balance))


def _ledger_values(
    fund_id: str, payment: Payment, amount_cents: int, balance: int
) -> dict[str, object]:
    return {
        "fund_id": fund_id,
        "kind": payment.kind,
        "amount_cents": amount_cents,
        "balance_after_cents": balance,
        "member_id": payment.member_id,
        "case_id": payment.case_id,
        "claim_id": payment.claim_id,
        "cause_event_id": payment.cause_event_id,
        "at": payment.at,
    }


async def mark_exhausted(unit: Unit, fund_id: str, at: datetime) -> Fund | None:
    """Mark the fund as unable to pay; the fund the first time, None when said before."""
    marked = await unit.session.scalar(
        update(Fund)
        .where(Fund.fund_id == fund_id, Fund.exhausted_at.is_(None))
        .values(exhausted_at=at)
        .returning(Fund.fund_id)
        .execution_options(synchronize_session=False)
    )
    if marked is None:
        return None
    return await get(unit, fund_id, fresh=True)


async def measure(unit: Unit) -> None:
    """Each fund's balance as a share of its budget, for the alert that a fund runs low (read
    from the database, so every replica reports the same)."""
    for fund in await unit.session.scalars(select(Fund)):
        share = fund.balance_cents / fund.budget_cents if fund.budget_cents else 0.0
        metrics.FUND_BALANCE_SHARE.labels(fund.fund_id).set(share)


async def get(unit: Unit, fund_id: str, *, fresh: bool = False) -> Fund:
    found = await unit.session.get(Fund, fund_id, populate_existing=fresh)
    if found is None:
        raise NotFound(f"no fund {fund_id}")
    return found


async def ledger(unit: Unit, fund_id: str, limit: int, before_id: int | None) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.fund_id == fund_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    return list(await unit.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit)))
