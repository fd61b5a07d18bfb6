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

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.chain import GENESIS_HASH, Envelope
from events.errors import StoreUnavailable, refuse_bad_text
from events.merkle import Frontier, Node
from events.ports import (
    Applied,
    EventFilter,
    Head,
    IdempotencyRecord,
    Projection,
    StreamStates,
)
from events.postgres.merkle_tree import TreeTip, catch_up, node_columns

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
_READ_AFTER = (f"SELECT {_COLUMNS} FROM events "  # noqa: S608
               "WHERE position > $1 ORDER BY position LIMIT $2")
_SELECT_WORLD = (f"SELECT {_COLUMNS} FROM events "  # noqa: S608
                 "WHERE (stream = :stream OR stream LIKE 'source:%') AND position > :after")
# The append's own statements run on the driver's connection (asyncpg, numbered parameters)
# inside the transaction SQLAlchemy began: each costs one round trip and a fraction of the
# CPU the same statement costs through SQLAlchemy's execution layer (about 30 against 100
# µs, measured), and a batch runs several. ``_LOCK`` is the first statement of every append
# session and goes through SQLAlchemy, which opens the transaction (BEGIN) before it; the
# lock timeout is set by the same statement (the materialized CTE runs before the lock is
# asked for), so the lock costs one round trip, not two.
_LOCK = text("WITH timeout AS MATERIALIZED ("
             "SELECT set_config('lock_timeout', :timeout, true)) "
             "SELECT pg_advisory_xact_lock(:key) FROM timeout")
# A statement of its own, after the lock: under READ COMMITTED its snapshot is taken once
# the lock is held, so it sees every commit made before the lock was granted.
_HEAD = ("SELECT last.position, last.hash, "
         "       greatest(clock_timestamp(), last.recorded_at) AS now "
         "FROM (SELECT position, hash, recorded_at FROM events "
         "      ORDER BY position DESC LIMIT 1) AS last")
_KEYS_OF = (
    "SELECT k.key, k.fingerprint, "  # noqa: S608
    + ", ".join("e." + c for c in _COLUMNS.split(", "))
    + " FROM idempotency_keys k JOIN events e ON e.position = k.position "
    "WHERE k.key = ANY($1::text[])")
# A batch's events as one multi-row INSERT from arrays (one statement, so the log's
# statement-level NOTIFY trigger fires once per batch, not once per event), and its
# idempotency keys in the same statement.
_UNNEST_EVENTS = (
    "SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::int[], "
    "$6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[], $11::text[]) "
    "AS u(position, stream, version, type, schema_version, data, recorded_at, actor, "
    "idempotency_key, prev_hash, hash)")
_INSERT_EVENTS = (
    f"INSERT INTO events ({_COLUMNS}) "  # noqa: S608
    "SELECT position, stream, version, type, schema_version, data::jsonb, recorded_at, "
    f"actor, idempotency_key, prev_hash, hash FROM ({_UNNEST_EVENTS}) AS batch")
_INSERT_KEYS = ("INSERT INTO idempotency_keys (key, fingerprint, position) "
                "SELECT * FROM unnest($12::text[], $13::text[], $14::bigint[])")
_INSERT_NODES = ("INSERT INTO merkle_nodes (level, idx, hash) "
                 "SELECT * FROM unnest($15::smallint[], $16::bigint[], $17::bytea[])")
# The events, the tree nodes they complete (events/postgres/merkle_tree.py) and the keys.
_INSERT_EVENTS_AND_KEYS = (f"WITH appended AS ({_INSERT_EVENTS}), "
                           f"grown AS ({_INSERT_NODES}) {_INSERT_KEYS}")
_INSERT_KEYS_ONLY = ("INSERT INTO idempotency_keys (key, fingerprint, position) "
                     "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])")


def _envelope(row: Any) -> Envelope:
    data = row.data if isinstance(row.data, dict) else json.loads(row.data)
    return Envelope(position=row.position, stream=row.stream, version=row.version,
                    type=row.type, schema_version=row.schema_version, data=data,
                    recorded_at=row.recorded_at, actor=row.actor,
                    idempotency_key=row.idempotency_key, prev_hash=row.prev_hash.strip(),
                    hash=row.hash.strip())


def record_envelope(record: asyncpg.Record) -> Envelope:
    """An event read by the driver itself (asyncpg's record, ``data`` as JSON text)."""
    data = record["data"]
    return Envelope(position=record["position"], stream=record["stream"],
                    version=record["version"], type=record["type"],
                    schema_version=record["schema_version"],
                    data=data if isinstance(data, dict) else json.loads(data),
                    recorded_at=record["recorded_at"], actor=record["actor"],
                    idempotency_key=record["idempotency_key"],
                    prev_hash=record["prev_hash"].strip(), hash=record["hash"].strip())


async def read_after(driver: asyncpg.Connection, after: int, limit: int) -> list[Envelope]:
    """The log after ``after`` in position order, on a driver connection of one's own (the
    log feed's listening connection): one statement, no transaction around it."""
    return [record_envelope(row) for row in await driver.fetch(_READ_AFTER, after, limit)]


def _columns(envelopes: Sequence[Envelope]) -> list[list[Any]]:
    """The envelopes as one array per column, in ``_COLUMNS`` order."""
    records = [_record(e) for e in envelopes]
    return [list(column) for column in zip(*records, strict=True)]


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


