"""W5 bulk import: ``chronicle import`` of ``--reports`` reports, against COPY of the same rows.

Writes one NDJSON file (one timeline, the 8 graded sources, 200 entries, then ``--reports``
``reportFact`` lines), creates a throwaway database, migrates it (untimed), and times one
``chronicle import`` of the file, process start included. Checks the log then holds exactly
the expected events at positions 1..N and the read model every report. The peer, in the same
run on the same server: asyncpg ``copy_records_to_table`` of the very rows the import stored
into a scratch table ``LIKE events INCLUDING ALL`` (same columns, constraints and indexes),
best of two; and, for information, COPY of as many rows into ``bench/peers/pg_limits.py``'s
``limit_events``. Prints the figures and appends a line to ``bench/results.md``.

usage: python bench/bulk_import.py [--dsn DSN] [--reports 100000] [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from _harness import (
    DEFAULT_DSN,
    ENTRIES,
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
    report,
    run_chronicle,
    throwaway_database,
    write_summary,
)
from peers import pg_limits

RESULTS_HEADER = (
    "# Bulk import (W5)\n\n"
    "`python bench/bulk_import.py`: one `chronicle import` (process start included, schema "
    "migrated beforehand) of an NDJSON file: one timeline, 8 graded sources, 200 entries, "
    "then `reports` reportFact lines; vs asyncpg COPY of the same stored rows into a table "
    "`LIKE events INCLUDING ALL`, same run, best of two. Goal: ≥ 0.5× COPY.\n\n"
    "| date (UTC) | commit | cores | reports | events | import ev/s | COPY ev/s | ratio "
    "| import s | fixed s | limit_events COPY ev/s |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
GOAL_RATIO = 0.5
SEED = 2018
SLUG = "bulk"
COPY_RUNS = 2  # the better one counts
SCRATCH = "bench_copy_events"
# What the story's set-up appends before the reports: the timeline, each source registered
# and graded, the entries.
SET_UP_EVENTS = 1 + 2 * len(SOURCES) + ENTRIES



# --- the story --------------------------------------------------------------------------

def story(total: int, rng: random.Random) -> list[Line]:
    """The set-up, then ``total`` reportFact lines ``r1``..``rN`` (no revisions)."""
    return [create_timeline(SLUG, "Bulk", "W5 bulk import"), *register_sources(),
            *open_entries(SLUG), *(report(rng, SLUG, i, total)[0] for i in range(1, total + 1))]


def write_story(total: int, directory: Path) -> Path:
    path = directory / "bulk.ndjson"
    path.write_text(ndjson(story(total, random.Random(SEED))))
    return path


# --- Chronicle's side -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Imported:
    events: int
    seconds: float  # the whole ``chronicle import``: process start and migration check
    fixed: float  # the same command on an empty file: what is not the import's own work
    megabytes: float  # the events table with its indexes and TOAST

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def checkpoint(dsn: str) -> None:
    """Flush dirty buffers, so neither side pays for what the one before it wrote."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def timed_import(dsn: str, path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    events = await chronicle_import(dsn, path)
    return events, time.perf_counter() - started


async def check_log(dsn: str, expected: int, reports: int) -> float:
    """The log holds exactly ``expected`` events at positions 1..N, the read model every
    report; returns the events table's size in MB."""
    connection = await asyncpg.connect(dsn)
    try:
        stored, head, size = await connection.fetchrow(
            "SELECT count(*), coalesce(max(position), 0), "
            "pg_total_relation_size('events') FROM events")
        projected = await connection.fetchval(
            "SELECT count(*) FROM reports WHERE timeline = $1", SLUG)
    finally:
        await connection.close()
    if not stored == head == expected:
        raise BenchError(f"expected {expected} events; the log holds {stored}, "
                         f"up to position {head}")
    if projected != reports:
        raise BenchError(f"{reports} reports imported, the read model holds {projected}")
    megabytes: float = size / 2**20
    return megabytes


async def import_story(dsn: str, path: Path, empty: Path, reports: int) -> Imported:
    await run_chronicle(dsn, "db", "upgrade")  # untimed: the schema is not the import's work
    nothing, fixed = await timed_import(dsn, empty)
    if nothing:
        raise BenchError(f"an empty file imported {nothing} events")
    await checkpoint(dsn)
    events, seconds = await timed_import(dsn, path)
    expected = SET_UP_EVENTS + reports
    if events != expected:
        raise BenchError(f"chronicle import reported {events} events, expected {expected}")
    return Imported(events, seconds, fixed, await check_log(dsn, expected, reports))


# --- the peer: COPY ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Copied:
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


