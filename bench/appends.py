"""W2 append throughput: ``reportFact`` over HTTP against raw asyncpg, the ``eventsourcing``
library and PostGraphile 5's ``createFact`` over HTTP, in the same run.

Creates a throwaway database, serves Chronicle on it (``chronicle serve``), appends
``--events`` facts from ``--clients`` concurrent HTTP clients, checks the log holds exactly
what was acknowledged, then measures single-row INSERT transactions from as many raw asyncpg
connections into the scratch table ``limit_events`` of ``bench/peers/pg_limits.py``, runs
``bench/peers/eventsourcing_peer.py`` (the ``eventsourcing`` library saving one event per
transaction, from one connection and from ``--clients`` threads) on the same database, and
(W2-http) starts PostGraphile 5 on ``bench/peers/postgraphile`` there and sends it as many
``createFact`` mutations from as many HTTP clients. Prints the figures and appends a line to
``bench/results.md``.

usage: python bench/appends.py [--dsn DSN] [--clients 16] [--events 3000] [--warmup 200]
                               [--eventsourcing PATH | --no-eventsourcing]
                               [--peer-dir DIR | --no-postgraphile]
                               [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from _harness import (
    BENCH_DIR,
    DEFAULT_DSN,
    BenchError,
    Comparison,
    add_suite_options,
    chronicle_server,
    create_token,
    failed,
    graphql,
    graphql_client,
    percentile_ms,
    publish,
    record_run,
    report_server_log,
    server_log,
    throwaway_database,
    write_summary,
)
from peers import pg_limits
from reads import PEER_DIR, postgraphile

RESULTS_HEADER = (
    "# Append benchmark (W2)\n\n"
    "`python bench/appends.py`: reportFact over HTTP vs raw asyncpg single-row INSERT "
    "transactions from as many connections, vs the `eventsourcing` library saving one "
    "event per transaction from one connection and from `clients` threads "
    "(`bench/peers/eventsourcing_peer.py`), and vs PostGraphile 5's `createFact` over HTTP "
    "from `clients` clients (W2-http, `bench/peers/postgraphile`); — in a column: not "
    "measured then (the column came later), same PostgreSQL, same run. Goals: ≥ 0.3× raw, "
    "≥ 3× eventsourcing (either), ≥ 1× PostGraphile.\n\n"
    "| date (UTC) | commit | cores | clients | events | Chronicle ev/s | raw asyncpg ev/s "
    "| ratio | p50 ms | p99 ms | mean batch | eventsourcing ev/s | ratio eventsourcing "
    "| eventsourcing × clients ev/s | ratio eventsourcing × clients | PostGraphile ev/s "
    "| ratio PostGraphile | PostGraphile p50 / p99 ms |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
    "| --- | --- | --- | --- |\n"
)
# Issue 7's goals for W2, as multiples of each peer's events/s (W2-http's: "A live timeline
# stays fast while it is being written").
GOAL_RAW = 0.3
GOAL_EVENTSOURCING = 3.0
GOAL_POSTGRAPHILE = 1.0
EVENTSOURCING_PEER = BENCH_DIR / "peers" / "eventsourcing_peer.py"
EVENTSOURCING_FIGURE = "single_txn_1conn_events_per_s"


def eventsourcing_concurrent_figure(clients: int) -> str:
    """The peer's figure for one event per transaction from ``clients`` threads."""
    return f"single_txn_{clients}conn_events_per_s"


EVENTSOURCING_TIMEOUT = 600.0
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
# W2-http's peer: the same report as PostGraphile's createFact on bench/peers/postgraphile's
# tables (entries 1..200, made by schema.sql); its trigger makes the new row replace the
# entry's fact on that attribute, as a report changes a fact in Chronicle.
CREATE_FACT = """
mutation($input: CreateFactInput!) { createFact(input: $input) { fact { rowId } } }
"""

