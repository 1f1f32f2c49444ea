"""injury cases found by person; relief cases link them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:36:07.634878
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("injury_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_injury_cases_worker_key"), ["worker_key"], unique=False
        )

    with op.batch_alter_table("relief_cases", schema=None) as batch_op:
        # relief cases opened before this link nothing
        batch_op.add_column(
            sa.Column("linked_injury_cases", sa.Text(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("relief_cases", schema=None) as batch_op:
        batch_op.drop_column("linked_injury_cases")

    with op.batch_alter_table("injury_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_injury_cases_worker_key"))
        batch_op.drop_column("worker_key")
