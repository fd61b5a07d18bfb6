"""W4 as-of reads: the W1 timeline read now, and as of a random past moment on either clock.

Creates a throwaway database and imports one timeline (200 entries × 5 attributes, 8 graded
sources, ``--reports`` reports plus a few hundred corrections, retractions and ranks) with
``chronicle import`` in ten chunks a moment apart, so the RECORDED clock has distinct commit
times to ask about. Serves it (``chronicle serve``), then times ``--requests`` sequential
reads from one client for each of: the present, ``asOf`` a random T on RECORDED between the
first and the last chunk, and ``asOf`` a random T on REPORTED in 2018-02-08..2018-03-12.
Prints p50/p95/p99 and appends a line to ``bench/results.md``.

usage: python bench/as_of.py [--dsn DSN] [--reports 10000] [--requests 200]
                             [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _harness import (
    DEFAULT_DSN,
    ENTRIES,
    REPORTED_FROM,
    BenchError,
    Comparison,
    Line,
    add_suite_options,
    chronicle_import,
    chronicle_server,
    create_timeline,
    create_token,
    graphql_client,
    graphql_data,
    ndjson,
    open_entries,
    percentile_ms,
    record_run,
    register_sources,
    reports,
    run_against_a_server,
    throwaway_database,
    write_summary,
)

RESULTS_HEADER = (
    "# As-of reads (W4)\n\n"
    "`python bench/as_of.py`: the W1 read (one timeline, 200 entries × 5 facts) by one "
    "sequential client, now and `asOf` a random T on each clock; milliseconds p50 / p95 / p99. "
    "Goal: as-of p95 < 50 ms.\n\n"
    "| date (UTC) | commit | cores | reports | requests | present ms | RECORDED ms "
    "| REPORTED ms | p95 ratio RECORDED | p95 ratio REPORTED | import ev/s |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
GOAL_P95_MS = 50.0
SEED = 2018
CHUNKS = 10
CHUNK_PAUSE = 0.5  # seconds between chunk imports, so each chunk commits at its own time
WARMUP = 10  # untimed requests per variant; the first one is also reported (cold)
SLUG = "bench"
AS_OF_REPORTED = (REPORTED_FROM, dt.datetime(2018, 3, 12, tzinfo=dt.UTC))

QUERY = """
query($asOf: DateTime, $axis: Axis) {
  timeline(slug: "bench", asOf: $asOf, axis: $axis) {
    version
    entries(first: 500) { nodes { id title occurred { start precision }
      facts { attribute disputed status low high value {
        ... on Count { best low high } ... on Text { text }
        ... on TimeSpan { start precision } ... on Place { name } } } } }
  }
}
"""


# --- the story: one NDJSON line per command ---------------------------------------------

def set_up() -> list[Line]:
    return [create_timeline(SLUG, "Bench", "W4 as-of reads"), *register_sources(),
            *open_entries(SLUG)]


def story(total: int, rng: random.Random) -> list[list[Line]]:
    """The set-up and ``total`` reports ``r1``..``rN``, with revisions of earlier ones mixed
    in, in ``CHUNKS`` chunks: the first holds the whole set-up (so every entry exists at any
    T from the first chunk on), and every line is valid after the lines before it."""
    lines = reports(SLUG, total, rng)
    size = -(-len(lines) // CHUNKS)
    chunks = [lines[k:k + size] for k in range(0, len(lines), size)]
    chunks[0] = set_up() + chunks[0]
    return chunks


def write_chunks(chunks: Sequence[Sequence[Line]], directory: Path) -> list[Path]:
    paths = []
    for k, chunk in enumerate(chunks):
        path = directory / f"chunk-{k:02d}.ndjson"
        path.write_text(ndjson(chunk))
        paths.append(path)
    return paths


# --- the import -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Imported:
    events: int
    seconds: float  # inside ``chronicle import``, pauses excluded
    chunk_times: list[dt.datetime]  # wall clock (UTC) after each chunk committed
    commit_times: int  # distinct recorded_at in the log

    @property
    def rate(self) -> float:
        return self.events / self.seconds


async def import_chunks(dsn: str, paths: Sequence[Path]) -> Imported:
    events, seconds, times = 0, 0.0, []
    for k, path in enumerate(paths):
        if k:
            await asyncio.sleep(CHUNK_PAUSE)
        started = time.perf_counter()
        events += await chronicle_import(dsn, path)
        seconds += time.perf_counter() - started
        times.append(dt.datetime.now(dt.UTC))
    return Imported(events, seconds, times, await distinct_commit_times(dsn, events))


async def distinct_commit_times(dsn: str, expected: int) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        stored, distinct = await connection.fetchrow(
            "SELECT count(*), count(DISTINCT recorded_at) FROM events")
    finally:
        await connection.close()
    if stored != expected:
        raise BenchError(f"the imports reported {expected} events, the log holds {stored}")
    result: int = distinct
    return result


# --- the reads --------------------------------------------------------------------------

Draw = Callable[[random.Random], dt.datetime | None]


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    axis: str | None
    draw: Draw


@dataclass(frozen=True, slots=True)
class Answer:
    version: int
    entries: int
    facts: int


@dataclass(slots=True)
class Sample:
    """The timed reads of one variant, the cold first read, and what the answers held."""

    first_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    def ms(self, p: int) -> float:
        return percentile_ms(self.latencies, p)

    def triple(self) -> str:
        return f"{self.ms(50):.1f} / {self.ms(95):.1f} / {self.ms(99):.1f}"

    def contents(self) -> str:
        facts = [a.facts for a in self.answers]
        versions = {a.version for a in self.answers}
        return (f"facts {min(facts)}–{max(facts)} (median {statistics.median(facts):g}), "
                f"{len(versions)} versions")


def variants(imported: Imported) -> list[Variant]:
    first, last = imported.chunk_times[0], imported.chunk_times[-1]
    low, high = AS_OF_REPORTED
    return [
        Variant("present", None, lambda rng: None),
        Variant("RECORDED", "RECORDED", lambda rng: first + (last - first) * rng.random()),
        Variant("REPORTED", "REPORTED", lambda rng: low + (high - low) * rng.random()),
    ]


def answer_of(data: dict[str, Any]) -> Answer:
    timeline = data["timeline"]
    nodes = timeline["entries"]["nodes"]
    return Answer(timeline["version"], len(nodes), sum(len(n["facts"]) for n in nodes))


async def read(client: httpx.AsyncClient, variant: Variant,
               as_of: dt.datetime | None) -> tuple[float, Answer]:
    """One timed read; BenchError, naming the request, on errors or a short answer."""
    variables = {} if as_of is None else {"asOf": as_of.isoformat(), "axis": variant.axis}
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": QUERY, "variables": variables})
    elapsed = time.perf_counter() - started
    request = f"{variant.name} read with variables {json.dumps(variables)}"
    try:
        answer = answer_of(graphql_data(response))
    except (BenchError, KeyError, TypeError) as e:
        raise BenchError(f"{request}: {e!r}") from None
    if answer.entries != ENTRIES:
        raise BenchError(f"{request}: {answer.entries} entries, not {ENTRIES} "
                         f"(version {answer.version}, {answer.facts} facts)")
    return elapsed, answer


async def measure_variant(client: httpx.AsyncClient, variant: Variant, requests: int,
                          rng: random.Random) -> Sample:
    sample = Sample()
    for k in range(WARMUP + requests):
        elapsed, answer = await read(client, variant, variant.draw(rng))
        if k == 0:
            sample.first_ms = elapsed * 1000
        if k >= WARMUP:
            sample.latencies.append(elapsed)
            sample.answers.append(answer)
    return sample


async def read_token(dsn: str) -> str | None:
    """A read token when the server will want one, else None: reads are public by default."""
    wanted = os.environ.get("CHRONICLE_REQUIRE_READ_TOKEN", "").strip().lower()
    return await create_token(dsn, "read") if wanted in {"1", "true", "yes", "on"} else None


# --- the run ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    requests: int
    imported: Imported
    samples: dict[str, Sample]

    def ratio(self, axis: str) -> float:
        return self.samples[axis].ms(95) / self.samples["present"].ms(95)

    @property
    def worst_as_of_p95(self) -> float:
        return max(self.samples["RECORDED"].ms(95), self.samples["REPORTED"].ms(95))


async def measure(args: argparse.Namespace, log: Path, directory: Path) -> Figures:
    paths = write_chunks(story(args.reports, random.Random(SEED)), directory)
    async with throwaway_database(args.dsn) as dsn:
        imported = await import_chunks(dsn, paths)
        token = await read_token(dsn)
        async with chronicle_server(dsn, log) as base_url, \
                graphql_client(base_url, token) as client:
            rng = random.Random(SEED + 1)
            samples = {v.name: await measure_variant(client, v, args.requests, rng)
                       for v in variants(imported)}
    return Figures(args.reports, args.requests, imported, samples)


# --- reporting --------------------------------------------------------------------------

def summary(figures: Figures) -> str:
    imported, samples = figures.imported, figures.samples
    window = imported.chunk_times[-1] - imported.chunk_times[0]
    goal = "met" if figures.worst_as_of_p95 < GOAL_P95_MS else "MISSED"
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("reports / events imported", f"{figures.reports} / {imported.events}"),
        ("import events/s (informational)",
         f"{imported.rate:,.0f} ({len(imported.chunk_times)} chunks, {imported.seconds:.1f}s)"),
        ("distinct recorded_at / RECORDED window", f"{imported.commit_times} / "
                                                  f"{window.total_seconds():.1f}s"),
        ("requests per variant", f"{figures.requests} (+{WARMUP} warm-up)"),
        *((f"{name} p50 / p95 / p99 ms", sample.triple()) for name, sample in samples.items()),
        ("first read (cold) ms: present / RECORDED / REPORTED",
         " / ".join(f"{s.first_ms:.1f}" for s in samples.values())),
        ("p95 ratio as-of / present: RECORDED / REPORTED",
         f"{figures.ratio('RECORDED'):.2f} / {figures.ratio('REPORTED'):.2f}"),
        (f"goal: as-of p95 < {GOAL_P95_MS:.0f} ms",
         f"{goal} (worst {figures.worst_as_of_p95:.1f})"),
    ]
    width = max(len(label) for label, _ in rows)
    table = "\n".join(f"{label:<{width}}  {value:>22}" for label, value in rows)
    contents = "\n".join(f"  {name}: {sample.contents()}" for name, sample in samples.items())
    return f"{table}\nwhat the timed answers held (200 entries each):\n{contents}"


def record(figures: Figures) -> None:
    samples = figures.samples
    record_run(RESULTS_HEADER, figures.reports, figures.requests, samples["present"].triple(),
               samples["RECORDED"].triple(), samples["REPORTED"].triple(),
               f"{figures.ratio('RECORDED'):.2f}", f"{figures.ratio('REPORTED'):.2f}",
               f"{figures.imported.rate:,.0f}")


def comparisons(figures: Figures) -> list[Comparison]:
    present = figures.samples["present"].ms(95)
    found = []
    for axis in ("RECORDED", "REPORTED"):
        p95 = figures.samples[axis].ms(95)
        found.append(Comparison(
            key=f"W4 {axis}", what=f"asOf on {axis}, {figures.reports:,} reports",
            unit="ms p95", chronicle=p95, peer_name="the present read, no asOf",
            peer=present, goal=f"p95 < {GOAL_P95_MS:.0f} ms", met=p95 < GOAL_P95_MS,
            judged=f"{p95:.1f} ms"))
    return found


def write_json(path: Path | None, figures: Figures) -> None:
    samples = figures.samples
    write_summary(path, script="as_of.py", workload="W4",
                  sizes={"reports": figures.reports, "requests": figures.requests},
                  comparisons=comparisons(figures),
                  details={"import_events_per_s": figures.imported.rate,
                           **{f"{name}_ms_p50_p95_p99": [s.ms(50), s.ms(95), s.ms(99)]
                              for name, s in samples.items()},
                           "cold_ms": {name: s.first_ms for name, s in samples.items()}})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=10_000,
                        help="reportFact lines in the imported timeline")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed reads per variant (present, RECORDED, REPORTED)")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.reports < CHUNKS or args.requests < 2:
        parser.error(f"--reports must be at least {CHUNKS} and --requests at least 2")
    return args


def main() -> int:
    return run_against_a_server(parse_args(), "as-of", measure, summary, write_json, record)


if __name__ == "__main__":
    sys.exit(main())