async def copy_rows(dsn: str, ddl: str, table: str, columns: Sequence[str],
                    records: Sequence[Sequence[object]]) -> Copied:
    """Create ``table`` with ``ddl``, CHECKPOINT, time one COPY of ``records`` into it on a
    connection made beforehand, check the count, drop it."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(ddl)
        try:
            await connection.execute("CHECKPOINT")
            started = time.perf_counter()
            await connection.copy_records_to_table(table, records=records,
                                                   columns=list(columns))
            seconds = time.perf_counter() - started
            stored = await connection.fetchval(f"SELECT count(*) FROM {table}")
        finally:
            await connection.execute(f"DROP TABLE {table}")
    finally:
        await connection.close()
    if stored != len(records):
        raise BenchError(f"COPY of {len(records)} rows into {table} left {stored}")
    return Copied(stored, seconds)


async def stored_events(dsn: str) -> tuple[list[str], list[asyncpg.Record]]:
    """Every column of ``events`` and every row, as the import stored them (``data`` as
    text, which COPY turns back into jsonb)."""
    connection = await asyncpg.connect(dsn)
    try:
        columns = [row["attname"] for row in await connection.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'events'::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")]
        records = await connection.fetch(
            f"SELECT {', '.join(columns)} FROM events ORDER BY position")
    finally:
        await connection.close()
    return columns, records


async def copy_events(dsn: str) -> list[Copied]:
    """COPY of the stored events into a table ``LIKE events INCLUDING ALL``, ``COPY_RUNS``
    times, each into a fresh table."""
    columns, records = await stored_events(dsn)
    ddl = f"CREATE TABLE {SCRATCH} (LIKE events INCLUDING ALL)"
    return [await copy_rows(dsn, ddl, SCRATCH, columns, records) for _ in range(COPY_RUNS)]


# --- the run ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    imported: Imported
    copies: list[Copied]
    limit: Copied

    @property
    def copy(self) -> Copied:
        return max(self.copies, key=lambda run: run.rate)

    @property
    def ratio(self) -> float:
        return self.imported.rate / self.copy.rate

    @property
    def met(self) -> bool:
        return self.ratio >= GOAL_RATIO


async def measure(dsn: str, path: Path, empty: Path, reports: int) -> Figures:
    async with throwaway_database(dsn) as database:
        imported = await import_story(database, path, empty, reports)
        print(f"  imported {imported.events:,} events in {imported.seconds:.1f}s",
              file=sys.stderr)
        copies = await copy_events(database)
        limit = await copy_rows(database, pg_limits.DDL, pg_limits.TABLE, pg_limits.COLUMNS,
                                pg_limits.rows(imported.events))
    return Figures(reports, imported, copies, limit)


# --- reporting --------------------------------------------------------------------------

def summary(figures: Figures) -> str:
    imported, copy = figures.imported, figures.copy
    own = imported.seconds - imported.fixed
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("reports / events imported", f"{figures.reports:,} / {imported.events:,}"),
        ("events table after the import", f"{imported.megabytes:.0f} MB"),
        ("Chronicle import events/s", f"{imported.rate:,.0f} ({imported.seconds:.1f}s)"),
        ("  the command on an empty file", f"{imported.fixed:.2f}s"),
        ("  events/s without it (informational)", f"{imported.events / own:,.0f}"),
        ("COPY into LIKE events events/s (runs)",
         f"{copy.rate:,.0f} ({' / '.join(f'{c.rate:,.0f}' for c in figures.copies)})"),
        ("COPY into limit_events events/s (info)", f"{figures.limit.rate:,.0f}"),
        ("ratio import / COPY", f"{figures.ratio:.3f}"),
        (f"goal (issue 7, W5): ≥ {GOAL_RATIO}× COPY", "met" if figures.met else "MISSED"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>24}" for label, value in rows)


def record(figures: Figures) -> None:
    imported = figures.imported
    record_run(RESULTS_HEADER, figures.reports, imported.events, f"{imported.rate:,.0f}",
               f"{figures.copy.rate:,.0f}", f"{figures.ratio:.3f}", f"{imported.seconds:.1f}",
               f"{imported.fixed:.2f}", f"{figures.limit.rate:,.0f}")


def comparisons(figures: Figures) -> list[Comparison]:
    return [Comparison(
        key="W5", what=f"chronicle import of {figures.reports:,} reports", unit="events/s",
        chronicle=figures.imported.rate, peer_name="COPY into LIKE events",
        peer=figures.copy.rate, goal=f"≥ {GOAL_RATIO}× peer", met=figures.met,
        judged=f"{figures.ratio:.3f}×")]


def write_json(path: Path | None, figures: Figures) -> None:
    imported = figures.imported
    write_summary(path, script="bulk_import.py", workload="W5",
                  sizes={"reports": figures.reports}, comparisons=comparisons(figures),
                  details={"events": imported.events, "import_seconds": imported.seconds,
                           "fixed_seconds": imported.fixed,
                           "events_megabytes": imported.megabytes,
                           "copy_events_per_s": [c.rate for c in figures.copies],
                           "limit_events_copy_events_per_s": figures.limit.rate})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=100_000,
                        help="reportFact lines after the set-up")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.reports < 1:
        parser.error("--reports must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="chronicle-bulk-") as directory:
            path = write_story(args.reports, Path(directory))
            empty = Path(directory) / "empty.ndjson"
            empty.touch()
            print(f"importing {path.stat().st_size / 2**20:.0f} MB of NDJSON…", file=sys.stderr)
            figures = asyncio.run(measure(args.dsn, path, empty, args.reports))
    except BenchError as e:
        return failed(e)
    return publish(args, summary(figures), lambda: write_json(args.json, figures),
                   lambda: record(figures))


if __name__ == "__main__":
    sys.exit(main())
