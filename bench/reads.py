"""W1 full-timeline reads: the whole timeline in one GraphQL query, under concurrent load,
Chronicle against PostGraphile 5.

Creates a throwaway database and imports one timeline with ``chronicle import`` (200
entries, one seed report per entry and attribute, so every entry has its 5 facts, then
``--reports`` reports with a few corrections, retractions and ranks), serves it with
``chronicle serve`` and loads it with autocannon (``bench/node``): ``--connections``
connections POSTing the same query for ``--warmup`` untimed then ``--duration`` timed
seconds, then the same with a new variable in every request, which the response cache cannot
answer (informational). Then, on a fresh throwaway database, the same load on PostGraphile 5
serving ``bench/peers/postgraphile/schema.sql`` with its ``query.json``. One server at a
time. Any non-2xx, error, timeout or answer that differs from the first fails the run.
Prints requests/s, p50/p99 and the ratio Chronicle / PostGraphile, and appends a line to
``bench/results.md``.

usage: python bench/reads.py [--dsn DSN] [--reports 2000] [--connections 16] [--duration 15]
                             [--warmup 3] [--no-uncached] [--peer-dir DIR] [--json PATH]
                             [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _harness import (
    ATTRIBUTES,
    BENCH_DIR,
    DEFAULT_DSN,
    ENTRIES,
    REPORTED_FROM,
    REQUEST_TIMEOUT,
    SOURCES,
    STANCE_WEIGHTS,
    STANCES,
    BenchError,
    Comparison,
    Line,
    add_suite_options,
    chronicle_import,
    chronicle_server,
    command,
    create_timeline,
    free_port,
    instant,
    ndjson,
    open_entries,
    record_run,
    register_sources,
    reports,
    run_against_a_server,
    throwaway_database,
    value,
    write_summary,
)

RESULTS_HEADER = (
    "# Full-timeline reads (W1)\n\n"
    "`python bench/reads.py`: the whole timeline (200 entries × 5 facts: title, occurred, "
    "each fact's attribute, value, range, dispute and status) in one GraphQL query, the same "
    "POST repeated by `connections` autocannon connections for `seconds` after a 3 s warm-up: "
    "Chronicle (`chronicle serve`, one seed report per fact plus `reports`), then PostGraphile 5 "
    "on `bench/peers/postgraphile` (`query.json`), same PostgreSQL, one at a time. "
    "Requests/s (answered ÷ seconds) and latency ms p50 / p99; ratio = Chronicle / "
    "PostGraphile req/s. Uncached: Chronicle again with a new variable in every request, so its "
    "response cache never answers (informational, no warm-up). Bytes: one answer's size, "
    "Chronicle / PostGraphile. Goal: ratio ≥ 2.\n\n"
    "| date (UTC) | commit | cores | reports | connections | seconds | Chronicle req/s "
    "| Chronicle ms | PostGraphile req/s | PostGraphile ms | ratio | uncached req/s "
    "| uncached ms | bytes |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
)
GOAL_RATIO = 2.0
SEED = 2018
SLUG = "bench"
PROBE_READS = 20  # sequential reads per variant of the cache probe
NODE_DIR = BENCH_DIR / "node"
PEER_DIR = BENCH_DIR / "peers" / "postgraphile"
# What bench/node's npm project must hold: the load generator, PostGraphile 5, and Node 22
# (the npm package ``node``), which PostGraphile 5 needs and the machine may not have.
NODE_PACKAGES = ("autocannon", "postgraphile", "node")
NODE_INSTALL_TIMEOUT = 900.0
PEER_START_TIMEOUT = 60.0  # loading schema.sql, then PostGraphile building its schema

# The selection of the peer's query.json, as far as Chronicle's schema has it: the peer's
# `occurredOn` is Chronicle's `occurred`, its `best` (JSON) the `value` union; Chronicle's
# Fact has no `sources` (the sources are behind `reports { report { source } }`, a deeper
# read), and the peer has no `status`: each side asks for its own.
QUERY = """{
  timeline(slug: "bench") {
    title
    entries(first: 200) { nodes { title occurred { start precision }
      facts { attribute low high disputed status value {
        ... on Count { best low high } ... on Text { text }
        ... on TimeSpan { start precision } ... on Place { name } } } } }
  }
}"""


# --- the story --------------------------------------------------------------------------

def seed_reports(rng: random.Random) -> list[Line]:
    """One report per entry and attribute, so every entry has all of its facts."""
    return [
        command("reportFact", timeline=SLUG, id=f"s{n}-{attribute}", entry=f"e{n}",
                attribute=attribute, value=value(rng, attribute, n),
                source=SOURCES[(n + k) % len(SOURCES)][0],
                stance=rng.choices(STANCES, STANCE_WEIGHTS)[0], reportedAt=instant(REPORTED_FROM))
        for n in range(ENTRIES) for k, attribute in enumerate(ATTRIBUTES)]


def story(total: int, rng: random.Random) -> list[Line]:
    return [create_timeline(SLUG, "Bench", "W1 full-timeline reads"), *register_sources(),
            *open_entries(SLUG), *seed_reports(rng), *reports(SLUG, total, rng)]


# --- answers ----------------------------------------------------------------------------

Shape = Callable[[dict[str, Any]], list[int]]


def chronicle_shape(data: dict[str, Any]) -> list[int]:
    """Facts per entry in Chronicle's answer."""
    return [len(node["facts"]) for node in data["timeline"]["entries"]["nodes"]]


