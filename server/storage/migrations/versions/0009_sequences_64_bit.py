"""Sequence numbers are 64-bit, as the protocol accepts them: the phone page numbers
its votes in milliseconds since 1970 (1.8e12), which PostgreSQL refused for an
INTEGER column, so every vote from a phone failed there. SQLite's INTEGER is already
64-bit: nothing to change on it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = [("vote", "seq"), ("comment", "seq"), ("event_table", "last_seq")]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, type_=sa.BigInteger(), existing_type=sa.Integer(), nullable=False
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in COLUMNS:
        op.alter_column(
            table, column, type_=sa.Integer(), existing_type=sa.BigInteger(), nullable=False
        )
