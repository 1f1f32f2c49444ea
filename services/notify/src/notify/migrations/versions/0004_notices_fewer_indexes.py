"""notices lose two indexes no query uses: every notice written or sent updated them

Recipients are found through the unique (recipient, cause_event_id, template) constraint, and
due notices through the partial index on pending ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_recipient"))
        batch_op.drop_index(batch_op.f("ix_notices_status"))


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_recipient"), ["recipient"], unique=False)
