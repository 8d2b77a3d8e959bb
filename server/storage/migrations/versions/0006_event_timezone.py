"""The event's time zone (IANA name), for plain local times in the report.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("timezone", sa.String(), nullable=False, server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("timezone")
