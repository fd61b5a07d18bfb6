"""Track records (issue 17): every source's record on a 10,000-report timeline in one query,
now and as of a random past moment on either clock.

Imports W4's timeline (bench/as_of.py: 200 entries × 5 attributes, 8 graded sources,
``--reports`` reports plus corrections, retractions and ranks, in ten chunks a moment apart)
with ``chronicle import``, serves it (``chronicle serve``), then times ``--requests``
sequential ``sources { trackRecord(asOf:, axis:) { … byTimeline { … } } }`` reads from one
client for each of: now, ``asOf`` a random T on RECORDED between the first and the last
chunk, and ``asOf`` a random T on REPORTED in 2018-02-08..2018-03-12. The peer, measured in
the same run, is the same list of sources without their records. Checks every answer
(now, the reports counted add up to the reports imported). Goal: p95 < 50 ms for each.

usage: python bench/track_records.py [--dsn DSN] [--reports 10000] [--requests 200]
                                     [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _harness import (
    DEFAULT_DSN,
    BenchError,
    Comparison,
    add_suite_options,
    chronicle_server,
    graphql_client,
    graphql_data,
    percentile_ms,
    record_run,
    run_against_a_server,
    throwaway_database,
    write_summary,
)
from as_of import AS_OF_REPORTED, CHUNKS, SEED, Imported, import_chunks, read_token, story
from as_of import write_chunks as write_story

RESULTS_HEADER = (
    "# Track records\n\n"
    "`python bench/track_records.py`: every source's track record (with `byTimeline`) on "
    "W4's timeline in one query, by one sequential client, now and `asOf` a random T on "
    "each clock; milliseconds p50 / p95 / p99, and the same list of sources without records "
    "(the peer). Goal: p95 < 50 ms for each.\n\n"
    "| date (UTC) | commit | cores | reports | requests | sources only ms | now ms "
    "| RECORDED ms | REPORTED ms | first reads ms (now / RECORDED / REPORTED) |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
GOAL_P95_MS = 50.0
WARMUP = 10  # untimed requests per variant; the first one is also reported (cold)
COUNTS = "reports retracted corrected outweighed upheld cited"
RECORDS = (f"query($asOf: DateTime, $axis: Axis) {{ sources {{ id trackRecord(asOf: $asOf, "
           f"axis: $axis) {{ {COUNTS} byTimeline {{ timeline {COUNTS} }} }} }} }}")
SOURCES_ONLY = "{ sources { id name kind reliability } }"


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    axis: str | None  # None: now
    low: dt.datetime | None = None
    high: dt.datetime | None = None

    def draw(self, rng: random.Random) -> dt.datetime | None:
        if self.low is None or self.high is None:
            return None
        return self.low + (self.high - self.low) * rng.random()


@dataclass(slots=True)
class Sample:
    first_ms: float = 0.0
    latencies: list[float] = field(default_factory=list)
    counted: list[int] = field(default_factory=list)  # reports counted in each answer

    def ms(self, p: int) -> float:
        return percentile_ms(self.latencies, p)

    def triple(self) -> str:
        return f"{self.ms(50):.1f} / {self.ms(95):.1f} / {self.ms(99):.1f}"


def reports_counted(data: dict[str, Any]) -> int:
    """The reports the answer counts, checked to add up by timeline."""
    total = 0
    for source in data["sources"]:
        record = source["trackRecord"]
        if sum(t["reports"] for t in record["byTimeline"]) != record["reports"]:
            raise BenchError(f"{source['id']}: byTimeline does not add up to the total")
        total += record["reports"]
    return total


async def timed(client: httpx.AsyncClient, query: str,
                variables: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    elapsed = time.perf_counter() - started
    data = graphql_data(response)
    return elapsed, data


async def measure_variant(client: httpx.AsyncClient, variant: Variant | None, requests: int,
                          rng: random.Random, expected: int) -> Sample:
    """``variant`` None: the peer (sources without records)."""
    sample = Sample()
    for k in range(WARMUP + requests):
        if variant is None:
            elapsed, data = await timed(client, SOURCES_ONLY, {})
            counted = len(data["sources"])
        else:
            moment = variant.draw(rng)
            variables = {} if moment is None else {"asOf": moment.isoformat(),
                                                   "axis": variant.axis}
            elapsed, data = await timed(client, RECORDS, variables)
            counted = reports_counted(data)
            if variant.axis is None and counted != expected:
                raise BenchError(f"now: {counted} reports counted, {expected} imported")
            if counted > expected:
                raise BenchError(f"{variant.name} at {moment}: {counted} reports counted, "
                                 f"more than the {expected} imported")
        if k == 0:
            sample.first_ms = elapsed * 1000
        if k >= WARMUP:
            sample.latencies.append(elapsed)
            sample.counted.append(counted)
    return sample


@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    requests: int
    imported: Imported
    peer: Sample
    samples: dict[str, Sample]

    @property
    def worst_p95(self) -> float:
        return max(s.ms(95) for s in self.samples.values())


async def measure(args: argparse.Namespace, log: Path, directory: Path) -> Figures:
    paths = write_story(story(args.reports, random.Random(SEED)), directory)
    async with throwaway_database(args.dsn) as dsn:
        imported = await import_chunks(dsn, paths)
        token = await read_token(dsn)
        first, last = imported.chunk_times[0], imported.chunk_times[-1]
        variants = [Variant("now", None), Variant("RECORDED", "RECORDED", first, last),
                    Variant("REPORTED", "REPORTED", *AS_OF_REPORTED)]
        async with chronicle_server(dsn, log) as base_url, \
                graphql_client(base_url, token) as client:
            rng = random.Random(SEED + 2)
            peer = await measure_variant(client, None, args.requests, rng, args.reports)
            samples = {v.name: await measure_variant(client, v, args.requests, rng,
                                                     args.reports) for v in variants}
    return Figures(args.reports, args.requests, imported, peer, samples)


def summary(figures: Figures) -> str:
    goal = "met" if figures.worst_p95 < GOAL_P95_MS else "MISSED"
    rows = [
        ("reports / events imported", f"{figures.reports} / {figures.imported.events}"),
        ("requests per variant", f"{figures.requests} (+{WARMUP} warm-up)"),
        ("sources only (peer) p50 / p95 / p99 ms", figures.peer.triple()),
        *((f"records {name} p50 / p95 / p99 ms", s.triple())
          for name, s in figures.samples.items()),
        ("first read (cold) ms: now / RECORDED / REPORTED",
         " / ".join(f"{s.first_ms:.1f}" for s in figures.samples.values())),
        *((f"reports counted {name} (min–max)", f"{min(s.counted)}–{max(s.counted)}")
          for name, s in figures.samples.items()),
        (f"goal: p95 < {GOAL_P95_MS:.0f} ms", f"{goal} (worst {figures.worst_p95:.1f})"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>22}" for label, value in rows)


def comparisons(figures: Figures) -> list[Comparison]:
    peer = figures.peer.ms(95)
    found = []
    for name, sample in figures.samples.items():
        p95 = sample.ms(95)
        when = "now" if name == "now" else f"asOf on {name}"
        found.append(Comparison(
            key=f"Records {name}",
            what=f"every source's track record, {when}, {figures.reports:,} reports",
            unit="ms p95", chronicle=p95, peer_name="the same sources without records",
            peer=peer, goal=f"p95 < {GOAL_P95_MS:.0f} ms", met=p95 < GOAL_P95_MS,
            judged=f"{p95:.1f} ms"))
    return found


def record(figures: Figures) -> None:
    samples = figures.samples
    record_run(RESULTS_HEADER, figures.reports, figures.requests, figures.peer.triple(),
               *(s.triple() for s in samples.values()),
               " / ".join(f"{s.first_ms:.0f}" for s in samples.values()))


def write_json(path: Path | None, figures: Figures) -> None:
    write_summary(path, script="track_records.py", workload="Records",
                  sizes={"reports": figures.reports, "requests": figures.requests},
                  comparisons=comparisons(figures),
                  details={f"{name}_ms_p50_p95_p99": [s.ms(50), s.ms(95), s.ms(99)]
                           for name, s in figures.samples.items()}
                  | {"cold_ms": {n: s.first_ms for n, s in figures.samples.items()}})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=10_000,
                        help="reportFact lines in the imported timeline")
    parser.add_argument("--requests", type=int, default=200,
                        help="timed reads per variant (sources only, now, RECORDED, REPORTED)")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.reports < CHUNKS or args.requests < 2:
        parser.error(f"--reports must be at least {CHUNKS} and --requests at least 2")
    return args


def main() -> int:
    return run_against_a_server(parse_args(), "records", measure, summary, write_json, record)


if __name__ == "__main__":
    sys.exit(main())
