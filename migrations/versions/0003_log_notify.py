"""Tell every listening API process when events were appended, once they are committed.

A statement-level trigger sends ``NOTIFY chronicle_log, '<highest new position>'``: it fires
for every way into the log (appends, imports, restores), and PostgreSQL delivers a
notification only when its transaction commits, so a listener never hears of events it
cannot read yet. The payload is only a wake-up: listeners read the log itself.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION chronicle_notify_appended() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('chronicle_log', (SELECT max(position) FROM appended)::text);
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER events_notify_appended AFTER INSERT ON events
        REFERENCING NEW TABLE AS appended
        FOR EACH STATEMENT EXECUTE FUNCTION chronicle_notify_appended()
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER events_notify_appended ON events")
    op.execute("DROP FUNCTION chronicle_notify_appended()")