def peer_shape(data: dict[str, Any]) -> list[int]:
    """Facts per entry in PostGraphile's answer."""
    nodes = data["timelineBySlug"]["entriesByTimelineId"]["nodes"]
    return [len(node["factsByEntryId"]["nodes"]) for node in nodes]


def checked(response: httpx.Response, shape: Shape, what: str) -> str:
    """The body of a full answer: HTTP 200, no ``errors``, 200 entries of 5 facts each."""
    try:
        body = response.json()
        facts = shape(body["data"])
    except (ValueError, KeyError, TypeError):
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:1000]}") from None
    if response.status_code != 200 or body.get("errors"):
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:1000]}")
    if len(facts) != ENTRIES or set(facts) != {len(ATTRIBUTES)}:
        raise BenchError(f"{what}: {len(facts)} entries holding {sum(facts)} facts, not "
                         f"{ENTRIES} × {len(ATTRIBUTES)}")
    return response.text


# --- the load generator -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Load:
    """What one autocannon run measured."""

    seconds: float
    requests: int
    stddev: float  # of the requests answered in each second
    p50_ms: float
    p99_ms: float
    client_cpu: float  # cores' worth of CPU autocannon itself used

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def triple(self) -> str:
        return f"{self.p50_ms:.1f} / {self.p99_ms:.1f}"


