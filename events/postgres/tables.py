"""Table definitions shared by the store, the projection and the migrations."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

events = Table(
    "events", metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("stream", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", Text, nullable=False),
    Column("idempotency_key", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream", "version", name="events_stream_version"),
)

# The command each idempotency key first carried, so a reuse with another command is caught.
idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("key", Text, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("position", BigInteger, nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

timelines = Table(
    "timelines", metadata,
    Column("slug", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("version", BigInteger, nullable=False),
    Column("created_position", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sources = Table(
    "sources", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("url", Text),
    Column("reliability", Text),
    Column("grade_note", Text),
    Column("version", BigInteger, nullable=False),
)

entries = Table(
    "entries", metadata,
    Column("timeline", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("merged_into", Text),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("timeline", "id"),
)

reports = Table(
    "reports", metadata,
    Column("timeline", Text, nullable=False),
    Column("id", Text, nullable=False),
    Column("entry", Text, nullable=False),
    Column("attribute", Text, nullable=False),
    Column("value", JSONB, nullable=False),
    Column("source", Text, nullable=False),
    Column("via", Text),
    Column("stance", Text, nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("quote", Text),
    Column("url", Text),
    Column("status", Text, nullable=False),
    Column("rank", Text, nullable=False),
    Column("rank_reason", Text),
    Column("retraction_reason", Text),
    Column("position", BigInteger, nullable=False),
    PrimaryKeyConstraint("timeline", "id"),
)

# The last position each projection has applied, written in the same transaction as its rows.
checkpoints = Table(
    "checkpoints", metadata,
    Column("projection", Text, primary_key=True),
    Column("position", BigInteger, nullable=False),
)
