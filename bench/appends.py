"""W2 append throughput: ``reportFact`` over HTTP against raw asyncpg, in the same run.

Creates a throwaway database, serves Chronicle on it (``chronicle serve``), appends
``--events`` facts from ``--clients`` concurrent HTTP clients, checks the log holds exactly
what was acknowledged, then measures single-row INSERT transactions from as many raw asyncpg
connections into a scratch table shaped like ``shared/peers/pg_limits.py``'s
``limit_events``. Prints the figures and appends a line to ``bench/results.md``.

usage: python bench/appends.py [--dsn DSN] [--clients 16] [--events 3000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from _harness import (
    BENCH_DIR,
    DEFAULT_DSN,
    RESULTS,
    BenchError,
    chronicle_server,
    create_token,
    graphql,
    graphql_client,
    percentile_ms,
    record_run,
    report_server_log,
    throwaway_database,
)

RESULTS_HEADER = (
    "# Append benchmark (W2)\n\n"
    "`python bench/appends.py`: reportFact over HTTP vs raw asyncpg single-row INSERT "
    "transactions, same PostgreSQL, same run.\n\n"
    "| date (UTC) | commit | cores | clients | events | Chronicle ev/s | raw asyncpg ev/s "
    "| ratio | p50 ms | p99 ms | mean batch |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
# Reports spread over the shape of a real timeline (W1's 200 entries × 5 facts), from four
# sources, so each append recomputes one fact of ordinary size.
ENTRIES = 200
ATTRIBUTES = ("killed", "wounded", "attackers", "captured", "missing")
SOURCES = ("s0", "s1", "s2", "s3")
SETUP = (
    ("createTimeline", "CreateTimelineInput", {"slug": "bench", "title": "Bench"}),
    *(("registerSource", "RegisterSourceInput", {"id": s, "name": f"Source {s}",
                                                  "kind": "MEDIA"}) for s in SOURCES),
    *(("openEntry", "OpenEntryInput", {"timeline": "bench", "id": f"e{n}",
                                        "title": f"Entry {n}"}) for n in range(ENTRIES)),
)
REPORT_FACT = """
mutation($input: ReportFactInput!) { reportFact(input: $input) { event { position } } }
"""

# The peer: pg_limits.py's table and its single-row INSERT, replicated (that file runs on
# import). The table lives in the throwaway database and is dropped after the measurement.
PEER_DDL = """
CREATE TABLE limit_events (
  position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id uuid NOT NULL,
  version int NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL,
  occurred_at timestamptz,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, version)
)
"""
PEER_INSERT = ("INSERT INTO limit_events(stream_id,version,type,payload,metadata,occurred_at) "
               "VALUES($1,3,$2,$3::jsonb,$4::jsonb,$5)")
PeerRow = tuple[uuid.UUID, str, str, str, dt.datetime]


@dataclass(frozen=True, slots=True)
class Phase:
    """One timed run of ``count`` appends."""

    count: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile_ms(self, p: int) -> float:
        return percentile_ms(self.latencies, p)


@dataclass(frozen=True, slots=True)
class Figures:
    chronicle: Phase
    raw: Phase
    batch_sizes: list[int]
    clients: int

    @property
    def ratio(self) -> float:
        return self.chronicle.rate / self.raw.rate


# --- GraphQL ----------------------------------------------------------------------------

async def set_up(client: httpx.AsyncClient) -> None:
    for mutation, input_type, fields in SETUP:
        query = (f"mutation($input: {input_type}!) "
                 f"{{ {mutation}(input: $input) {{ event {{ position }} }} }}")
        await graphql(client, query, {"input": fields})


def report_fact(i: int) -> dict[str, object]:
    return {"input": {"timeline": "bench", "entry": f"e{i % ENTRIES}",
                      "attribute": ATTRIBUTES[(i // ENTRIES) % len(ATTRIBUTES)],
                      "value": {"count": {"best": i}}, "source": SOURCES[i % len(SOURCES)],
                      "stance": "CLAIMED",
                      "reportedAt": "2018-02-13T15:00:00Z",
                      "idempotencyKey": str(uuid.uuid4())}}


async def report_facts(base_url: str, token: str, count: int, clients: int) -> Phase:
    """``count`` reportFact requests from ``clients`` keep-alive clients, as fast as answered."""
    todo = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        async with graphql_client(base_url, token) as client:
            for i in todo:
                started = time.perf_counter()
                await graphql(client, REPORT_FACT, report_fact(i))
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return Phase(count, time.perf_counter() - started, latencies)


# --- checks on the log ------------------------------------------------------------------

async def verify_log(dsn: str, acknowledged: int) -> None:
    """The log holds exactly the acknowledged events, at positions 1..max."""
    connection = await asyncpg.connect(dsn)
    try:
        count, top = await connection.fetchrow("SELECT count(*), max(position) FROM events")
    finally:
        await connection.close()
    if count != acknowledged or top != acknowledged:
        raise BenchError(f"{acknowledged} events acknowledged, but the log holds {count} "
                         f"with max(position) {top}")


async def batch_sizes(dsn: str, after: int) -> list[int]:
    """Events per append batch after ``after``: one batch shares one ``recorded_at``."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT count(*) AS n FROM events WHERE position > $1 "
            "GROUP BY recorded_at ORDER BY recorded_at", after)
    finally:
        await connection.close()
    return [row["n"] for row in rows]


