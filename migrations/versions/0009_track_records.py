"""What each fact adds to each source's track record (events/track_records.py).

One row per fact (timeline, entry, attribute) and source it counts for: kept by the
projection, in the append's transaction, for the facts a batch recomputes, so a source's
record is the sum of its rows (an index scan over the facts it touches, never its
reports). Filled by a rebuild: the read model's name moves to ``.records-1``
(events/postgres/projection.py), so the first process to start rebuilds it from the log.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COUNTS = ("reports", "retracted", "corrected", "outweighed", "upheld", "cited")


def upgrade() -> None:
    op.create_table(
        "track_facts",
        sa.Column("timeline", sa.Text, primary_key=True),
        sa.Column("entry", sa.Text, primary_key=True),
        sa.Column("attribute", sa.Text, primary_key=True),
        sa.Column("source", sa.Text, primary_key=True),
        *(sa.Column(count, sa.Integer, nullable=False) for count in COUNTS),
    )
    op.create_index("track_facts_by_source", "track_facts", ["source", "timeline"])
    op.execute("""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                GRANT SELECT, INSERT, UPDATE, DELETE ON track_facts TO chronicle_writer;
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_table("track_facts")
