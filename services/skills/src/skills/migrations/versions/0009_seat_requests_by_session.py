"""seat requests found by session (whom the seat gate must know)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_seat_requests_session_id", "seat_requests", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_seat_requests_session_id", table_name="seat_requests")