def node_command() -> list[str]:
    """``node load.mjs``, installing autocannon from the lock file first if need be."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise BenchError("node and npm must be on PATH (autocannon runs on Node)")
    if not all((NODE_DIR / "node_modules" / name).is_dir() for name in NODE_PACKAGES):
        print(f"installing {', '.join(NODE_PACKAGES)} into bench/node (npm ci) ...", flush=True)
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                              capture_output=True, text=True, timeout=NODE_INSTALL_TIMEOUT,
                              check=False)
        if done.returncode:
            raise BenchError(f"npm ci in {NODE_DIR} failed:\n{done.stderr[-2000:]}")
    return [node, str(NODE_DIR / "load.mjs")]


async def autocannon(node: list[str], url: str, body: str, expect: str | None, *,
                     connections: int, duration: int, nonce: bool = False,
                     check: dict[str, object] | None = None) -> Load:
    """One autocannon run; BenchError if any answer was not a 2xx carrying ``expect`` (or,
    when ``expect`` is None, passing ``check``: see ``load.mjs``)."""
    if expect is None and check is None:
        raise ValueError("autocannon needs expect or check")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.NamedTemporaryFile("w", prefix="chronicle-load-", suffix=".json") as config:
        json.dump({"url": url, "body": body, "expect": expect, "check": check,
                   "connections": connections, "duration": duration, "nonce": nonce}, config)
        config.flush()
        process = await asyncio.create_subprocess_exec(
            *node, config.name, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), duration + 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if process.returncode != 0:
        raise BenchError(f"autocannon exited with {process.returncode}: {stderr.decode()[-2000:]}")
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    faults = {k: result[k] for k in ("non2xx", "errors", "timeouts", "mismatches") if result[k]}
    if faults or not result["requests"]["total"]:
        raise BenchError(f"{url}: {faults or 'no request answered'} in "
                         f"{result['requests']['total']} requests (status codes: "
                         f"{result.get('statusCodeStats')})")
    requests, latency = result["requests"], result["latency"]
    return Load(result["duration"], requests["total"], requests["stddev"],
                latency["p50"], latency["p99"], cpu / result["duration"])


# --- one side ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Side:
    name: str
    bytes: int
    first_ms: float  # the first read, before any other
    load: Load
    busy_cores: float  # CPU in use on the machine just before the load, ours idle


@dataclass(frozen=True, slots=True)
class Probe:
    """Sequential reads from one client: the same body (which the response cache may
    answer) and the same query with a new variable each time (which it cannot)."""

    repeated_ms: float
    fresh_ms: float


async def timed_post(client: httpx.AsyncClient, url: str,
                     body: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.post(url, content=body,
                                 headers={"content-type": "application/json"})
    return time.perf_counter() - started, response


async def probe_cache(client: httpx.AsyncClient, url: str, expect: str) -> Probe:
    repeated, fresh = [], []
    body = json.dumps({"query": QUERY})
    for k in range(PROBE_READS):
        elapsed, response = await timed_post(client, url, body)
        if response.text != expect:
            raise BenchError(f"a repeated read answered differently: {response.text[:500]}")
        repeated.append(elapsed)
        elapsed, response = await timed_post(
            client, url, json.dumps({"query": QUERY, "variables": {"nonce": -1 - k}}))
        if response.text != expect:
            raise BenchError(f"a read with a new variable answered differently: "
                             f"{response.text[:500]}")
        fresh.append(elapsed)
    return Probe(statistics.median(repeated) * 1000, statistics.median(fresh) * 1000)


async def load_side(name: str, node: list[str], url: str, body: str, shape: Shape,
                    args: argparse.Namespace) -> tuple[Side, str]:
    """The first read (checked), the warm-up load, the timed load; the side and its answer."""
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        elapsed, response = await timed_post(client, url, body)
    expect = checked(response, shape, f"{name}'s first read")
    print(f"{name}: first read {elapsed * 1000:.1f} ms, {len(response.content):,} bytes; "
          f"warm-up {args.warmup}s, then {args.duration}s at {args.connections} connections",
          flush=True)
    await autocannon(node, url, body, expect, connections=args.connections,
                     duration=args.warmup)
    busy = await busy_cores()
    load = await autocannon(node, url, body, expect, connections=args.connections,
                            duration=args.duration)
    return Side(name, len(response.content), elapsed * 1000, load, busy), expect


def cpu_times() -> tuple[int, int]:
    """All and idle (idle + iowait) jiffies of the machine, from /proc/stat."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


async def busy_cores(seconds: float = 1.0) -> float:
    """Cores' worth of CPU the machine spends over ``seconds`` while we wait: what others
    use (and PostgreSQL's background work), since our server and client are idle then."""
    total, idle = cpu_times()
    await asyncio.sleep(seconds)
    total_after, idle_after = cpu_times()
    spent = total_after - total
    return (spent - (idle_after - idle)) / spent * (os.cpu_count() or 1) if spent else 0.0


# --- Chronicle --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChronicleRun:
    side: Side
    events: int
    probe: Probe
    uncached: Load | None


async def run_chronicle(args: argparse.Namespace, node: list[str], log: Path,
                        directory: Path) -> ChronicleRun:
    path = directory / "story.ndjson"
    path.write_text(ndjson(story(args.reports, random.Random(SEED))))
    async with throwaway_database(args.dsn) as dsn:
        events = await chronicle_import(dsn, path)
        print(f"Chronicle: imported {events:,} events", flush=True)
        async with chronicle_server(dsn, log) as base_url:
            url = f"{base_url}/graphql"
            body = json.dumps({"query": QUERY})
            side, expect = await load_side("Chronicle", node, url, body, chronicle_shape, args)
            async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
                probe = await probe_cache(client, url, expect)
            uncached = None
            if args.uncached:
                print(f"Chronicle uncached: {args.duration}s, a new variable per request",
                      flush=True)
                uncached = await autocannon(node, url, body, expect,
                                            connections=args.connections,
                                            duration=args.duration, nonce=True)
    return ChronicleRun(side, events, probe, uncached)


