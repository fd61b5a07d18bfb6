"""The benchmark suite (issue 7): W1..W5, each a script in its own process, one table.

Runs ``reads.py`` (W1), ``live_reads.py`` (W1-live: W1 while a writer appends),
``appends.py`` (W2, with W2-http), ``replay.py`` (W3), ``as_of.py`` (W4), ``as_of_cold.py``
(W4-cold: the first as-of read after a fresh start), ``bulk_import.py`` (W5) and
``track_records.py`` (Records: every source's track record in one query) one after the
other with the Python running this, each with ``--json PATH``, so that one failing is
reported and the rest still run. Their own output
goes to the terminal as it comes; then one table: each figure beside its peer's from the same
run, the ratio, the goal and whether it is met, with the core count. Appends one row to the
"Suite" table of ``bench/results.md`` (and each script its own row to its table), unless
``--quick`` (small sizes, a smoke test: nothing recorded) or ``--no-record``.

usage: python bench/run.py [--dsn DSN] [--only W2,W1-live] [--quick] [--no-record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    BENCH_DIR,
    DEFAULT_DSN,
    RESULTS,
    Comparison,
    git_head,
    record_row,
)

WORKLOAD_TIMEOUT = 3600.0  # seconds: a script still running after this is stopped
STOP_GRACE = 60.0  # seconds a script gets to clean up (stop servers, drop databases)


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    script: str
    keys: tuple[str, ...]  # the comparisons its summary must hold: the suite's columns
    quick: tuple[str, ...]  # options for --quick (those the script does not take are left out)


LIVE_RATES = ("5", "20", "100")  # live_reads.py's default writer rates, reports/s
WORKLOADS = (
    Workload("W1", "reads.py", ("W1",),
             ("--reports", "200", "--duration", "3", "--warmup", "1")),
    Workload("W1-live", "live_reads.py",
             tuple(key for rate in LIVE_RATES
                   for key in (f"W1-live {rate}/s", f"W1-live {rate}/s write")),
             ("--reports", "200", "--duration", "3", "--warmup", "1")),
    Workload("W2", "appends.py", ("W2 raw", "W2 eventsourcing", "W2 eventsourcing 16", "W2-http"),
             ("--events", "300", "--warmup", "50")),
    Workload("W3", "replay.py", ("W3",), ("--events", "10000")),
    Workload("W4", "as_of.py", ("W4 RECORDED", "W4 REPORTED"),
             ("--reports", "1000", "--requests", "20")),
    Workload("W4-cold", "as_of_cold.py", ("W4-cold RECORDED", "W4-cold REPORTED"),
             ("--starts", "1", "--warm", "5")),
    Workload("W5", "bulk_import.py", ("W5",), ("--reports", "5000")),
    Workload("Records", "track_records.py", ("Records now", "Records RECORDED",
                                             "Records REPORTED"),
             ("--reports", "1000", "--requests", "20")),
)
COLUMNS = tuple(key for workload in WORKLOADS for key in workload.keys)
RESULTS_HEADER = (
    "# Suite\n\n"
    "`python bench/run.py`: W1..W5 (issue 7) and W1-live, W2-http, W4-cold (\"a live "
    "timeline stays fast while it is being written\"), each script in its own process against "
    "the same PostgreSQL, one after the other. Each cell is the figure its goal judges: the "
    "ratio to the peer measured in the same run (W1 PostGraphile, goal ≥ 2×; W1-live "
    "PostGraphile while one writer appends 5, 20 or 100 reports/s, ≥ 2×; W2 raw asyncpg "
    "single-row INSERTs ≥ 0.3×, the eventsourcing library from one connection and from 16 "
    "threads ≥ 3×, PostGraphile's createFact over HTTP (W2-http) ≥ 1×; W3 a raw asyncpg read "
    "of the log ≥ 0.5×; W5 COPY of the same rows ≥ 0.5×), or a latency: W1-live's reportFact "
    "p99 under the read load (≤ 50 ms), W4's as-of p95 (< 50 ms), W4-cold's first as-of read "
    "after a fresh start (≤ 200 ms), the track records of every source of W4's timeline "
    "now and as of a moment on each clock (Records, p95 < 50 ms); ✓ met, ✗ missed, "
    "\"failed\" when the script did not finish, — when not run (or not in the suite yet). "
    "The scripts' own tables above hold the figures. A commit with + had uncommitted "
    "changes in api/, events/ or migrations/.\n\n"
    f"| date (UTC) | commit | cores | {' | '.join(COLUMNS)} | goals met |\n"
    f"| {' | '.join('---' for _ in range(len(COLUMNS) + 4))} |\n"
)


@dataclass(slots=True)
class Outcome:
    """What one workload's run gave: its comparisons, or why there are none (or too few)."""

    workload: Workload
    seconds: float = 0.0
    comparisons: list[Comparison] = field(default_factory=list)
    problem: str | None = None  # None when the script ran and its summary was complete