# The raw peer is pg_limits.py's: its table, its rows and its single-row INSERT. The table
# lives in the throwaway database and is dropped after the measurement.


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
    eventsourcing: dict[str, float] | None  # the peer script's figures; None when skipped
    postgraphile: Phase | None  # createFact over HTTP; None when skipped

    @property
    def ratio(self) -> float:
        return self.chronicle.rate / self.raw.rate

    @property
    def eventsourcing_rate(self) -> float | None:
        return None if self.eventsourcing is None else self.eventsourcing[EVENTSOURCING_FIGURE]

    @property
    def eventsourcing_ratio(self) -> float | None:
        rate = self.eventsourcing_rate
        return None if rate is None else self.chronicle.rate / rate

    @property
    def eventsourcing_concurrent_rate(self) -> float | None:
        if self.eventsourcing is None:
            return None
        return self.eventsourcing[eventsourcing_concurrent_figure(self.clients)]

    @property
    def eventsourcing_concurrent_ratio(self) -> float | None:
        rate = self.eventsourcing_concurrent_rate
        return None if rate is None else self.chronicle.rate / rate

    @property
    def postgraphile_ratio(self) -> float | None:
        return None if self.postgraphile is None else self.chronicle.rate / self.postgraphile.rate


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


def create_fact(i: int) -> dict[str, object]:
    """``report_fact(i)`` as the PostGraphile peer's ``createFact`` input."""
    return {"input": {"fact": {"entryId": 1 + i % ENTRIES,
                               "attribute": ATTRIBUTES[(i // ENTRIES) % len(ATTRIBUTES)],
                               "best": {"best": i}, "low": str(i), "high": str(i),
                               "disputed": False, "sources": [SOURCES[i % len(SOURCES)]]}}}


async def report_facts(base_url: str, token: str | None, count: int, clients: int,
                       query: str = REPORT_FACT,
                       variables: Callable[[int], dict[str, object]] = report_fact) -> Phase:
    """``count`` mutations (``reportFact`` unless told otherwise) from ``clients`` keep-alive
    clients, as fast as answered; any ``errors`` stop the run."""
    todo = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        async with graphql_client(base_url, token) as client:
            for i in todo:
                started = time.perf_counter()
                await graphql(client, query, variables(i))
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

async def insert_rows(pool: asyncpg.Pool, rows: list[pg_limits.Row], clients: int) -> Phase:
    """One transaction per row, ``clients`` connections each taking every clients-th row."""
    started = time.perf_counter()
    latencies = await pg_limits.insert_concurrently(pool, rows, clients)
    return Phase(len(rows), time.perf_counter() - started, latencies)


async def raw_inserts(dsn: str, count: int, clients: int, warmup: int) -> Phase:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    try:
        async with pool.acquire() as connection:
            await pg_limits.create_table(connection)
        try:
            await insert_rows(pool, pg_limits.rows(warmup), clients)
            return await insert_rows(pool, pg_limits.rows(count), clients)
        finally:
            await pool.execute(f"DROP TABLE {pg_limits.TABLE}")
    finally:
        await pool.close()


# --- the eventsourcing peer -------------------------------------------------------------

def parse_peer_output(output: str) -> dict[str, float]:
    """``name: 1,234`` lines, as the peer scripts print their figures."""
    return {name: float(number.replace(",", "")) for name, number in
            re.findall(r"^(\w+): ([\d,.]+)$", output, flags=re.MULTILINE)}


async def eventsourcing_peer(script: Path, dsn: str, count: int,
                             clients: int) -> dict[str, float]:
    """Run ``eventsourcing_peer.py count --threads clients`` with ``PEER_DSN=dsn`` (it makes
    its own schema ``peer_es`` there) and return its figures: ``count`` aggregates saved one
    transaction each from one connection, as many from ``clients`` threads at once, then ten
    times as many in batches, then read back."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(count), "--threads", str(clients),
        env={**os.environ, "PEER_DSN": dsn},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), EVENTSOURCING_TIMEOUT)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise BenchError(f"{script.name} exited with {process.returncode}: "
                         f"{stderr.decode()[-2000:]}")
    figures = parse_peer_output(stdout.decode())
    for wanted in (EVENTSOURCING_FIGURE, eventsourcing_concurrent_figure(clients)):
        if wanted not in figures:
            raise BenchError(f"{script.name} printed no {wanted}: {stdout.decode()[-1000:]}")
    return figures


# --- the PostGraphile peer (W2-http) ----------------------------------------------------

async def postgraphile_creates(peer_dir: Path, dsn: str, count: int, clients: int,
                               warmup: int) -> Phase:
    """PostGraphile 5 on ``dsn`` (``serve.py`` loads its schema ``peer_pgl`` there), then
    ``warmup`` untimed and ``count`` timed ``createFact`` mutations from ``clients`` keep-alive
    clients; the peer's fact table must then still hold its 1,000 facts (each new one replaced
    the one it reports on)."""
    probe = (peer_dir / "query.json").read_text().strip()
    with tempfile.TemporaryDirectory(prefix="chronicle-appends-") as directory:
        log = Path(directory) / "postgraphile.log"
        async with postgraphile(peer_dir, dsn, probe, log) as url:
            base_url = url.removesuffix("/graphql")
            await report_facts(base_url, None, warmup, clients, CREATE_FACT, create_fact)
            phase = await report_facts(base_url, None, count, clients, CREATE_FACT,
                                       lambda i: create_fact(warmup + i))
    connection = await asyncpg.connect(dsn)
    try:
        facts, pairs = await connection.fetchrow(
            "SELECT count(*), count(DISTINCT (entry_id, attribute)) FROM peer_pgl.fact")
        written = await connection.fetchval("SELECT max(id) - 1000 FROM peer_pgl.fact")
    finally:
        await connection.close()
    if facts != pairs or written < warmup + count:
        raise BenchError(f"PostGraphile's fact table holds {facts} facts on {pairs} (entry, "
                         f"attribute) pairs after {written} createFact (expected "
                         f"{warmup + count})")
    return phase


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
        *eventsourcing_rows(figures),
        *postgraphile_rows(figures),
        ("Chronicle p50 / p99 ms", f"{figures.chronicle.percentile_ms(50):.1f} / "
                                   f"{figures.chronicle.percentile_ms(99):.1f}"),
        ("raw asyncpg p50 / p99 ms", f"{figures.raw.percentile_ms(50):.1f} / "
                                     f"{figures.raw.percentile_ms(99):.1f}"),
        ("append batches: count, mean, median, max",
         f"{len(sizes)}, {statistics.mean(sizes):.1f}, {statistics.median(sizes):g}, "
         f"{max(sizes)}"),
        (f"goal (issue 7, W2): ≥ {GOAL_RAW}× raw", met(figures.ratio >= GOAL_RAW)),
    ]
    if figures.eventsourcing_ratio is not None:
        rows.append((f"goal (issue 7, W2): ≥ {GOAL_EVENTSOURCING:g}× eventsourcing",
                     met(figures.eventsourcing_ratio >= GOAL_EVENTSOURCING)))
    concurrent = figures.eventsourcing_concurrent_ratio
    if concurrent is not None:
        rows.append((f"goal: ≥ {GOAL_EVENTSOURCING:g}× eventsourcing at {figures.clients} "
                     "threads", met(concurrent >= GOAL_EVENTSOURCING)))
    if figures.postgraphile_ratio is not None:
        rows.append((f"goal (W2-http): ≥ {GOAL_POSTGRAPHILE:g}× PostGraphile createFact",
                     met(figures.postgraphile_ratio >= GOAL_POSTGRAPHILE)))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>14}" for label, value in rows)


def met(done: bool) -> str:
    return "met" if done else "MISSED"


def eventsourcing_rows(figures: Figures) -> list[tuple[str, str]]:
    if figures.eventsourcing is None:
        return [("eventsourcing peer", "skipped")]
    es = figures.eventsourcing
    return [
        ("eventsourcing events/s (1 txn each, 1 conn)", f"{es[EVENTSOURCING_FIGURE]:,.0f}"),
        ("ratio Chronicle / eventsourcing", f"{figures.eventsourcing_ratio:.3f}"),
        (f"eventsourcing events/s (1 txn each, {figures.clients} threads)",
         f"{figures.eventsourcing_concurrent_rate:,.0f}"),
        (f"ratio Chronicle / eventsourcing at {figures.clients} threads",
         f"{figures.eventsourcing_concurrent_ratio:.3f}"),
        ("  batched / read back (informational)",
         f"{es.get('batched_events_per_s', 0):,.0f} / {es.get('replay_events_per_s', 0):,.0f}"),
    ]


def postgraphile_rows(figures: Figures) -> list[tuple[str, str]]:
    pgl = figures.postgraphile
    if pgl is None:
        return [("PostGraphile createFact peer", "skipped")]
    return [
        (f"PostGraphile createFact events/s ({figures.clients} clients)", f"{pgl.rate:,.0f}"),
        ("ratio Chronicle / PostGraphile (W2-http)", f"{figures.postgraphile_ratio:.3f}"),
        ("PostGraphile p50 / p99 ms",
         f"{pgl.percentile_ms(50):.1f} / {pgl.percentile_ms(99):.1f}"),
    ]


def histogram(sizes: list[int]) -> str:
    counts = sorted(Counter(sizes).items())
    return "batch size x how many: " + ", ".join(f"{size}x{n}" for size, n in counts)


def cell(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def record(figures: Figures) -> None:
    pgl = figures.postgraphile
    record_run(RESULTS_HEADER, figures.clients, figures.chronicle.count,
               f"{figures.chronicle.rate:,.0f}", f"{figures.raw.rate:,.0f}",
               f"{figures.ratio:.3f}", f"{figures.chronicle.percentile_ms(50):.1f}",
               f"{figures.chronicle.percentile_ms(99):.1f}",
               f"{statistics.mean(figures.batch_sizes):.1f}",
               cell(figures.eventsourcing_rate, ",.0f"), cell(figures.eventsourcing_ratio, ".3f"),
               cell(figures.eventsourcing_concurrent_rate, ",.0f"),
               cell(figures.eventsourcing_concurrent_ratio, ".3f"),
               cell(None if pgl is None else pgl.rate, ",.0f"),
               cell(figures.postgraphile_ratio, ".3f"),
               "—" if pgl is None else
               f"{pgl.percentile_ms(50):.1f} / {pgl.percentile_ms(99):.1f}")


def comparisons(figures: Figures) -> list[Comparison]:
    what = f"reportFact over HTTP, {figures.clients} clients"
    found = [Comparison(
        key="W2 raw", what=what, unit="events/s", chronicle=figures.chronicle.rate,
        peer_name=f"raw asyncpg INSERT, {figures.clients} connections",
        peer=figures.raw.rate, goal=f"≥ {GOAL_RAW}× peer", met=figures.ratio >= GOAL_RAW,
        judged=f"{figures.ratio:.3f}×")]
    rate, ratio = figures.eventsourcing_rate, figures.eventsourcing_ratio
    if rate is not None and ratio is not None:
        found.append(Comparison(
            key="W2 eventsourcing", what=what, unit="events/s",
            chronicle=figures.chronicle.rate,
            peer_name="eventsourcing, 1 event per transaction, 1 connection", peer=rate,
            goal=f"≥ {GOAL_EVENTSOURCING:g}× peer", met=ratio >= GOAL_EVENTSOURCING,
            judged=f"{ratio:.3f}×"))
    rate, ratio = figures.eventsourcing_concurrent_rate, figures.eventsourcing_concurrent_ratio
    if rate is not None and ratio is not None:
        found.append(Comparison(
            key=f"W2 eventsourcing {figures.clients}", what=what, unit="events/s",
            chronicle=figures.chronicle.rate,
            peer_name=f"eventsourcing, 1 event per transaction, {figures.clients} threads",
            peer=rate, goal=f"≥ {GOAL_EVENTSOURCING:g}× peer", met=ratio >= GOAL_EVENTSOURCING,
            judged=f"{ratio:.3f}×"))
    pgl, ratio = figures.postgraphile, figures.postgraphile_ratio
    if pgl is not None and ratio is not None:
        found.append(Comparison(
            key="W2-http", what=what, unit="events/s", chronicle=figures.chronicle.rate,
            peer_name=f"PostGraphile 5 createFact over HTTP, {figures.clients} clients",
            peer=pgl.rate, goal=f"≥ {GOAL_POSTGRAPHILE:g}× peer",
            met=ratio >= GOAL_POSTGRAPHILE, judged=f"{ratio:.3f}×"))
    return found


def write_json(path: Path | None, figures: Figures, warmup: int) -> None:
    sizes = figures.batch_sizes
    write_summary(path, script="appends.py", workload="W2",
                  sizes={"clients": figures.clients, "events": figures.chronicle.count,
                         "warmup": warmup},
                  comparisons=comparisons(figures),
                  details={"chronicle_p50_ms": figures.chronicle.percentile_ms(50),
                           "chronicle_p99_ms": figures.chronicle.percentile_ms(99),
                           "raw_p50_ms": figures.raw.percentile_ms(50),
                           "raw_p99_ms": figures.raw.percentile_ms(99),
                           "mean_batch": statistics.mean(sizes),
                           "eventsourcing": figures.eventsourcing,
                           "postgraphile": None if figures.postgraphile is None else {
                               "events_per_s": figures.postgraphile.rate,
                               "p50_ms": figures.postgraphile.percentile_ms(50),
                               "p99_ms": figures.postgraphile.percentile_ms(99)}})


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
        eventsourcing = None if args.eventsourcing is None else await eventsourcing_peer(
            args.eventsourcing, dsn, args.events, args.clients)
        pgl = None if args.peer_dir is None else await postgraphile_creates(
            args.peer_dir, dsn, args.events, args.clients, args.warmup)
    return Figures(chronicle, raw, sizes, args.clients, eventsourcing, pgl)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--clients", type=int, default=16,
                        help="concurrent HTTP clients, and raw asyncpg connections")
    parser.add_argument("--events", type=int, default=3000, help="timed appends on each side")
    parser.add_argument("--warmup", type=int, default=200, help="untimed appends first")
    parser.add_argument("--eventsourcing", type=Path, default=EVENTSOURCING_PEER,
                        metavar="PATH", help="the eventsourcing peer script to run, with "
                        "--events single-event transactions")
    parser.add_argument("--no-eventsourcing", dest="eventsourcing", action="store_const",
                        const=None, help="skip the eventsourcing peer")
    parser.add_argument("--peer-dir", type=Path, default=PEER_DIR,
                        help="where the PostGraphile peer's serve.py, schema.sql and "
                        "query.json are (W2-http; needs Node.js and npm)")
    parser.add_argument("--no-postgraphile", dest="peer_dir", action="store_const",
                        const=None, help="skip the PostGraphile createFact peer (W2-http)")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.peer_dir is not None:
        missing = [name for name in ("serve.py", "schema.sql", "query.json")
                   if not (args.peer_dir / name).is_file()]
        if missing:
            parser.error(f"no {', '.join(missing)} in {args.peer_dir} (--peer-dir DIR, or "
                         "--no-postgraphile)")
    if args.eventsourcing is not None:
        if not args.eventsourcing.is_file():
            parser.error(f"no eventsourcing peer at {args.eventsourcing} (--eventsourcing "
                         "PATH, or --no-eventsourcing)")
        missing = [m for m in ("eventsourcing", "psycopg") if importlib.util.find_spec(m) is None]
        if missing:
            parser.error(f"the eventsourcing peer needs {', '.join(missing)}: pip install "
                         "'eventsourcing[postgres]' psycopg-binary (or --no-eventsourcing)")
    return args


def main() -> int:
    args = parse_args()
    try:
        with server_log() as log:
            figures = asyncio.run(measure(args, log))
            report_server_log(log)
    except BenchError as e:
        return failed(e)
    return publish(args, f"{summary(figures)}\n{histogram(figures.batch_sizes)}",
                   lambda: write_json(args.json, figures, args.warmup),
                   lambda: record(figures))


if __name__ == "__main__":
    sys.exit(main())
