"""The event log: append under one lock (gapless, commit-ordered positions), read in order.

Only this module writes SQL for the ``events`` table. Appends happen inside an
``AppendSession``: one transaction that holds the log's advisory lock from ``head()`` to
commit, so positions are handed out in commit order and a reader that has seen position N
never later sees a new event below N. The session also runs the store's projection on its
own connection, so the read model commits with the events (read-your-writes).
``events.memory`` keeps the same contract in memory for unit tests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.chain import GENESIS_HASH, Envelope
from events.errors import StoreUnavailable, refuse_bad_text
from events.ports import (
    Applied,
    EventFilter,
    Head,
    IdempotencyRecord,
    Projection,
    StreamStates,
)

# pg_advisory_xact_lock key for appends: the bytes of "chronicl".
APPEND_LOCK_KEY = 0x6368726F6E69636C
LOCK_TIMEOUT = "5s"


# Built once from a constant column list; nothing a client supplies is interpolated.
_COLUMNS = ("position, stream, version, type, schema_version, data, recorded_at, actor, "
            "idempotency_key, prev_hash, hash")
_SELECT_STREAM = (f"SELECT {_COLUMNS} FROM events "  # noqa: S608
                  "WHERE stream = :stream AND version > :version ORDER BY version")
_SELECT_AFTER = (f"SELECT {_COLUMNS} FROM events "  # noqa: S608
                 "WHERE position > :after ORDER BY position LIMIT :limit")
_SELECT_WORLD = (f"SELECT {_COLUMNS} FROM events "  # noqa: S608
                 "WHERE (stream = :stream OR stream LIKE 'source:%') AND position > :after")
_SELECT_KEYS = (
    "SELECT k.key, k.fingerprint, "  # noqa: S608
    + ", ".join("e." + c for c in _COLUMNS.split(", "))
    + " FROM idempotency_keys k JOIN events e ON e.position = k.position "
    "WHERE k.key = ANY(:keys)")
_INSERT = (f"INSERT INTO events ({_COLUMNS}) VALUES (:position, :stream, "  # noqa: S608
           ":version, :type, :schema_version, CAST(:data AS jsonb), :recorded_at, :actor, "
           ":idempotency_key, :prev_hash, :hash)")


def _envelope(row: Any) -> Envelope:
    data = row.data if isinstance(row.data, dict) else json.loads(row.data)
    return Envelope(position=row.position, stream=row.stream, version=row.version,
                    type=row.type, schema_version=row.schema_version, data=data,
                    recorded_at=row.recorded_at, actor=row.actor,
                    idempotency_key=row.idempotency_key, prev_hash=row.prev_hash.strip(),
                    hash=row.hash.strip())


def _row(envelope: Envelope) -> dict[str, Any]:
    return {"position": envelope.position, "stream": envelope.stream,
            "version": envelope.version, "type": envelope.type,
            "schema_version": envelope.schema_version, "data": json.dumps(envelope.data),
            "recorded_at": envelope.recorded_at, "actor": envelope.actor,
            "idempotency_key": envelope.idempotency_key, "prev_hash": envelope.prev_hash,
            "hash": envelope.hash}


def _record(envelope: Envelope) -> tuple[Any, ...]:
    return (envelope.position, envelope.stream, envelope.version, envelope.type,
            envelope.schema_version, json.dumps(envelope.data), envelope.recorded_at,
            envelope.actor, envelope.idempotency_key, envelope.prev_hash, envelope.hash)


# From this many rows a binary COPY beats one INSERT per row (imports, restores, rebuilds);
# below it the statement is as quick and keeps to the ordinary path.
COPY_FROM = 200


async def copy_rows(connection: AsyncConnection, table: str, columns: Sequence[str],
                    records: Sequence[tuple[Any, ...]]) -> None:
    """COPY rows into ``table`` (resolved through the search path) on the transaction's own
    connection: triggers fire as for INSERT, and a rollback takes them back."""
    raw = await connection.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        table, records=records, columns=list(columns))


_UNAVAILABLE = (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError)


def is_unavailable(error: BaseException) -> bool:
    """True for errors that mean the database is unreachable or the log is busy."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _UNAVAILABLE):
        return True
    cause = getattr(error, "orig", None)
    sqlstate = getattr(cause, "sqlstate", None) or getattr(
        getattr(cause, "__cause__", None), "sqlstate", None)
    # 55P03 lock_not_available, 57P0x admin shutdown / crash shutdown / cannot connect, 08xxx
    if not isinstance(sqlstate, str):
        return False
    return sqlstate == "55P03" or sqlstate.startswith(("57P", "08"))


