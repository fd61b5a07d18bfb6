"""Each entry's version: a log position that moves whenever what the entry shows changes.

An entry shows its title, its facts, its reports and their sources' names and grades; the
projection moves ``version`` to the position of the last event that changed any of them.
So an entry's version ``v`` stands for one content, the entry as of log position ``v``,
whichever way the log was batched (a rebuild gives the same versions), and an API process
can reuse an entry's rendering while its version is unchanged (api/graphql/fragments.py).

Existing rows take the log's last position: each entry as of there is what it shows now.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("version", sa.BigInteger(), nullable=False,
                                       server_default="0"))
    op.execute("UPDATE entries SET version = (SELECT coalesce(max(position), 0) FROM events)")
    op.alter_column("entries", "version", server_default=None)


def downgrade() -> None:
    op.drop_column("entries", "version")
