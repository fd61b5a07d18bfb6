"""Best-known facts in the read model, and where each entry sorts.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facts",
        sa.Column("timeline", sa.Text, nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("attribute", sa.Text, nullable=False),
        sa.Column("document", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("timeline", "entry", "attribute"),
    )
    op.add_column("entries", sa.Column("occurred_start", sa.DateTime(timezone=True)))
    op.create_index("entries_by_occurred", "entries", [
        "timeline", sa.text("coalesce(occurred_start, 'infinity'::timestamptz)"), "position"])
    op.execute("""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                GRANT SELECT, INSERT, UPDATE, DELETE ON facts TO chronicle_writer;
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_index("entries_by_occurred", "entries")
    op.drop_column("entries", "occurred_start")
    op.drop_table("facts")
