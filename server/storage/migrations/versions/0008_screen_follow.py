"""The big screens follow the producer: which poll and question they show, and
whether they follow the producer's actions by themselves (on by default).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("screen_poll_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("screen_question_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("screen_follow", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("screen_follow")
        batch.drop_column("screen_question_id")
        batch.drop_column("screen_poll_id")
