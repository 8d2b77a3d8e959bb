"""Display tokens for one site's screens.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accesstoken") as batch:
        batch.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_accesstoken_site", "site", ["site_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("accesstoken") as batch:
        batch.drop_constraint("fk_accesstoken_site", type_="foreignkey")
        batch.drop_column("site_id")