class PostgresAppendSession:
    def __init__(self, connection: AsyncConnection,
                 projection: Projection[AsyncConnection] | None = None) -> None:
        self.connection = connection
        self.projection = projection

    async def head(self) -> Head:
        await self.connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        await self.connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                      {"key": APPEND_LOCK_KEY})
        # Under the lock: the clock never runs backwards along positions.
        row = (await self.connection.execute(text(
            "SELECT last.position, last.hash, "
            "       greatest(clock_timestamp(), last.recorded_at) AS now "
            "FROM (SELECT position, hash, recorded_at FROM events "
            "      ORDER BY position DESC LIMIT 1) AS last"))).first()
        if row is None:
            now = (await self.connection.execute(text("SELECT clock_timestamp()"))).scalar_one()
            return Head(0, GENESIS_HASH, now)
        return Head(row.position, row.hash.strip(), row.now)

    async def stream_since(self, stream: str, version: int) -> list[Envelope]:
        result = await self.connection.execute(text(_SELECT_STREAM),
                                               {"stream": stream, "version": version})
        return [_envelope(row) for row in result]

    async def idempotency(self, keys: Sequence[str]) -> dict[str, tuple[str, Envelope]]:
        if not keys:
            return {}
        result = await self.connection.execute(text(_SELECT_KEYS), {"keys": list(keys)})
        return {row.key: (row.fingerprint.strip(), _envelope(row)) for row in result}

    async def write(self, envelopes: Sequence[Envelope],
                    keys: Sequence[IdempotencyRecord]) -> None:
        if len(envelopes) >= COPY_FROM:
            await copy_rows(self.connection, "events", _COLUMNS.split(", "),
                            [_record(e) for e in envelopes])
        elif envelopes:
            await self.connection.execute(text(_INSERT), [_row(e) for e in envelopes])
        if keys:
            await self.connection.execute(text(
                "INSERT INTO idempotency_keys (key, fingerprint, position) "
                "VALUES (:key, :fingerprint, :position)"),
                [{"key": k.key, "fingerprint": k.fingerprint, "position": k.position}
                 for k in keys])

    async def project(self, batch: Sequence[Applied], states: StreamStates) -> None:
        if self.projection is not None:
            await self.projection.apply(self.connection, batch, states)


class PostgresEventStore:
    def __init__(self, engine: AsyncEngine,
                 projection: Projection[AsyncConnection] | None = None) -> None:
        self.engine = engine
        self.projection = projection

    @asynccontextmanager
    async def session(self) -> AsyncIterator[PostgresAppendSession]:
        try:
            async with self.engine.begin() as connection:
                yield PostgresAppendSession(connection, self.projection)
        except Exception as e:
            if is_unavailable(e):
                raise StoreUnavailable("the event store is unavailable; nothing was stored, "
                                       "retry with the same idempotencyKey") from e
            raise

    async def read(self, after: int = 0, limit: int = 1000) -> list[Envelope]:
        async with self.engine.connect() as connection:
            result = await connection.execute(text(_SELECT_AFTER),
                                              {"after": after, "limit": limit})
            return [_envelope(row) for row in result]

    async def read_stream(self, stream: str) -> list[Envelope]:
        async with self.engine.connect() as connection:
            return await PostgresAppendSession(connection).stream_since(stream, 0)

    async def chunks(self, after: int = 0,
                     size: int = 5000) -> AsyncIterator[list[Envelope]]:
        """The whole log after ``after`` in position order, ``size`` events at a time, each
        chunk a fresh keyset query: memory stays flat however long the log is."""
        while True:
            chunk = await self.read(after, size)
            if not chunk:
                return
            yield chunk
            after = chunk[-1].position

    async def fingerprints(self, first: int, last: int) -> dict[int, str]:
        """The command fingerprints of idempotency keys on positions ``first..last``."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(text(
                "SELECT position, fingerprint FROM idempotency_keys "
                "WHERE position BETWEEN :first AND :last"), {"first": first, "last": last})
            return {row.position: row.fingerprint.strip() for row in rows}

    async def head_position(self) -> int:
        async with self.engine.connect() as connection:
            head = await connection.execute(text("SELECT coalesce(max(position), 0) FROM events"))
            return int(head.scalar_one())

    async def filtered(self, filter: EventFilter, after: int, limit: int) -> list[Envelope]:
        """The raw log in position order, narrowed by ``filter``, keyset-paged by position."""
        refuse_bad_text(stream=filter.stream, types=filter.types)
        clauses = ["position > :after"]
        params: dict[str, Any] = {"after": max(after, filter.after or 0), "limit": limit}
        if filter.stream is not None:
            clauses.append("stream = :stream")
            params["stream"] = filter.stream
        if filter.types:
            clauses.append("type = ANY(:types)")
            params["types"] = list(filter.types)
        if filter.recorded_from is not None:
            clauses.append("recorded_at >= :recorded_from")
            params["recorded_from"] = filter.recorded_from
        if filter.recorded_to is not None:
            clauses.append("recorded_at <= :recorded_to")
            params["recorded_to"] = filter.recorded_to
        sql = (f"SELECT {_COLUMNS} FROM events WHERE "  # noqa: S608 (constant clauses)
               + " AND ".join(clauses) + " ORDER BY position LIMIT :limit")
        async with self.engine.connect() as connection:
            return [_envelope(row) for row in await connection.execute(text(sql), params)]

    async def read_timeline_world(self, slug: str, recorded_until: datetime | None = None,
                                  after: int = 0) -> list[Envelope]:
        """A timeline's stream and every source stream, in position order."""
        refuse_bad_text(slug=slug)
        params: dict[str, Any] = {"stream": f"timeline:{slug}", "after": after}
        sql = _SELECT_WORLD
        if recorded_until is not None:
            sql += " AND recorded_at <= :until"
            params["until"] = recorded_until
        async with self.engine.connect() as connection:
            result = await connection.execute(text(sql + " ORDER BY position"), params)
            return [_envelope(row) for row in result]
