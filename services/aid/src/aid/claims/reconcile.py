"""Reconciliation of claim payments against what the payment channel received (the sink's file,
or the gateway's statement exported in the same JSON-lines form).

    gonghui-aid-claims reconcile --statement payments.jsonl   (DATABASE_URL from the environment)

Lists: payments approved but not paid (pending or failed), payments aid marked paid that the
channel never received, payments the channel holds that no claim made, amounts that differ, and
payments the channel received more than once (the gateway drops repeats by payment id). Exits 1
when anything is listed. Prints ids and amounts only, never a member's personal data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from aid.claims.payments import PaymentOrder, sink_records
from aid.models import ClaimPayment
from gonghui_contracts.values import to_yuan
from servicekit import db

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.callback()
def main() -> None:
    """Operator commands of aid's mutual-aid claims."""


@dataclass(frozen=True)
class Stored:
    payment_id: str
    claim_id: str
    amount: str
    status: str


@dataclass
class Report:
    not_paid: list[Stored] = field(default_factory=list)
    never_received: list[Stored] = field(default_factory=list)
    without_claim: list[PaymentOrder] = field(default_factory=list)
    amount_differs: list[tuple[Stored, PaymentOrder]] = field(default_factory=list)
    received_twice: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.not_paid
            or self.never_received
            or self.without_claim
            or self.amount_differs
            or self.received_twice
        )


def compare(ours: Iterable[Stored], theirs: Iterable[PaymentOrder]) -> Report:
    """What aid says it paid against what the channel says it received (pure)."""
    received = list(theirs)
    by_id = {order.payment_id: order for order in received}
    report = Report(
        received_twice=sorted(
            i for i, n in Counter(o.payment_id for o in received).items() if n > 1
        )
    )
    known = set()
    for payment in ours:
        known.add(payment.payment_id)
        order = by_id.get(payment.payment_id)
        if payment.status in {"pending", "failed"} and order is None:
            report.not_paid.append(payment)
        elif payment.status == "paid" and order is None:
            report.never_received.append(payment)
        elif order is not None and order.amount != payment.amount:
            report.amount_differs.append((payment, order))
    report.without_claim = [o for o in by_id.values() if o.payment_id not in known]
    return report


async def stored(database_url: str) -> list[Stored]:
    """Every payment aid made or means to make (clawbacks are owed by members: not sent)."""
    engine = db.create_engine(database_url)
    try:
        async with db.session_factory(engine)() as session:
            rows = await session.scalars(
                select(ClaimPayment).where(ClaimPayment.kind != "clawback")
            )
            return [
                Stored(
                    str(row.payment_id),
                    str(row.claim_id),
                    str(to_yuan(row.amount_cents)),
                    row.status,
                )
                for row in rows
            ]
    finally:
        await engine.dispose()


@app.command("reconcile")
def reconcile(
    statement: Annotated[
        Path, typer.Option(help="What the channel received: the sink file or the gateway's export")
    ],
    database_url: Annotated[str, typer.Option(envvar="DATABASE_URL", help="aid's database")],
    limit: Annotated[int, typer.Option(min=1, help="Rows shown per list")] = 50,
) -> None:
    """Compare aid's claim payments with the channel's statement."""
    report = compare(asyncio.run(stored(database_url)), sink_records(statement))
    console = Console()
    lists: list[tuple[str, list[tuple[str, str, str]]]] = [
        ("approved, not paid", [(p.payment_id, p.claim_id, p.amount) for p in report.not_paid]),
        (
            "paid, never received by the channel",
            [(p.payment_id, p.claim_id, p.amount) for p in report.never_received],
        ),
        (
            "received, made by no claim",
            [(o.payment_id, o.claim_id, o.amount) for o in report.without_claim],
        ),
        (
            "amount differs (aid / channel)",
            [
                (p.payment_id, p.claim_id, f"{p.amount} / {o.amount}")
                for p, o in report.amount_differs
            ],
        ),
        ("received more than once", [(i, "", "") for i in report.received_twice]),
    ]
    for title, rows in lists:
        table = Table(title=f"{title}: {len(rows)}")
        for column in ("payment", "claim", "yuan"):
            table.add_column(column)
        for row in rows[:limit]:
            table.add_row(*row)
        console.print(table)
    raise typer.Exit(0 if report.clean else 1)
