"""Trusted documents: the GraphQL operations a deployment has registered, by SHA-256.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_documents",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("now()")),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="trusted_documents_sha256"),
    )
    op.execute("""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                GRANT SELECT ON trusted_documents TO chronicle_writer;
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_table("trusted_documents")
