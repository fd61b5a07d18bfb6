"""Each timeline's as-of history, written down, so a process starts from it instead of
folding the whole log (events/postgres/history_snapshots.py).

Derived from the log and disposable, like the read model: export, restore and replay neither
read nor write it, and a row that no longer matches the log's hash is ignored.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history_snapshots",
        sa.Column("timeline", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("history", sa.LargeBinary, nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.execute("""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                GRANT SELECT, INSERT, UPDATE, DELETE ON history_snapshots TO chronicle_writer;
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_table("history_snapshots")
