"""funds, ledger, enrolments, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-27 16:07:52.583393
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from servicekit.migrations import create_kit_tables, drop_kit_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "enrolments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("policy_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_by", sa.String(length=16), nullable=True),
        sa.Column("offer_reason", sa.String(length=32), nullable=True),
        sa.Column("premium_cents", sa.BigInteger(), nullable=False),
        sa.Column("fund_id", sa.String(length=64), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("member_id", "policy_year", name=op.f("uq_enrolments_member_id")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolments_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolments_status"), ["status"], unique=False)

    op.create_table(
        "fund_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_cents", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("cause_event_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_ledger")),
    )
    with op.batch_alter_table("fund_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_ledger_fund_id"), ["fund_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_ledger_member_id"), ["member_id"], unique=False)

    op.create_table(
        "funds",
        sa.Column("fund_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("premium_cents", sa.BigInteger(), nullable=False),
        sa.Column("gifted", sa.Integer(), nullable=False),
        sa.Column("exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("fund_id", name=op.f("pk_funds")),
    )


def downgrade() -> None:
    op.drop_table("funds")
    with op.batch_alter_table("fund_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_ledger_member_id"))
        batch_op.drop_index(batch_op.f("ix_fund_ledger_fund_id"))

    op.drop_table("fund_ledger")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolments_status"))
        batch_op.drop_index(batch_op.f("ix_enrolments_member_id"))

    op.drop_table("enrolments")
    drop_kit_tables()
