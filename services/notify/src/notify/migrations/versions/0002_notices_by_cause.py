"""notices found by their cause; the sender's due notices by a partial index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:45:33.387883
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notices_cause_event_id"), ["cause_event_id"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_notices_next_attempt_at"))
        batch_op.create_index(
            "ix_notices_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_due")
        batch_op.create_index(
            batch_op.f("ix_notices_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_notices_cause_event_id"))
