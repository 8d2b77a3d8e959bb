"""Participatory budgeting: poll budget/unit/deficit, option cost/delta, allocation
amounts on votes, and tables' consensus allocations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.add_column(sa.Column("budget", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("unit", sa.String(), nullable=True))
        batch.add_column(sa.Column("deficit", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("polloption") as batch:
        batch.add_column(sa.Column("cost", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("delta", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("vote") as batch:
        batch.add_column(sa.Column("amounts", sa.String(), nullable=True))
    op.create_table(
        "table_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.Column("amounts", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["table_id"], ["event_table.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "table_id"),
    )
    op.create_index("ix_table_allocation_poll_id", "table_allocation", ["poll_id"])


def downgrade() -> None:
    op.drop_index("ix_table_allocation_poll_id", table_name="table_allocation")
    op.drop_table("table_allocation")
    with op.batch_alter_table("vote") as batch:
        batch.drop_column("amounts")
    with op.batch_alter_table("polloption") as batch:
        batch.drop_column("delta")
        batch.drop_column("cost")
    with op.batch_alter_table("poll") as batch:
        batch.drop_column("deficit")
        batch.drop_column("unit")
        batch.drop_column("budget")
