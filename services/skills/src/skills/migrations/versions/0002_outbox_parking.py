"""kit: the outbox's parking, for records the broker can never take

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 04:40:00
"""

from collections.abc import Sequence

from servicekit.migrations import create_outbox_parking, drop_outbox_parking

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_parking()


def downgrade() -> None:
    drop_outbox_parking()
