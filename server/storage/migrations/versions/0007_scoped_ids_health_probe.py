"""A comment's client id is unique per table, not across the event; a one-row
table for the health check's write probe.

A second table sending a UUID another table already used was acked with the
first table's comment and its own comment was dropped (issue 23).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_client_id")
        batch_op.create_index("ix_comment_client_id", ["client_id"], unique=False)
        batch_op.create_unique_constraint("uq_comment_table_client", ["table_id", "client_id"])
    op.create_table(
        "health_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO health_probe (id, checked) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("health_probe")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_constraint("uq_comment_table_client", type_="unique")
        batch_op.drop_index("ix_comment_client_id")
        batch_op.create_index("ix_comment_client_id", ["client_id"], unique=True)
