"""When a source last corrected or retracted a report, for correction notes in embeds.

Existing rows are filled from the log itself (the last ReportCorrected or ReportRetracted
of each report), so no replay is needed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reports", sa.Column("changed_at", sa.DateTime(timezone=True)))
    op.execute("""
        UPDATE reports r SET changed_at = changes.at
        FROM (SELECT stream, data->>'report' AS report,
                     max((data->>'reported_at')::timestamptz) AS at
              FROM events WHERE type IN ('ReportCorrected', 'ReportRetracted')
              GROUP BY stream, data->>'report') AS changes
        WHERE changes.stream = 'timeline:' || r.timeline AND changes.report = r.id
    """)


def downgrade() -> None:
    op.drop_column("reports", "changed_at")