# --- the raw asyncpg peer ---------------------------------------------------------------

def peer_rows(n: int) -> Iterator[PeerRow]:
    now = dt.datetime.now(dt.UTC)
    for i in range(n):
        payload = {"entry": f"e{i % 500}", "attribute": "casualties.killed",
                   "value": {"low": 5, "high": 200},
                   "quote": "The Russian Foreign Ministry has confirmed the death of five "
                            "Russian nationals", "precision": "day"}
        meta = {"source": "ru-mfa", "reported_at": now.isoformat(), "actor": "ingest",
                "idempotency_key": str(uuid.uuid4())}
        yield uuid.uuid4(), "FactReported", json.dumps(payload), json.dumps(meta), now


async def insert_rows(pool: asyncpg.Pool, rows: list[PeerRow], clients: int) -> Phase:
    """One transaction per row, ``clients`` connections each taking every clients-th row."""
    latencies: list[float] = []

    async def worker(chunk: list[PeerRow]) -> None:
        async with pool.acquire() as connection:
            for row in chunk:
                started = time.perf_counter()
                await connection.execute(PEER_INSERT, *row)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(rows[k::clients]) for k in range(clients)))
    return Phase(len(rows), time.perf_counter() - started, latencies)


async def raw_inserts(dsn: str, count: int, clients: int, warmup: int) -> Phase:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    try:
        await pool.execute(PEER_DDL)
        try:
            await insert_rows(pool, list(peer_rows(warmup)), clients)
            return await insert_rows(pool, list(peer_rows(count)), clients)
        finally:
            await pool.execute("DROP TABLE limit_events")
    finally:
        await pool.close()


# --- reporting --------------------------------------------------------------------------

def summary(figures: Figures) -> str:
    sizes = figures.batch_sizes
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("clients / connections", f"{figures.clients}"),
        ("events (timed)", f"{figures.chronicle.count}"),
        ("Chronicle reportFact events/s", f"{figures.chronicle.rate:,.0f}"),
        ("raw asyncpg INSERT events/s", f"{figures.raw.rate:,.0f}"),
        ("ratio Chronicle / raw", f"{figures.ratio:.3f}"),
        ("Chronicle p50 / p99 ms", f"{figures.chronicle.percentile_ms(50):.1f} / "
                                   f"{figures.chronicle.percentile_ms(99):.1f}"),
        ("raw asyncpg p50 / p99 ms", f"{figures.raw.percentile_ms(50):.1f} / "
                                     f"{figures.raw.percentile_ms(99):.1f}"),
        ("append batches: count, mean, median, max",
         f"{len(sizes)}, {statistics.mean(sizes):.1f}, {statistics.median(sizes):g}, "
         f"{max(sizes)}"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>14}" for label, value in rows)


def histogram(sizes: list[int]) -> str:
    counts = sorted(Counter(sizes).items())
    return "batch size x how many: " + ", ".join(f"{size}x{n}" for size, n in counts)


def record(figures: Figures) -> None:
    record_run(RESULTS_HEADER, figures.clients, figures.chronicle.count,
               f"{figures.chronicle.rate:,.0f}", f"{figures.raw.rate:,.0f}",
               f"{figures.ratio:.3f}", f"{figures.chronicle.percentile_ms(50):.1f}",
               f"{figures.chronicle.percentile_ms(99):.1f}",
               f"{statistics.mean(figures.batch_sizes):.1f}")


# --- the run ----------------------------------------------------------------------------

async def measure(args: argparse.Namespace, log: Path) -> Figures:
    async with throwaway_database(args.dsn) as dsn, chronicle_server(dsn, log) as base_url:
        token = await create_token(dsn)
        async with graphql_client(base_url, token) as client:
            await set_up(client)
        await report_facts(base_url, token, args.warmup, args.clients)
        before = len(SETUP) + args.warmup
        chronicle = await report_facts(base_url, token, args.events, args.clients)
        await verify_log(dsn, before + args.events)
        sizes = await batch_sizes(dsn, before)
        raw = await raw_inserts(dsn, args.events, args.clients, args.warmup)
    return Figures(chronicle, raw, sizes, args.clients)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--clients", type=int, default=16,
                        help="concurrent HTTP clients, and raw asyncpg connections")
    parser.add_argument("--events", type=int, default=3000, help="timed appends on each side")
    parser.add_argument("--warmup", type=int, default=200, help="untimed appends first")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    fd, name = tempfile.mkstemp(prefix="chronicle-bench-", suffix=".log")
    os.close(fd)
    log = Path(name)
    try:
        figures = asyncio.run(measure(args, log))
    except BenchError as e:
        print(f"benchmark failed: {e}\nthe server's log is at {log}", file=sys.stderr)
        return 1
    report_server_log(log)
    print(summary(figures))
    print(histogram(figures.batch_sizes))
    record(figures)
    print(f"appended to {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