# --- running one script -----------------------------------------------------------------

def script_help(path: Path) -> str:
    result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True,
                            text=True, timeout=60, check=False)
    return result.stdout if result.returncode == 0 else ""


def takes(help_text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text) is not None


def supported(options: Sequence[str], help_text: str) -> list[str]:
    """``options`` (``--name value`` pairs and flags) without those the script lacks."""
    kept: list[str] = []
    i = 0
    while i < len(options):
        has_value = i + 1 < len(options) and not options[i + 1].startswith("--")
        step = 2 if has_value else 1
        if takes(help_text, options[i]):
            kept.extend(options[i:i + step])
        else:
            print(f"  (skipping {' '.join(options[i:i + step])}: not an option of this "
                  "script)", flush=True)
        i += step
    return kept


def run_script(command: list[str]) -> int:
    """Run ``command`` with our terminal; on Ctrl-C (which the child gets too) give it time
    to clean up, then re-raise. A run over ``WORKLOAD_TIMEOUT`` is interrupted likewise."""
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        return process.wait(timeout=WORKLOAD_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        stop_within_grace(process)
        return -1
    except KeyboardInterrupt:
        stop_within_grace(process)
        raise


def stop_within_grace(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_summary(path: Path, workload: Workload) -> list[Comparison]:
    """The comparisons of a script's JSON summary; ValueError naming what is wrong."""
    try:
        summary = json.loads(path.read_text())
        found = [Comparison.from_dict(c) for c in summary["comparisons"]]
    except FileNotFoundError:
        raise ValueError("it exited 0 but wrote no summary") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"its summary is unreadable: {e!r}") from None
    return found


def run_workload(workload: Workload, args: argparse.Namespace, directory: Path) -> Outcome:
    outcome = Outcome(workload)
    path = BENCH_DIR / workload.script
    print(f"\n=== {workload.name}: {workload.script} ===", flush=True)
    if not path.exists():
        outcome.problem = f"{workload.script} does not exist"
        return outcome
    help_text = script_help(path)
    if not takes(help_text, "--json"):
        outcome.problem = (f"{workload.script} does not take --json PATH (see bench/README.md, "
                           "the suite's contract); not run")
        return outcome
    options = ["--dsn", args.dsn, *(supported(workload.quick, help_text) if args.quick else [])]
    if not args.record:
        if takes(help_text, "--no-record"):
            options.append("--no-record")
        else:
            print(f"  ({workload.script} has no --no-record: it will add its own row to "
                  "results.md)", flush=True)
    summary = directory / f"{workload.name}.json"
    command = [sys.executable, str(path), *options, "--json", str(summary)]
    print("$ " + " ".join([Path(sys.executable).name, f"bench/{workload.script}",
                           *command[2:-2]]), flush=True)
    started = time.perf_counter()
    code = run_script(command)
    outcome.seconds = time.perf_counter() - started
    if code != 0:
        outcome.problem = f"{workload.script} exited with {code}"
        return outcome
    try:
        outcome.comparisons = read_summary(summary, workload)
    except ValueError as e:
        outcome.problem = f"{workload.script}: {e}"
        return outcome
    missing = [key for key in workload.keys
               if key not in {c.key for c in outcome.comparisons}]
    if missing:
        outcome.problem = f"{workload.script}'s summary has no {', '.join(missing)}"
    return outcome


# --- reporting --------------------------------------------------------------------------

def figure(value: float, unit: str) -> str:
    number = f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{number} {unit}"


def table(outcomes: Sequence[Outcome]) -> str:
    """One line per comparison (and per workload that failed), then why each failed."""
    rows = [("workload", "Chronicle", "peer", "ratio", "goal", "met?", "the peer")]
    problems = []
    for outcome in outcomes:
        for c in outcome.comparisons:
            rows.append((c.key, figure(c.chronicle, c.unit), figure(c.peer, c.unit),
                         f"{c.ratio:.3f}", c.goal, f"{'yes' if c.met else 'NO'} ({c.judged})",
                         c.peer_name))
        if outcome.problem is not None:
            rows.append((outcome.workload.name, "FAILED", "", "", "", "NO", ""))
            problems.append(f"{outcome.workload.name} failed: {outcome.problem}")
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in rows]
    return "\n".join(lines + problems)


