"""The append-only event log, idempotency keys, tokens and the first read model.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("events", "idempotency_keys")
READ_MODEL = ("timelines", "sources", "entries", "reports", "checkpoints")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream", "version", name="events_stream_version"),
        sa.CheckConstraint("position > 0 AND version > 0", name="events_positive"),
    )
    op.create_index("events_idempotency_key", "events", ["idempotency_key"], unique=True,
                    postgresql_where=sa.text("idempotency_key IS NOT NULL"))
    op.create_index("events_recorded_at", "events", ["recorded_at"])
    op.create_index("events_type_position", "events", ["type", "position"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("position", sa.BigInteger, sa.ForeignKey("events.position"), nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "timelines",
        sa.Column("slug", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("reliability", sa.Text),
        sa.Column("grade_note", sa.Text),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("timeline", sa.Text, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("merged_into", sa.Text),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("timeline", "id"),
    )
    op.create_table(
        "reports",
        sa.Column("timeline", sa.Text, nullable=False),
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("entry", sa.Text, nullable=False),
        sa.Column("attribute", sa.Text, nullable=False),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("via", sa.Text),
        sa.Column("stance", sa.Text, nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quote", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rank", sa.Text, nullable=False),
        sa.Column("rank_reason", sa.Text),
        sa.Column("retraction_reason", sa.Text),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("timeline", "id"),
    )
    op.create_index("reports_entry", "reports", ["timeline", "entry", "position"])
    op.create_table(
        "checkpoints",
        sa.Column("projection", sa.Text, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    _protect_log()
    _grant_app_role()


def _protect_log() -> None:
    # The log refuses to change, even for its owner: only a superuser who disables the
    # trigger can, and the hash chain then names the position (chronicle verify).
    op.execute("""
        CREATE FUNCTION chronicle_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the % table is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
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


def _grant_app_role() -> None:
    # chronicle_writer: the role an API process should log in as (via a member role). It may
    # only read and append the log. Created only where the migrating user may create roles.
    op.execute("""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chronicle_writer') THEN
                BEGIN
                    CREATE ROLE chronicle_writer NOLOGIN;
                EXCEPTION WHEN insufficient_privilege THEN
                    RAISE NOTICE 'cannot create role chronicle_writer; skipping grants';
                    RETURN;
                END;
            END IF;
            GRANT SELECT, INSERT ON events, idempotency_keys TO chronicle_writer;
            GRANT SELECT, INSERT ON tokens TO chronicle_writer;
            GRANT SELECT, INSERT, UPDATE, DELETE ON timelines, sources, entries, reports,
                checkpoints TO chronicle_writer;
        END $$
    """)


def downgrade() -> None:
    for table in (*READ_MODEL, "tokens", "idempotency_keys", "events"):
        op.drop_table(table)
    op.execute("DROP FUNCTION chronicle_refuse_change()")
