"""injury cases, visitors, follow-ups; funds pay condolence too

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:09:51.669284
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("case_id", "sequence", name=op.f("uq_follow_ups_case_id")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_status"), ["status"], unique=False)

    op.create_table(
        "injury_cases",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("case_key", sa.String(length=64), nullable=False),
        sa.Column("worker_name", sa.LargeBinary(), nullable=False),
        sa.Column("worker_resident_id", sa.LargeBinary(), nullable=False),
        sa.Column("worker_phone", sa.LargeBinary(), nullable=False),
        sa.Column("employer_code", sa.String(length=18), nullable=False),
        sa.Column("employer_name", sa.String(length=100), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("hospital_id", sa.String(length=32), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("union_id", sa.String(length=64), nullable=False),
        sa.Column("injured_on", sa.Date(), nullable=False),
        sa.Column("injury_kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("admission", sa.String(length=16), nullable=False),
        sa.Column("reported_by", sa.String(length=16), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visitor_id", sa.String(length=32), nullable=True),
        sa.Column("accept_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("unassigned_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("visited_by", sa.String(length=32), nullable=True),
        sa.Column("needs", sa.String(length=64), nullable=True),
        sa.Column("condolence_cents", sa.BigInteger(), nullable=True),
        sa.Column("condolence_unpaid", sa.Boolean(), nullable=False),
        sa.Column("discharged_on", sa.Date(), nullable=True),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("compensation_problem", sa.String(length=32), nullable=True),
        sa.Column("trace_headers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_injury_cases")),
        sa.UniqueConstraint("case_key", name=op.f("uq_injury_cases_case_key")),
    )
    with op.batch_alter_table("injury_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_injury_cases_accept_by"), ["accept_by"], unique=False)
        batch_op.create_index(
            "ix_injury_cases_awaiting_visit", ["visited_at", "visit_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_injury_cases_district_code"), ["district_code"], unique=False
        )
        batch_op.create_index(
            "ix_injury_cases_employer_reported", ["employer_code", "reported_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_injury_cases_reported_at"), ["reported_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_injury_cases_visitor_id"), ["visitor_id"], unique=False
        )

    op.create_table(
        "injury_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("report_ref", sa.String(length=64), nullable=False),
        sa.Column("reporter", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_injury_reports")),
        sa.UniqueConstraint("source", "report_ref", name=op.f("uq_injury_reports_source")),
    )
    with op.batch_alter_table("injury_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_injury_reports_case_id"), ["case_id"], unique=False)

    op.create_table(
        "visit_offers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_offers")),
    )
    with op.batch_alter_table("visit_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_offers_case_id"), ["case_id"], unique=False)

    op.create_table(
        "visitors",
        sa.Column("visitor_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("station_hospital_id", sa.String(length=32), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("visitor_id", name=op.f("pk_visitors")),
    )
    with op.batch_alter_table("fund_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_fund_ledger_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("funds", schema=None) as batch_op:
        batch_op.alter_column(
            "gifted",
            new_column_name="payments",
            existing_type=sa.Integer(),
            existing_nullable=False,
        )
        batch_op.alter_column("premium_cents", existing_type=sa.BIGINT(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("funds", schema=None) as batch_op:
        batch_op.alter_column(
            "payments",
            new_column_name="gifted",
            existing_type=sa.Integer(),
            existing_nullable=False,
        )
        batch_op.alter_column("premium_cents", existing_type=sa.BIGINT(), nullable=False)

    with op.batch_alter_table("fund_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_ledger_case_id"))
        batch_op.drop_column("case_id")

    op.drop_table("visitors")
    with op.batch_alter_table("visit_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_offers_case_id"))

    op.drop_table("visit_offers")
    with op.batch_alter_table("injury_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_injury_reports_case_id"))

    op.drop_table("injury_reports")
    with op.batch_alter_table("injury_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_injury_cases_visitor_id"))
        batch_op.drop_index(batch_op.f("ix_injury_cases_reported_at"))
        batch_op.drop_index("ix_injury_cases_employer_reported")
        batch_op.drop_index(batch_op.f("ix_injury_cases_district_code"))
        batch_op.drop_index("ix_injury_cases_awaiting_visit")
        batch_op.drop_index(batch_op.f("ix_injury_cases_accept_by"))

    op.drop_table("injury_cases")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_status"))

    op.drop_table("follow_ups")