def tally(outcomes: Sequence[Outcome]) -> tuple[int, int]:
    """Goals met, of the goals of the workloads run (a failed one's count as not met)."""
    met = sum(c.met for o in outcomes for c in o.comparisons if c.key in o.workload.keys)
    return met, sum(len(o.workload.keys) for o in outcomes)


def suite_cells(outcomes: Sequence[Outcome]) -> list[str]:
    by_key = {c.key: c for o in outcomes for c in o.comparisons}
    ran = {key for o in outcomes for key in o.workload.keys}
    return [f"{by_key[key].judged} {'✓' if by_key[key].met else '✗'}" if key in by_key
            else "failed" if key in ran else "—" for key in COLUMNS]


def commit_label() -> str:
    """The commit, with + when api/, events/ or migrations/ have uncommitted changes."""
    changes = subprocess.run(
        ["git", "status", "--porcelain", "--", "api", "events", "migrations"],
        cwd=BENCH_DIR.parent, capture_output=True, text=True, check=False).stdout.strip()
    return git_head() + ("+" if changes else "")


def record(outcomes: Sequence[Outcome]) -> None:
    met, goals = tally(outcomes)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    cells = [now, commit_label(), str(os.cpu_count()), *suite_cells(outcomes),
             f"{met} / {goals}"]
    record_row(RESULTS_HEADER, "| " + " | ".join(cells) + " |\n")


# --- others running ---------------------------------------------------------------------

def other_benchmarks() -> list[str]:
    """Command lines of other processes running a ``bench/`` script (Linux ``/proc``):
    their load would show in our figures."""
    found = []
    ours = {os.getpid(), os.getppid()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        try:
            words = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(re.search(r"(^|/)bench/\w+\.py$", word) for word in words):
            found.append(f"{entry.name}: {' '.join(words).strip()}")
    return found


# --- the run ----------------------------------------------------------------------------

def parse_only(text: str) -> list[Workload]:
    names = [name.strip().upper() for name in text.split(",") if name.strip()]
    known = {w.name.upper(): w for w in WORKLOADS}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"expected names among {', '.join(w.name for w in WORKLOADS)}, got {text!r}")
    return [w for w in WORKLOADS if w.name.upper() in names]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where the scripts may create and drop databases")
    parser.add_argument("--only", type=parse_only, default=list(WORKLOADS),
                        metavar="W2,W1-live",
                        help="run only these workloads (comma-separated)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, to see that the suite works; records nothing")
    parser.add_argument("--no-record", action="store_true",
                        help="append nothing to bench/results.md")
    args = parser.parse_args()
    args.record = not (args.quick or args.no_record)
    return args


def main() -> int:
    args = parse_args()
    others = other_benchmarks()
    if others:
        print("warning: other benchmarks are running; their load will show in the figures:\n  "
              + "\n  ".join(others), file=sys.stderr)
    started = time.perf_counter()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="chronicle-suite-") as directory:
        for workload in args.only:
            outcome = run_workload(workload, args, Path(directory))
            if outcome.problem is not None:
                print(f"{workload.name} failed: {outcome.problem}", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    met, goals = tally(outcomes)
    sizes = "quick sizes (--quick)" if args.quick else "full sizes"
    print(f"\n=== the suite: {os.cpu_count()} cores (os.cpu_count), commit {commit_label()}, "
          f"{sizes}, {time.perf_counter() - started:.0f}s ===")
    print(table(outcomes))
    ran = ", ".join(f"{o.workload.name} {o.seconds:.0f}s" for o in outcomes)
    print(f"goals met: {met} of {goals}; time per workload: {ran}")
    if args.record:
        record(outcomes)
        print(f"appended to {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 1 if any(o.problem is not None for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
