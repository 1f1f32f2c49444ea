"""members, history, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-27 15:57:41.277381
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
        "members",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("resident_id_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("union_id", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("city_code", sa.String(length=6), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("new_employment_form", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_members")),
        sa.UniqueConstraint("person_key", name=op.f("uq_members_person_key")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_city_code"), ["city_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_industry"), ["industry"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_union_id"), ["union_id"], unique=False)

    op.create_table(
        "member_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("from_union_id", sa.String(length=64), nullable=True),
        sa.Column("to_union_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.member_id"], name=op.f("fk_member_history_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_history")),
    )
    with op.batch_alter_table("member_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_history_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("member_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_history_member_id"))

    op.drop_table("member_history")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_union_id"))
        batch_op.drop_index(batch_op.f("ix_members_status"))
        batch_op.drop_index(batch_op.f("ix_members_region_code"))
        batch_op.drop_index(batch_op.f("ix_members_industry"))
        batch_op.drop_index(batch_op.f("ix_members_city_code"))

    op.drop_table("members")
    drop_kit_tables()