# --- PostGraphile -----------------------------------------------------------------------

def peer_log(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


async def stop_peer(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after 10 s (serve.py became PostGraphile: it is our child)."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


async def wait_peer(url: str, body: str, process: asyncio.subprocess.Process,
                    log: Path) -> None:
    deadline = time.monotonic() + PEER_START_TIMEOUT
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise BenchError(f"PostGraphile exited with {process.returncode}:\n"
                                 f"{peer_log(log)}")
            with contextlib.suppress(httpx.TransportError):
                response = await client.post(url, content=body,
                                             headers={"content-type": "application/json"})
                if response.status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise BenchError(f"PostGraphile did not answer within {PEER_START_TIMEOUT:.0f}s:\n"
                     f"{peer_log(log)}")


@contextlib.asynccontextmanager
async def postgraphile(peer_dir: Path, dsn: str, body: str, log: Path) -> AsyncIterator[str]:
    """``serve.py DSN PORT``, which loads schema.sql into ``dsn`` and then becomes PostGraphile
    5 (from bench/node); yield the GraphQL URL, stop the server however we leave."""
    port = free_port()
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(peer_dir / "serve.py"), dsn, str(port),
            stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=asyncio.subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        await wait_peer(url, body, process, log)
        yield url
    finally:
        await stop_peer(process)


async def run_peer(args: argparse.Namespace, node: list[str], directory: Path) -> Side:
    body = (args.peer_dir / "query.json").read_text().strip()
    async with throwaway_database(args.dsn) as dsn, \
            postgraphile(args.peer_dir, dsn, body, directory / "postgraphile.log") as url:
        side, _ = await load_side("PostGraphile", node, url, body, peer_shape, args)
    return side


# --- the run ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    connections: int
    duration: int
    chronicle: ChronicleRun
    peer: Side

    @property
    def ratio(self) -> float:
        return self.chronicle.side.load.per_second / self.peer.load.per_second


async def measure(args: argparse.Namespace, log: Path, directory: Path) -> Figures:
    node = node_command()
    chronicle = await run_chronicle(args, node, log, directory)
    peer = await run_peer(args, node, directory)
    return Figures(args.reports, args.connections, args.duration, chronicle, peer)


def load_cells(load: Load) -> str:
    return f"{load.per_second:,.0f} (± {load.stddev:,.0f}) / {load.triple()}"


def summary(figures: Figures) -> str:
    chronicle, peer = figures.chronicle, figures.peer
    goal = "met" if figures.ratio >= GOAL_RATIO else "MISSED"
    probe = chronicle.probe
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("reports (+ 1,000 seed) / events imported",
         f"{figures.reports:,} / {chronicle.events:,}"),
        ("connections / timed seconds", f"{figures.connections} / {figures.duration}"),
        ("answer bytes: Chronicle / PostGraphile",
         f"{chronicle.side.bytes:,} / {peer.bytes:,}"),
        ("first read ms: Chronicle / PostGraphile",
         f"{chronicle.side.first_ms:.1f} / {peer.first_ms:.1f}"),
        ("cache probe ms (median, 1 client): repeated / new variable",
         f"{probe.repeated_ms:.2f} / {probe.fresh_ms:.2f}"),
        ("busy cores just before the timed load: Chronicle / PostGraphile",
         f"{chronicle.side.busy_cores:.2f} / {peer.busy_cores:.2f}"),
        ("Chronicle req/s (± stddev per s) / p50 / p99 ms", load_cells(chronicle.side.load)),
        ("PostGraphile req/s (± stddev per s) / p50 / p99 ms", load_cells(peer.load)),
        *([("Chronicle uncached req/s (± stddev) / p50 / p99 ms",
            load_cells(chronicle.uncached))] if chronicle.uncached else []),
        ("autocannon's own CPU (cores) in the timed loads: Chronicle / PostGraphile",
         f"{chronicle.side.load.client_cpu:.2f} / {peer.load.client_cpu:.2f}"),
        ("requests answered: Chronicle / PostGraphile",
         f"{chronicle.side.load.requests:,} / {peer.load.requests:,}"),
        ("ratio Chronicle / PostGraphile req/s", f"{figures.ratio:.2f}"),
        (f"goal: ratio ≥ {GOAL_RATIO:g}", goal),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>32}" for label, value in rows)


def record(figures: Figures) -> None:
    chronicle, peer = figures.chronicle, figures.peer
    uncached = chronicle.uncached
    record_run(RESULTS_HEADER, figures.reports, figures.connections, figures.duration,
               f"{chronicle.side.load.per_second:,.0f}", chronicle.side.load.triple(),
               f"{peer.load.per_second:,.0f}", peer.load.triple(), f"{figures.ratio:.2f}",
               f"{uncached.per_second:,.0f}" if uncached else "–",
               uncached.triple() if uncached else "–",
               f"{chronicle.side.bytes:,} / {peer.bytes:,}")


def comparisons(figures: Figures) -> list[Comparison]:
    return [Comparison(
        key="W1",
        what=f"full-timeline read (200 entries × 5 facts), {figures.connections} connections",
        unit="req/s", chronicle=figures.chronicle.side.load.per_second,
        peer_name="PostGraphile 5, query.json", peer=figures.peer.load.per_second,
        goal=f"≥ {GOAL_RATIO:g}× peer", met=figures.ratio >= GOAL_RATIO,
        judged=f"{figures.ratio:.2f}×")]


def load_details(load: Load) -> dict[str, float]:
    return {"req_per_s": load.per_second, "requests": load.requests, "seconds": load.seconds,
            "p50_ms": load.p50_ms, "p99_ms": load.p99_ms,
            "autocannon_cpu_cores": load.client_cpu}


def write_json(path: Path | None, figures: Figures) -> None:
    chronicle, peer = figures.chronicle, figures.peer
    write_summary(
        path, script="reads.py", workload="W1",
        sizes={"reports": figures.reports, "connections": figures.connections,
               "seconds": figures.duration},
        comparisons=comparisons(figures),
        details={"chronicle": load_details(chronicle.side.load),
                 "postgraphile": load_details(peer.load),
                 "chronicle_uncached": (load_details(chronicle.uncached)
                                        if chronicle.uncached else None),
                 "answer_bytes": {"chronicle": chronicle.side.bytes, "postgraphile": peer.bytes},
                 "cache_probe_ms": {"repeated": chronicle.probe.repeated_ms,
                                    "new_variable": chronicle.probe.fresh_ms},
                 "busy_cores_before": {"chronicle": chronicle.side.busy_cores,
                                       "postgraphile": peer.busy_cores}})


def checked_load_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse a read load's options (as W1 and W1-live share them) and refuse impossible
    sizes or a peer directory without the PostGraphile peer's files."""
    args = parser.parse_args()
    if args.reports < 1 or args.connections < 1 or args.duration < 1 or args.warmup < 1:
        parser.error("--reports, --connections, --duration and --warmup must be at least 1")
    missing = [name for name in ("serve.py", "schema.sql", "query.json")
               if not (args.peer_dir / name).is_file()]
    if missing:
        parser.error(f"no {', '.join(missing)} in {args.peer_dir}")
    return args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=2_000,
                        help="reportFact lines after the 1,000 seed reports")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent autocannon connections")
    parser.add_argument("--duration", type=int, default=15, help="timed seconds per load")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed seconds of the same load first")
    parser.add_argument("--no-uncached", dest="uncached", action="store_false",
                        help="skip Chronicle's load with a new variable per request")
    parser.add_argument("--peer-dir", type=Path, default=PEER_DIR,
                        help="where the PostGraphile peer's serve.py, schema.sql and "
                        "query.json are")
    add_suite_options(parser)
    return checked_load_args(parser)


def main() -> int:
    return run_against_a_server(parse_args(), "reads", measure, summary, write_json, record)


if __name__ == "__main__":
    sys.exit(main())