# SQLAlchemy's and the driver's own (the append's statements use the driver directly).
_UNAVAILABLE = (OperationalError, InterfaceError, OSError, ConnectionError, TimeoutError,
                asyncpg.InterfaceError)


def is_unavailable(error: BaseException) -> bool:
    """True for errors that mean the database is unreachable or the log is busy, whether
    SQLAlchemy raised them or the driver did (the append's own statements use it)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _UNAVAILABLE):
        return True
    cause = getattr(error, "orig", None)
    sqlstate = getattr(error, "sqlstate", None) or getattr(cause, "sqlstate", None) or getattr(
        getattr(cause, "__cause__", None), "sqlstate", None)
    # 55P03 lock_not_available, 57P0x admin shutdown / crash shutdown / cannot connect, 08xxx
    if not isinstance(sqlstate, str):
        return False
    return sqlstate == "55P03" or sqlstate.startswith(("57P", "08"))


class PostgresAppendSession:
    def __init__(self, connection: AsyncConnection,
                 projection: Projection[AsyncConnection] | None = None,
                 tree: TreeTip | None = None) -> None:
        self.connection = connection
        self.projection = projection
        self.tree = TreeTip() if tree is None else tree
        self._driver: asyncpg.Connection | None = None

    async def _in_transaction(self) -> asyncpg.Connection:
        """The driver's connection, once SQLAlchemy's transaction is open on it: a
        statement sent there outside it would commit on its own."""
        if self._driver is None:
            raw = await self.connection.get_raw_connection()
            driver: asyncpg.Connection = raw.driver_connection
            if not driver.is_in_transaction():
                raise RuntimeError("the append session's transaction is not open")
            self._driver = driver
        return self._driver

    async def driver(self) -> asyncpg.Connection:
        """The driver's connection inside the append's transaction (after ``head``)."""
        return await self._in_transaction()

    async def head(self) -> Head:
        await self.connection.execute(_LOCK, {"timeout": LOCK_TIMEOUT, "key": APPEND_LOCK_KEY})
        driver = await self._in_transaction()
        # Under the lock: the clock never runs backwards along positions.
        row = await driver.fetchrow(_HEAD)
        if row is None:
            return Head(0, GENESIS_HASH, await driver.fetchval("SELECT clock_timestamp()"))
        return Head(row["position"], row["hash"].strip(), row["now"])

    async def stream_since(self, stream: str, version: int) -> list[Envelope]:
        result = await self.connection.execute(text(_SELECT_STREAM),
                                               {"stream": stream, "version": version})
        return [_envelope(row) for row in result]

    async def idempotency(self, keys: Sequence[str]) -> dict[str, tuple[str, Envelope]]:
        if not keys:
            return {}
        driver = await self._in_transaction()
        return {row["key"]: (row["fingerprint"].strip(), record_envelope(row))
                for row in await driver.fetch(_KEYS_OF, list(keys))}

    async def write(self, envelopes: Sequence[Envelope],
                    keys: Sequence[IdempotencyRecord]) -> None:
        """The events and their idempotency keys: one statement for a batch of the group
        commit, a binary COPY for the events of a big one (imports, restores)."""
        if not envelopes and not keys:
            return
        driver = await self._in_transaction()
        key_columns = [[k.key for k in keys], [k.fingerprint for k in keys],
                       [k.position for k in keys]]
        nodes: list[tuple[Node, bytes]] = []
        if envelopes:
            frontier = await self._frontier(driver, envelopes[0])
            # Kept before the commit: an append that does not commit leaves a frontier no
            # later append follows (TreeTip.follows), so it is read back then.
            self.tree.frontier, nodes = frontier.append([e.hash for e in envelopes])
        if len(envelopes) >= COPY_FROM:
            await copy_rows(self.connection, "events", _COLUMNS.split(", "),
                            [_record(e) for e in envelopes])
            await copy_rows(self.connection, "merkle_nodes", ("level", "idx", "hash"),
                            [(level, index, digest) for (level, index), digest in nodes])
        elif envelopes:
            await driver.execute(_INSERT_EVENTS_AND_KEYS, *_columns(envelopes), *key_columns,
                                 *node_columns(nodes))
            return
        if keys:
            await driver.execute(_INSERT_KEYS_ONLY, *key_columns)

    async def _frontier(self, driver: asyncpg.Connection, first: Envelope) -> Frontier:
        """The tree's frontier just before ``first``: this process's own, or read back (and
        caught up, for a log appended before the tree existed)."""
        known = self.tree.follows(first)
        return known if known is not None else await catch_up(driver, first.position - 1)

    async def project(self, batch: Sequence[Applied], states: StreamStates) -> None:
        if self.projection is not None:
            await self.projection.apply(self.connection, batch, states)


class PostgresEventStore:
    def __init__(self, engine: AsyncEngine,
                 projection: Projection[AsyncConnection] | None = None) -> None:
        self.engine = engine
        self.projection = projection
        self.tree = TreeTip()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[PostgresAppendSession]:
        try:
            async with self.engine.begin() as connection:
                yield PostgresAppendSession(connection, self.projection, self.tree)
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
