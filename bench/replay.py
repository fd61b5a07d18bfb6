"""W3 replay: rebuild the read model from position 0, against raw asyncpg reading the log.

Creates a throwaway database and imports, with one ``chronicle import`` (which migrates
first), about ``--events`` events: 5 timelines × 200 entries × 5 attributes, 8 graded
sources, ``reportFact`` lines with some corrections, retractions and ranks mixed in. Then,
twice each and alternating, times ``replay_read_model`` in this process (rebuild beside the
live read model, swap it in) and raw asyncpg streaming the same ``events`` table through a
server-side cursor, json-decoding each ``data`` (``bench/peers/pg_limits.py``'s replay
figure). Checks the rebuilt read model equals the one the import projected, prints the
figures and appends a line to ``bench/results.md``.

usage: python bench/replay.py [--dsn DSN] [--events 100000] [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from _harness import (
    DEFAULT_DSN,
    ENTRIES,
    REVISION_RATE,
    SOURCES,
    BenchError,
    Comparison,
    Line,
    add_suite_options,
    chronicle_import,
    create_timeline,
    failed,
    ndjson,
    open_entries,
    publish,
    record_run,
    register_sources,
    reports,
    throwaway_database,
    write_summary,
)

from api.database import create_engine
from api.settings import Settings
from events.postgres.rebuild import READ_MODEL_TABLES, replay_read_model
from events.postgres.store import PostgresEventStore

RESULTS_HEADER = (
    "# Replay (W3)\n\n"
    "`python bench/replay.py`: `replay_read_model` (the whole read model rebuilt from "
    "position 0 beside the live one, then swapped in) vs raw asyncpg streaming the same "
    "`events` table through a cursor (prefetch 5000) and json-decoding each `data`, same "
    "run; events/s, best of two runs each. Goal: ≥ 0.5× raw.\n\n"
    "| date (UTC) | commit | cores | events | replay ev/s | raw read ev/s | ratio "
    "| swap s | fill ev/s |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
GOAL_RATIO = 0.5
SEED = 2018
TIMELINES = 5
RUNS = 2  # of each side, alternating; the better one counts
PREFETCH = 5000
# The columns Chronicle's store reads for each envelope (events.postgres.store), in position order.
RAW_QUERY = ("SELECT position, stream, version, type, schema_version, data, recorded_at, "
             "actor, idempotency_key, prev_hash, hash FROM events ORDER BY position")


# --- the story: several timelines, interleaved ------------------------------------------

def slugs() -> list[str]:
    return [f"bench-{k}" for k in range(1, TIMELINES + 1)]


def set_up() -> list[Line]:
    """Every timeline, the sources, then every entry: all exist before the first report."""
    return [*(create_timeline(slug, f"Bench {slug}", "W3 replay") for slug in slugs()),
            *register_sources(), *(line for slug in slugs() for line in open_entries(slug))]


def reports_per_timeline(events: int) -> int:
    """How many reports each timeline gets so that the log holds about ``events`` events."""
    set_up_events = TIMELINES + 2 * len(SOURCES) + TIMELINES * ENTRIES
    return max(1, round((events - set_up_events) / (TIMELINES * (1 + REVISION_RATE))))


def interleave(stories: list[list[Line]], rng: random.Random) -> list[Line]:
    """The lines of every story, each story's in its own order, the stories shuffled
    together as news about several incidents arrives."""
    turns = [k for k, lines in enumerate(stories) for _ in lines]
    rng.shuffle(turns)
    cursors = [iter(lines) for lines in stories]
    return [next(cursors[k]) for k in turns]


def story(events: int) -> list[Line]:
    per_timeline = reports_per_timeline(events)
    stories = [reports(slug, per_timeline, random.Random(SEED + k))
               for k, slug in enumerate(slugs())]
    return set_up() + interleave(stories, random.Random(SEED))


# --- filling the log --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Filled:
    events: int
    seconds: float  # the whole ``chronicle import``: process start and migrations included
    megabytes: float  # the events table with its indexes and TOAST

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def fill(dsn: str, path: Path) -> Filled:
    started = time.perf_counter()
    events = await chronicle_import(dsn, path)
    seconds = time.perf_counter() - started
    connection = await asyncpg.connect(dsn)
    try:
        stored, head, size = await connection.fetchrow(
            "SELECT count(*), coalesce(max(position), 0), "
            "pg_total_relation_size('events') FROM events")
    finally:
        await connection.close()
    if not stored == head == events:
        raise BenchError(f"the import reported {events} events; the log holds {stored}, "
                         f"up to position {head}")
    return Filled(events, seconds, size / 2**20)


# --- the two sides ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Run:
    events: int
    seconds: float
    tail: float = 0.0  # replay only: after the last chunk was projected (the swap)

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def replay(store: PostgresEventStore) -> Run:
    """One ``replay_read_model``, timed; ``tail`` is the time after its last progress call
    (the locked catch-up and the swap into the live tables)."""
    marks: list[float] = []
    started = time.perf_counter()
    position = await replay_read_model(store, on_progress=lambda _: marks.append(
        time.perf_counter()))
    ended = time.perf_counter()
    return Run(position, ended - started, ended - (marks[-1] if marks else started))


async def raw_read(dsn: str) -> Run:
    """The whole log through a server-side cursor in one transaction, each ``data`` decoded
    (asyncpg hands jsonb over as str); the connection is made before the clock starts."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = 0
        started = time.perf_counter()
        async with connection.transaction():
            async for record in connection.cursor(RAW_QUERY, prefetch=PREFETCH):
                json.loads(record["data"])
                rows += 1
        return Run(rows, time.perf_counter() - started)
    finally:
        await connection.close()


# --- the check: the replay rebuilt what the import projected ----------------------------

