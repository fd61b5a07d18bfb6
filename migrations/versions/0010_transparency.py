"""The log as an RFC 6962 Merkle tree, and the signed checkpoints of it (events/merkle.py).

``merkle_nodes`` keeps every perfect subtree of the tree over the events (leaf ``i`` is
the event at position ``i + 1``), written in the append's transaction; a log appended
before this migration has its nodes added by the first append or by the catch-up each
process runs at start (events/postgres/merkle_tree.py), both under the append lock.
``log_checkpoints`` keeps each signed checkpoint (a C2SP signed note) Chronicle issued.
Both only grow: like the log, they refuse UPDATE, DELETE and TRUNCATE.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APPEND_ONLY = ("merkle_nodes", "log_checkpoints")


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger, primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root", sa.LargeBinary, nullable=False),
        sa.Column("key_name", sa.Text, nullable=False),
        sa.Column("key_id", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text("clock_timestamp()")),
    )
    op.create_index("log_checkpoints_by_size", "log_checkpoints", ["tree_size"])
    for table in APPEND_ONLY:
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION chronicle_refuse_change()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION chronicle_refuse_change()
        """)
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
    op.execute("""
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                GRANT SELECT, INSERT ON merkle_nodes, log_checkpoints TO chronicle_writer;
            END IF;
        END $$
    """)


def downgrade() -> None:
    op.drop_table("log_checkpoints")
    op.drop_table("merkle_nodes")
