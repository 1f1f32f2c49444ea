"""outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-27 15:58:10.299088
"""

from collections.abc import Sequence

from servicekit.migrations import create_kit_tables, drop_kit_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_kit_tables()


def downgrade() -> None:
    drop_kit_tables()
