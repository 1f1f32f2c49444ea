"""dispute cases: when the mediated agreement was judicially confirmed (司法确认)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:01:59.867263
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dispute_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispute_cases", schema=None) as batch_op:
        batch_op.drop_column("confirmed_at")
