"""The write rate limit's token buckets, one row per token name, shared by every process.

Not part of the log: export, restore and replay neither read nor write it.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_buckets",
        sa.Column("holder", sa.Text, primary_key=True),
        sa.Column("tokens", sa.Double, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                GRANT SELECT, INSERT, UPDATE ON write_buckets TO chronicle_writer;
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_table("write_buckets")
