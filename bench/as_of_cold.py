"""W4-cold: the first as-of read of a long timeline after a fresh server start, on both clocks.

Creates a throwaway database and imports W4's timeline (``as_of.py``: 200 entries × 5
attributes, 8 graded sources, ``--reports`` reports with a few hundred revisions) in ten
chunks a moment apart. Then, ``--starts`` times for each clock (RECORDED and REPORTED, taking
turns), starts a fresh ``chronicle serve`` on it, so the process holds no history of the
timeline yet, and reads from one client: one present read (the process's first request),
then the as-of read on that clock (``asOf`` a random T, as W4 draws it), timed: the cold
read; then ``--warm`` more as-of reads on the same clock, each at another random T: the warm
read beside it. Stops the server after each start. Prints the cold reads (their median is
judged: ≤ 200 ms), the warm median, and appends a line to ``bench/results.md``.

usage: python bench/as_of_cold.py [--dsn DSN] [--reports 10000] [--starts 3] [--warm 10]
                                  [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    DEFAULT_DSN,
    BenchError,
    Comparison,
    add_suite_options,
    chronicle_server,
    failed,
    graphql_client,
    publish,
    record_run,
    report_server_log,
    server_log,
    throwaway_database,
    write_summary,
)
from as_of import (
    CHUNKS,
    SEED,
    Imported,
    Variant,
    import_chunks,
    read,
    read_token,
    story,
    variants,
    write_chunks,
)

RESULTS_HEADER = (
    "# Cold as-of reads (W4-cold)\n\n"
    "`python bench/as_of_cold.py`: W4's timeline (`reports` reports, 10 chunks), then per "
    "clock `starts` fresh `chronicle serve` processes: in each, one present read (the "
    "process's first request), then the first as-of read on that clock (cold: the process "
    "holds no history of the timeline yet), then 10 more at other random T (warm). "
    "Milliseconds, one sequential client: cold median (min–max over the starts), warm "
    "median. Goal: cold ≤ 200 ms on both clocks (the median is judged).\n\n"
    "| date (UTC) | commit | cores | reports | starts | RECORDED cold ms | RECORDED warm ms "
    "| REPORTED cold ms | REPORTED warm ms | first present read ms | server start s |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
GOAL_COLD_MS = 200.0
AXES = ("RECORDED", "REPORTED")


@dataclass(frozen=True, slots=True)
class Start:
    """One fresh server: how long it took to answer /healthz, its first (present) read, the
    cold as-of read and the warm ones after it (milliseconds)."""

    startup_s: float
    present_ms: float
    cold_ms: float
    warm_ms: list[float]


@dataclass(slots=True)
class Axis:
    name: str
    starts: list[Start] = field(default_factory=list)

    @property
    def cold(self) -> list[float]:
        return [s.cold_ms for s in self.starts]

    @property
    def cold_median(self) -> float:
        return statistics.median(self.cold)

    @property
    def warm_median(self) -> float:
        return statistics.median(ms for s in self.starts for ms in s.warm_ms)

    def cold_cell(self) -> str:
        return (f"{self.cold_median:.0f} ({min(self.cold):.0f}–{max(self.cold):.0f})"
                if len(self.starts) > 1 else f"{self.cold_median:.0f}")


async def one_start(dsn: str, token: str | None, present: Variant, variant: Variant,
                    rng: random.Random, warm: int, name: str) -> Start:
    """A fresh ``chronicle serve``, its reads, and its log dropped when clean."""
    with server_log(f"cold-{name}-") as log:
        began = time.perf_counter()
        async with chronicle_server(dsn, log) as base_url, \
                graphql_client(base_url, token) as client:
            startup = time.perf_counter() - began
            present_s, _ = await read(client, present, None)
            cold_s, _ = await read(client, variant, variant.draw(rng))
            warm_s = [(await read(client, variant, variant.draw(rng)))[0] for _ in range(warm)]
        report_server_log(log)
    return Start(startup, present_s * 1000, cold_s * 1000, [s * 1000 for s in warm_s])


@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    starts: int
    warm: int
    imported: Imported
    axes: dict[str, Axis]

    @property
    def all_starts(self) -> list[Start]:
        return [s for axis in self.axes.values() for s in axis.starts]


async def measure(args: argparse.Namespace, directory: Path) -> Figures:
    paths = write_chunks(story(args.reports, random.Random(SEED)), directory)
    async with throwaway_database(args.dsn) as dsn:
        imported = await import_chunks(dsn, paths)
        print(f"imported {imported.events:,} events in {len(paths)} chunks", flush=True)
        token = await read_token(dsn)
        by_name = {v.name: v for v in variants(imported)}
        rng = random.Random(SEED + 2)
        axes = {name: Axis(name) for name in AXES}
        for k in range(args.starts):
            for name in AXES:
                start = await one_start(dsn, token, by_name["present"], by_name[name], rng,
                                        args.warm, name)
                axes[name].starts.append(start)
                print(f"start {k + 1}/{args.starts}, {name}: server up in "
                      f"{start.startup_s:.2f}s, present {start.present_ms:.1f} ms, cold as-of "
                      f"{start.cold_ms:.1f} ms, warm median "
                      f"{statistics.median(start.warm_ms):.1f} ms", flush=True)
    return Figures(args.reports, args.starts, args.warm, imported, axes)


# --- reporting ----------------------------------------------------------------------------

def met(axis: Axis) -> bool:
    return axis.cold_median <= GOAL_COLD_MS


def summary(figures: Figures) -> str:
    starts = figures.all_starts
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("reports / events imported", f"{figures.reports:,} / {figures.imported.events:,}"),
        ("fresh servers per clock / warm reads each", f"{figures.starts} / {figures.warm}"),
        ("server start to /healthz s (median)",
         f"{statistics.median(s.startup_s for s in starts):.2f}"),
        ("first request (present) ms (median)",
         f"{statistics.median(s.present_ms for s in starts):.1f}"),
        *((f"{axis.name} cold ms: median (min–max)", axis.cold_cell())
          for axis in figures.axes.values()),
        *((f"{axis.name} warm ms (median)", f"{axis.warm_median:.1f}")
          for axis in figures.axes.values()),
        *((f"goal: {axis.name} cold ≤ {GOAL_COLD_MS:.0f} ms", "met" if met(axis) else "MISSED")
          for axis in figures.axes.values()),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>18}" for label, value in rows)


def record(figures: Figures) -> None:
    starts = figures.all_starts
    recorded, reported = figures.axes["RECORDED"], figures.axes["REPORTED"]
    record_run(RESULTS_HEADER, figures.reports, figures.starts, recorded.cold_cell(),
               f"{recorded.warm_median:.1f}", reported.cold_cell(), f"{reported.warm_median:.1f}",
               f"{statistics.median(s.present_ms for s in starts):.1f}",
               f"{statistics.median(s.startup_s for s in starts):.2f}")


def comparisons(figures: Figures) -> list[Comparison]:
    return [Comparison(
        key=f"W4-cold {axis.name}",
        what=(f"first asOf read on {axis.name} after a fresh start, {figures.reports:,} "
              f"reports (median of {figures.starts})"),
        unit="ms", chronicle=axis.cold_median,
        peer_name="the warm asOf read, same processes", peer=axis.warm_median,
        goal=f"≤ {GOAL_COLD_MS:.0f} ms", met=met(axis), judged=f"{axis.cold_median:.0f} ms")
        for axis in figures.axes.values()]


def write_json(path: Path | None, figures: Figures) -> None:
    write_summary(
        path, script="as_of_cold.py", workload="W4-cold",
        sizes={"reports": figures.reports, "starts": figures.starts, "warm": figures.warm},
        comparisons=comparisons(figures),
        details={axis.name: {"cold_ms": axis.cold, "warm_median_ms": axis.warm_median,
                             "present_first_ms": [s.present_ms for s in axis.starts],
                             "startup_s": [s.startup_s for s in axis.starts]}
                 for axis in figures.axes.values()})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=10_000,
                        help="reportFact lines in the imported timeline")
    parser.add_argument("--starts", type=int, default=3,
                        help="fresh servers per clock (each gives one cold read)")
    parser.add_argument("--warm", type=int, default=10,
                        help="as-of reads after the cold one, per server")
    add_suite_options(parser)
    args = parser.parse_args()
    if args.reports < CHUNKS or args.starts < 1 or args.warm < 1:
        parser.error(f"--reports must be at least {CHUNKS}, --starts and --warm at least 1")
    return args


def main() -> int:
    args = parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="chronicle-as-of-cold-") as directory:
            figures = asyncio.run(measure(args, Path(directory)))
    except BenchError as e:
        return failed(e)
    return publish(args, summary(figures), lambda: write_json(args.json, figures),
                   lambda: record(figures))


if __name__ == "__main__":
    sys.exit(main())
