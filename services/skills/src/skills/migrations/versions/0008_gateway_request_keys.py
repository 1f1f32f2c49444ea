"""seat request keys long enough for a gateway's own references (`<gateway>:<ref>`)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("seat_requests", schema=None) as batch_op:
        batch_op.alter_column(
            "request_key", existing_type=sa.String(length=64), type_=sa.String(length=110)
        )


def downgrade() -> None:
    with op.batch_alter_table("seat_requests", schema=None) as batch_op:
        batch_op.alter_column(
            "request_key", existing_type=sa.String(length=110), type_=sa.String(length=64)
        )
