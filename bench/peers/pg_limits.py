"""The physical limits: how fast raw asyncpg moves event rows in and out of this PostgreSQL.

No event store does less than these, so Chronicle's figures are read as ratios to them,
measured on the same server in the same run. The table, its rows and the single-row
``INSERT`` are shared with bench/appends.py (W2's raw peer) and bench/bulk_import.py (the
``limit_events`` COPY it prints for information), which import them from here.

Run alone, it measures, on a table ``limit_events`` it creates and drops in the database:

- ``copy_events_per_s``: N rows in one ``COPY`` (``copy_records_to_table``);
- ``batched_insert_events_per_s``: N rows by ``executemany`` 1,000 at a time, one transaction;
- ``single_txn_1conn_events_per_s``: one row per transaction from one connection (each commit
  waits for its WAL flush), at most 3,000 rows;
- ``single_txn_16conn_events_per_s``: the same from 16 pooled connections at once;
- ``replay_events_per_s``: every row read back in position order through a server-side
  cursor (prefetch 5,000), each payload decoded with ``json.loads``.

usage: python bench/peers/pg_limits.py [DSN] [N]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
TABLE = "limit_events"
# An event table as a generic store keeps one: a gapless-enough identity position, a stream
# and a version unique within it, JSON payload and metadata, two times.
DDL = f"""
CREATE TABLE {TABLE} (
  position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id   uuid NOT NULL,
  version     integer NOT NULL,
  type        text NOT NULL,
  payload     jsonb NOT NULL,
  metadata    jsonb NOT NULL,
  occurred_at timestamptz,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, version)
)
"""
COLUMNS = ("stream_id", "version", "type", "payload", "metadata", "occurred_at")
INSERT = (f"INSERT INTO {TABLE} (stream_id, version, type, payload, metadata, occurred_at) "
          "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6)")
READ = (f"SELECT position, stream_id, version, type, payload, metadata, occurred_at, "
        f"recorded_at FROM {TABLE} ORDER BY position")
Row = tuple[uuid.UUID, int, str, str, str, dt.datetime]

BATCH = 1000
SINGLE_MAX = 3000
CONNECTIONS = 16
PREFETCH = 5000


def rows(count: int) -> list[Row]:
    """``count`` rows shaped like a reported fact: its own stream, a short JSON payload (an
    entry, an attribute, a range, a quote) and metadata (source, times, a retry key)."""
    now = dt.datetime.now(dt.UTC)
    made = []
    for n in range(count):
        payload = {"entry": f"e{n % 500}", "attribute": "killed",
                   "value": {"count": {"low": 5, "high": 200}}, "precision": "DAY",
                   "quote": "The Russian Foreign Ministry has confirmed the death of five "
                            "Russian nationals"}
        metadata = {"source": "russian-foreign-ministry", "reported_at": now.isoformat(),
                    "actor": "ingest", "idempotency_key": str(uuid.uuid4())}
        made.append((uuid.uuid4(), 1, "FactReported", json.dumps(payload),
                     json.dumps(metadata), now))
    return made


async def create_table(connection: asyncpg.Connection) -> None:
    await connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await connection.execute(DDL)


async def copy_in(connection: asyncpg.Connection, records: Sequence[Row]) -> None:
    await connection.copy_records_to_table(TABLE, records=records, columns=list(COLUMNS))


async def insert_batched(connection: asyncpg.Connection, records: Sequence[Row]) -> None:
    async with connection.transaction():
        for first in range(0, len(records), BATCH):
            await connection.executemany(INSERT, records[first:first + BATCH])


async def insert_one_per_transaction(connection: asyncpg.Connection,
                                     records: Sequence[Row]) -> list[float]:
    """Each row its own transaction (asyncpg autocommits a lone statement); the latencies."""
    latencies = []
    for record in records:
        started = time.perf_counter()
        await connection.execute(INSERT, *record)
        latencies.append(time.perf_counter() - started)
    return latencies


async def insert_concurrently(pool: asyncpg.Pool, records: Sequence[Row],
                              connections: int) -> list[float]:
    """Rows split over ``connections`` pooled connections, one transaction per row each."""

    async def one(share: Sequence[Row]) -> list[float]:
        async with pool.acquire() as connection:
            return await insert_one_per_transaction(connection, share)

    shares = await asyncio.gather(*(one(records[k::connections]) for k in range(connections)))
    return [latency for share in shares for latency in share]


async def read_back(connection: asyncpg.Connection) -> int:
    """Every row through a cursor in one transaction, payloads decoded; how many."""
    count = 0
    async with connection.transaction():
        async for record in connection.cursor(READ, prefetch=PREFETCH):
            json.loads(record["payload"])
            count += 1
    return count


async def timed(count: int, work: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    result = await work()
    done = result if isinstance(result, int) else count
    return done / (time.perf_counter() - started)


async def measure(dsn: str, count: int) -> dict[str, float]:
    records = rows(count)
    single = records[:min(count, SINGLE_MAX)]
    figures: dict[str, float] = {}
    connection = await asyncpg.connect(dsn)
    try:
        await create_table(connection)
        figures["copy_events_per_s"] = await timed(count, lambda: copy_in(connection, records))
        await create_table(connection)
        figures["batched_insert_events_per_s"] = await timed(
            count, lambda: insert_batched(connection, records))
        await create_table(connection)
        figures["single_txn_1conn_events_per_s"] = await timed(
            len(single), lambda: insert_one_per_transaction(connection, single))
        pool = await asyncpg.create_pool(dsn, min_size=CONNECTIONS, max_size=CONNECTIONS)
        try:
            await connection.execute(f"TRUNCATE {TABLE}")
            figures["single_txn_16conn_events_per_s"] = await timed(
                len(single), lambda: insert_concurrently(pool, single, CONNECTIONS))
        finally:
            await pool.close()
        await create_table(connection)
        await copy_in(connection, records)
        figures["replay_events_per_s"] = await timed(count, lambda: read_back(connection))
    finally:
        await connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await connection.close()
    return figures


def main() -> int:
    dsn = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DSN
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    for name, value in asyncio.run(measure(dsn, count)).items():
        print(f"{name}: {value:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