async def read_model_digest(dsn: str) -> dict[str, tuple[int, str]]:
    """Rows and an md5 of every row's text, per read-model table."""
    connection = await asyncpg.connect(dsn)
    try:
        digest = {}
        for table in READ_MODEL_TABLES:
            rows, md5 = await connection.fetchrow(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                f"ORDER BY t::text), '')) FROM {table} t")
            digest[table] = (rows, md5)
        return digest
    finally:
        await connection.close()


def check_same(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> None:
    changed = [f"{table} ({before[table][0]} rows before, {after[table][0]} after)"
               for table in READ_MODEL_TABLES if before[table] != after[table]]
    if changed:
        raise BenchError("the replayed read model differs from the one the import projected: "
                         + ", ".join(changed))


# --- the run ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    filled: Filled
    replays: list[Run]
    raws: list[Run]

    @property
    def replay(self) -> Run:
        return max(self.replays, key=lambda run: run.rate)

    @property
    def raw(self) -> Run:
        return max(self.raws, key=lambda run: run.rate)

    @property
    def ratio(self) -> float:
        return self.replay.rate / self.raw.rate


async def timed(label: str, work: Callable[[], Awaitable[Run]]) -> Run:
    run = await work()
    swap = f" (swap {run.tail:.2f}s)" if run.tail else ""
    print(f"  {label}: {run.events:,} events in {run.seconds:.2f}s{swap}", file=sys.stderr)
    if run.events == 0:
        raise BenchError(f"{label} saw no events")
    return run


async def measure_in(dsn: str, path: Path) -> Figures:
    filled = await fill(dsn, path)
    print(f"  {filled.events:,} events in {filled.seconds:.1f}s", file=sys.stderr)
    projected = await read_model_digest(dsn)
    engine = create_engine(Settings(database_url=dsn))
    try:
        store = PostgresEventStore(engine)
        replays, raws = [], []
        for k in range(1, RUNS + 1):
            raws.append(await timed(f"raw read {k}", lambda: raw_read(dsn)))
            replays.append(await timed(f"replay {k}", lambda: replay(store)))
    finally:
        await engine.dispose()
    check_same(projected, await read_model_digest(dsn))
    if {run.events for run in replays + raws} != {filled.events}:
        raise BenchError(f"the runs saw {[r.events for r in replays + raws]} events, "
                         f"the import stored {filled.events}")
    return Figures(filled, replays, raws)


async def measure(dsn: str, path: Path) -> Figures:
    async with throwaway_database(dsn) as database:
        return await measure_in(database, path)


def write_story(events: int, directory: Path) -> Path:
    path = directory / "replay.ndjson"
    path.write_text(ndjson(story(events)))
    print(f"importing {path.stat().st_size / 2**20:.0f} MB of NDJSON…", file=sys.stderr)
    return path


# --- reporting --------------------------------------------------------------------------

def rates(runs: list[Run]) -> str:
    return " / ".join(f"{run.rate:,.0f}" for run in runs)


def summary(figures: Figures) -> str:
    filled, replay_run = figures.filled, figures.replay
    goal = "met" if figures.ratio >= GOAL_RATIO else "MISSED"
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("events in the log / its size", f"{filled.events:,} / {filled.megabytes:.0f} MB"),
        ("fill events/s (informational)", f"{filled.rate:,.0f} ({filled.seconds:.1f}s)"),
        ("Chronicle replay events/s (runs)", f"{replay_run.rate:,.0f} "
                                             f"({rates(figures.replays)})"),
        ("  best run: seconds / of which swap", f"{replay_run.seconds:.2f} / "
                                               f"{replay_run.tail:.2f}"),
        ("raw asyncpg read events/s (runs)", f"{figures.raw.rate:,.0f} "
                                             f"({rates(figures.raws)})"),
        ("ratio replay / raw", f"{figures.ratio:.3f}"),
        (f"goal (issue 7, W3): ≥ {GOAL_RATIO}× raw", goal),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>28}" for label, value in rows)


def record(figures: Figures) -> None:
    record_run(RESULTS_HEADER, figures.filled.events, f"{figures.replay.rate:,.0f}",
               f"{figures.raw.rate:,.0f}", f"{figures.ratio:.3f}",
               f"{figures.replay.tail:.2f}", f"{figures.filled.rate:,.0f}")


def comparisons(figures: Figures) -> list[Comparison]:
    return [Comparison(
        key="W3", what=f"replay_read_model of {figures.filled.events:,} events",
        unit="events/s", chronicle=figures.replay.rate,
        peer_name="raw asyncpg cursor read + json.loads", peer=figures.raw.rate,
        goal=f"≥ {GOAL_RATIO}× peer", met=figures.ratio >= GOAL_RATIO,
        judged=f"{figures.ratio:.3f}×")]


def write_json(path: Path | None, figures: Figures, events: int) -> None:
    write_summary(path, script="replay.py", workload="W3", sizes={"events": events},
                  comparisons=comparisons(figures),
                  details={"events": figures.filled.events,
                           "fill_events_per_s": figures.filled.rate,
                           "replay_events_per_s": [run.rate for run in figures.replays],
                           "raw_events_per_s": [run.rate for run in figures.raws],
                           "swap_seconds": figures.replay.tail})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--events", type=int, default=100_000,
                        help="about how many events the log holds")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.events < 2000:
        parser.error("--events must be at least 2000 (the set-up alone is over 1000)")
    return args


def main() -> int:
    args = parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="chronicle-replay-") as directory:
            path = write_story(args.events, Path(directory))
            figures = asyncio.run(measure(args.dsn, path))
    except BenchError as e:
        return failed(e)
    return publish(args, summary(figures), lambda: write_json(args.json, figures, args.events),
                   lambda: record(figures))


if __name__ == "__main__":
    sys.exit(main())
