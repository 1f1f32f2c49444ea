"""filings: by the partner that filed them (its reference is its own), not by channel

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=40), nullable=True))
    # Filings of before were told apart by channel only: their channel stands for the source.
    op.execute("UPDATE filings SET source = channel")
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.alter_column("source", existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_filings_channel"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_filings_source"), ["source", "filing_ref"])


def downgrade() -> None:
    with op.batch_alter_table("filings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_filings_source"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_filings_channel"), ["channel", "filing_ref"]
        )
        batch_op.drop_column("source")
