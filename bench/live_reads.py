"""W1-live: full-timeline reads while the timeline is being written, Chronicle against
PostGraphile 5.

The timeline and query of W1 (``reads.py``: 200 entries × 5 facts, the whole timeline in one
request), read by ``--connections`` autocannon connections while one writer appends reports
on random entries and attributes at each of ``--rates`` reports per second: Chronicle's
``reportFact`` over HTTP with a write token, PostGraphile's ``createFact`` on the peer's
tables (``bench/peers/postgraphile``, whose trigger makes a new report replace the fact it
bears on, so the answer keeps its size). Per rate, ``--warmup`` untimed then ``--duration``
timed seconds of reads; the writer runs throughout, one write due every 1/rate seconds
whether or not the earlier ones were answered (at most 16 under way; a write's latency runs
from when it was due). One server at a time, same PostgreSQL.
Prints reads/s, read p50/p99, write p50/p99 and achieved writes/s for both, the ratio
Chronicle / PostGraphile reads/s per rate, and appends a row per rate to
``bench/results.md``.

usage: python bench/live_reads.py [--dsn DSN] [--reports 2000] [--connections 16]
                                  [--rates 5,20,100] [--duration 10] [--warmup 2]
                                  [--peer-dir DIR] [--json PATH] [--no-record]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _harness import (
    DEFAULT_DSN,
    REQUEST_TIMEOUT,
    BenchError,
    Comparison,
    add_suite_options,
    appended_position,
    chronicle_import,
    chronicle_server,
    create_token,
    graphql_client,
    graphql_data,
    mutation_request,
    ndjson,
    record_run,
    report,
    run_against_a_server,
    throwaway_database,
    write_summary,
)
from reads import (
    PEER_DIR,
    QUERY,
    SEED,
    SLUG,
    Load,
    Shape,
    autocannon,
    busy_cores,
    checked,
    checked_load_args,
    chronicle_shape,
    node_command,
    peer_shape,
    postgraphile,
    story,
    timed_post,
)

RESULTS_HEADER = (
    "# Live timeline reads (W1-live)\n\n"
    "`python bench/live_reads.py`: W1's read (the whole timeline, 200 entries × 5 facts, one "
    "query) by `connections` autocannon connections while one writer appends reports on "
    "random entries at `writes/s` (a write started every 1/rate s, answered or not): "
    "Chronicle's `reportFact` over HTTP with a write token, then PostGraphile 5's `createFact` "
    "on `bench/peers/postgraphile` (a new report replaces the fact it bears on), same "
    "PostgreSQL, one server at a time; `seconds` timed per rate after a warm-up. One row per "
    "rate. Reads/s (answered ÷ seconds), read and write latency in ms (a write's from when "
    "it was due; at most 16 under way), Chronicle / PostGraphile; answered: writes/s answered "
    "in the timed window (below the rate when the server fell behind); never sent: writes due "
    "in the window still waiting for a connection when the writer stopped. Goals: ratio ≥ 2 "
    "at every rate, Chronicle write p99 ≤ 50 ms (none never sent).\n\n"
    "| date (UTC) | commit | cores | reports | connections | seconds | writes/s "
    "| Chronicle req/s | PostGraphile req/s | ratio | read p50 ms | read p99 ms "
    "| write p50 ms | write p99 ms | writes/s answered | never sent |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
    "| --- | --- |\n"
)
GOAL_RATIO = 2.0
GOAL_WRITE_P99_MS = 50.0
DEFAULT_RATES = (5.0, 20.0, 100.0)
RESYNC_AFTER = 1.0  # seconds: a writer this far behind its schedule skips ahead, no burst
WRITER_IN_FLIGHT = 16  # writes under way at once, at most (W2's 16 clients)
# What every answer under load must look like, now that it changes as the writer writes:
# the first answer's opening (up to its list of entries) and closing, at least this share of
# its length, and no "errors".
MIN_LENGTH_SHARE = 0.8
CREATE_FACT = ("mutation($input: CreateFactInput!) "
               "{ createFact(input: $input) { fact { rowId } } }")


# --- the writer -------------------------------------------------------------------------

Send = Callable[[int], Awaitable[None]]


@dataclass(slots=True)
class Writer:
    """One writer appending at ``rate`` reports/s on its own schedule (open loop): write k is
    due at k / rate seconds, however long the earlier ones take, and its latency runs from
    then, so a server that falls behind shows in the latencies (and in fewer writes answered)
    instead of slowing the writer down. At most ``WRITER_IN_FLIGHT`` writes are under way at
    once, as over one client's connection pool; a due write waits for a free one (that wait
    counts in its latency). ``send(k)`` makes write k. Times are the event loop's clock."""

    rate: float
    send: Send
    due: list[float] = field(default_factory=list)  # when each write was due
    latencies: list[float] = field(default_factory=list)  # seconds; nan until answered
    sent: list[bool] = field(default_factory=list)  # whether it got under way at all
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(WRITER_IN_FLIGHT))

    async def run(self) -> None:
        """Write until ``stop()``; then the writes under way are awaited and those still
        waiting for a connection are dropped (never sent). Raises the first write's error."""
        loop = asyncio.get_running_loop()
        interval, due = 1 / self.rate, loop.time()
        while not self._stop.is_set():
            now = loop.time()
            if due > now:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), due - now)
                continue
            due = max(due, now - RESYNC_AFTER)  # far behind (this process starved): skip
            self.due.append(due)
            self.latencies.append(float("nan"))
            self.sent.append(False)
            self._tasks.append(asyncio.create_task(self._write(len(self.due) - 1)))
            due += interval
        for k, task in enumerate(self._tasks):
            if not self.sent[k]:
                task.cancel()
        outcomes = await asyncio.gather(*self._tasks, return_exceptions=True)
        errors = [e for e in outcomes if isinstance(e, BaseException)
                  and not isinstance(e, asyncio.CancelledError)]
        if errors:
            raise errors[0]

    async def _write(self, k: int) -> None:
        async with self._slots:
            self.sent[k] = True
            await self.send(k)
        self.latencies[k] = asyncio.get_running_loop().time() - self.due[k]

    def stop(self) -> None:
        self._stop.set()

    def cancel(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()

    def between(self, start: float, end: float) -> list[float]:
        """The latencies of the writes due in [start, end) and answered."""
        return [latency for at, latency in zip(self.due, self.latencies, strict=True)
                if start <= at < end and not math.isnan(latency)]

    def dropped(self, start: float, end: float) -> int:
        """How many writes due in [start, end) were never answered: still waiting for a
        connection when the writer stopped."""
        return sum(start <= at < end and math.isnan(latency)
                   for at, latency in zip(self.due, self.latencies, strict=True))

    def answered(self, start: float, end: float) -> int:
        """How many writes were answered in [start, end), whenever they were due."""
        return sum(start <= at + latency < end
                   for at, latency in zip(self.due, self.latencies, strict=True))


@contextlib.asynccontextmanager
async def writing(rate: float, send: Send) -> Any:
    """A ``Writer`` running while the block runs; its writes under way are awaited after
    (their errors raised), or cancelled when the block fails."""
    writer = Writer(rate, send)
    task = asyncio.create_task(writer.run())
    try:
        yield writer
    except BaseException:
        writer.cancel()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    writer.stop()
    await task


def quantile_ms(latencies: list[float], p: int) -> float:
    """The ``p``-th percentile (inclusive method: within the samples' range even when they
    are few, as the writes at 5/s are) in milliseconds."""
    if len(latencies) < 2:
        return latencies[0] * 1000 if latencies else float("nan")
    return statistics.quantiles(latencies, n=100, method="inclusive")[p - 1] * 1000


# --- the writes of each side --------------------------------------------------------------

def chronicle_writes(client: httpx.AsyncClient, seed: int, offset: int) -> Send:
    """Write k: a report from the W1 story's generator (a random entry, attribute, source
    and stance) as ``reportFact``, its id ``w<offset + k>``; each must answer its event."""
    rng = random.Random(seed)

    async def send(k: int) -> None:
        line, _ = report(rng, SLUG, offset + k, 10_000)
        fields: Any = line["input"]
        fields["id"] = f"w{offset + k}"
        response = await client.post("/graphql", json=mutation_request(line))
        appended_position(line, graphql_data(response))

    return send


def peer_fact(fields: dict[str, Any]) -> dict[str, object]:
    """A ``reportFact`` input as the peer's ``createFact`` input: the same entry, attribute
    and value (shaped as ``schema.sql`` stores them), its source."""
    value = fields["value"]
    kind, inner = next(iter(value.items()))
    best: dict[str, object]
    low = high = None
    if kind == "count":
        best = {"best": inner.get("best", inner.get("low"))}
        low, high = inner.get("low", inner.get("best")), inner.get("high")
    else:
        best = inner
    return {"entryId": int(fields["entry"][1:]) + 1, "attribute": fields["attribute"],
            "best": best, "low": None if low is None else str(low),
            "high": None if high is None else str(high),
            "disputed": fields["stance"] == "DENIED", "sources": [fields["source"]]}


def peer_writes(client: httpx.AsyncClient, seed: int, offset: int) -> Send:
    """Write k: the same report as Chronicle's write k, as the peer's ``createFact``."""
    rng = random.Random(seed)

    async def send(k: int) -> None:
        line, _ = report(rng, SLUG, offset + k, 10_000)
        fields: Any = line["input"]
        body = {"query": CREATE_FACT, "variables": {"input": {"fact": peer_fact(fields)}}}
        data: Any = graphql_data(await client.post("/graphql", json=body))
        if not isinstance(data.get("createFact", {}).get("fact", {}).get("rowId"), int):
            raise BenchError(f"createFact answered {json.dumps(data)[:500]}")

    return send


# --- one side -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AtRate:
    """One rate on one side: the timed read load and the writes started meanwhile."""

    rate: float
    reads: Load
    writes: list[float]  # latencies (s) of the writes due in the timed window, answered
    dropped: int  # writes due in the timed window never sent (the server fell behind)
    answered: int  # writes answered in the timed window
    window: float  # seconds of the timed window (autocannon's own duration)

    @property
    def writes_per_second(self) -> float:
        """Writes answered per second of the timed window: below the rate asked when the
        server falls behind the writer."""
        return self.answered / self.window

    def write_ms(self, p: int) -> float:
        return quantile_ms(self.writes, p)

    @property
    def write_goal_met(self) -> bool:
        """Write p99 within the goal, and every write due in the window answered."""
        return self.write_ms(99) <= GOAL_WRITE_P99_MS and not self.dropped

    def write_judged(self) -> str:
        dropped = f", {self.dropped} never sent" if self.dropped else ""
        return f"{self.write_ms(99):.1f} ms{dropped}"


@dataclass(frozen=True, slots=True)
class Side:
    name: str
    first_bytes: int
    last_bytes: int  # the answer's size after the last rate
    busy_cores: float
    rates: list[AtRate]
    writes: int  # acknowledged, all rates, warm-ups included


def answer_check(expect: str) -> dict[str, object]:
    """What every answer under writes must look like (see ``load.mjs``): the first
    answer's opening up to its list of entries, its closing brackets, most of its length."""
    closing = len(expect) - len(expect.rstrip("]}"))
    return {"prefix": expect[:expect.index("[") + 1], "suffix": expect[-closing:],
            "minLength": int(len(expect) * MIN_LENGTH_SHARE), "forbid": '"errors"'}


async def read_checked(url: str, body: str, shape: Shape, what: str) -> str:
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as client:
        _, response = await timed_post(client, url, body)
    return checked(response, shape, what)


async def live_side(name: str, node: list[str], url: str, body: str, shape: Shape,
                    writes: Callable[[httpx.AsyncClient, int, int], Send],
                    client: httpx.AsyncClient, args: argparse.Namespace) -> Side:
    """For each rate: the writer, ``--warmup`` then ``--duration`` seconds of reads, a
    checked read after. Writes k of every rate are the same on both sides (same seeds)."""
    expect = await read_checked(url, body, shape, f"{name}'s first read")
    check = answer_check(expect)
    busy = await busy_cores()
    print(f"{name}: first read {len(expect):,} bytes; busy cores before: {busy:.2f}",
          flush=True)
    found, offset, acknowledged, answer = [], 0, 0, expect
    for n, rate in enumerate(args.rates):
        print(f"{name}: {rate:g} writes/s, reads by {args.connections} connections: "
              f"warm-up {args.warmup}s, then {args.duration}s", flush=True)
        async with writing(rate, writes(client, SEED + 1 + n, offset)) as writer:
            await autocannon(node, url, body, None, connections=args.connections,
                             duration=args.warmup, check=check)
            reads = await autocannon(node, url, body, None, connections=args.connections,
                                     duration=args.duration, check=check)
            # The timed window: autocannon's own duration, ending when its process did (its
            # start is later than the process's, by Node's start-up).
            end = asyncio.get_running_loop().time()
            start = end - reads.seconds
        offset += len(writer.due)
        acknowledged += sum(not math.isnan(latency) for latency in writer.latencies)
        answer = await read_checked(url, body, shape, f"{name}'s read after {rate:g}/s")
        found.append(AtRate(rate, reads, writer.between(start, end), writer.dropped(start, end),
                            writer.answered(start, end), reads.seconds))
    return Side(name, len(expect), len(answer), busy, found, acknowledged)


# --- Chronicle ----------------------------------------------------------------------------

async def run_chronicle(args: argparse.Namespace, node: list[str], log: Path,
                        directory: Path) -> Side:
    path = directory / "story.ndjson"
    path.write_text(ndjson(story(args.reports, random.Random(SEED))))
    async with throwaway_database(args.dsn) as dsn:
        events = await chronicle_import(dsn, path)
        print(f"Chronicle: imported {events:,} events", flush=True)
        token = await create_token(dsn)
        async with chronicle_server(dsn, log) as base_url, \
                graphql_client(base_url, token) as client:
            side = await live_side("Chronicle", node, f"{base_url}/graphql",
                                   json.dumps({"query": QUERY}), chronicle_shape,
                                   chronicle_writes, client, args)
        stored = await count_rows(dsn, "SELECT count(*) FROM events")
    if stored != events + side.writes:
        raise BenchError(f"{events} events imported and {side.writes} reportFact "
                         f"acknowledged, but the log holds {stored}")
    return side


async def count_rows(dsn: str, query: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        found: int = await connection.fetchval(query)
    finally:
        await connection.close()
    return found


# --- PostGraphile -------------------------------------------------------------------------

async def run_peer(args: argparse.Namespace, node: list[str], directory: Path) -> Side:
    body = (args.peer_dir / "query.json").read_text().strip()
    async with throwaway_database(args.dsn) as dsn:
        async with postgraphile(args.peer_dir, dsn, body,
                                directory / "postgraphile.log") as url, \
                httpx.AsyncClient(base_url=url.removesuffix("/graphql"),
                                  timeout=REQUEST_TIMEOUT) as client:
            side = await live_side("PostGraphile", node, url, body, peer_shape, peer_writes,
                                   client, args)
        written = await count_rows(dsn, "SELECT max(id) - 1000 FROM peer_pgl.fact")
    if written != side.writes:
        raise BenchError(f"{side.writes} createFact acknowledged, but the peer's fact ids "
                         f"say {written} were inserted")
    return side


# --- the run ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    connections: int
    duration: int
    chronicle: Side
    peer: Side

    def pairs(self) -> list[tuple[AtRate, AtRate]]:
        return list(zip(self.chronicle.rates, self.peer.rates, strict=True))


def ratio(chronicle: AtRate, peer: AtRate) -> float:
    return chronicle.reads.per_second / peer.reads.per_second


async def measure(args: argparse.Namespace, log: Path, directory: Path) -> Figures:
    node = node_command()
    chronicle = await run_chronicle(args, node, log, directory)
    peer = await run_peer(args, node, directory)
    return Figures(args.reports, args.connections, args.duration, chronicle, peer)


def both(chronicle: float, peer: float, spec: str = ".1f") -> str:
    return f"{chronicle:{spec}} / {peer:{spec}}"


def summary(figures: Figures) -> str:
    pairs = figures.pairs()
    rows: list[tuple[str, ...]] = [
        ("writes/s asked (one writer)", *(f"{c.rate:g}" for c, _ in pairs)),
        ("writes/s answered: Chronicle / PostGraphile",
         *(both(c.writes_per_second, p.writes_per_second) for c, p in pairs)),
        ("reads/s: Chronicle / PostGraphile",
         *(both(c.reads.per_second, p.reads.per_second, ",.0f") for c, p in pairs)),
        ("ratio Chronicle / PostGraphile reads/s", *(f"{ratio(c, p):.2f}" for c, p in pairs)),
        ("read p50 ms: Chronicle / PostGraphile",
         *(both(c.reads.p50_ms, p.reads.p50_ms) for c, p in pairs)),
        ("read p99 ms: Chronicle / PostGraphile",
         *(both(c.reads.p99_ms, p.reads.p99_ms) for c, p in pairs)),
        ("write p50 ms: Chronicle / PostGraphile",
         *(both(c.write_ms(50), p.write_ms(50)) for c, p in pairs)),
        ("write p99 ms: Chronicle / PostGraphile",
         *(both(c.write_ms(99), p.write_ms(99)) for c, p in pairs)),
        ("writes due in the window, answered: Chronicle / PostGraphile",
         *(both(len(c.writes), len(p.writes), "d") for c, p in pairs)),
        ("  and never sent (the server fell behind)",
         *(both(c.dropped, p.dropped, "d") for c, p in pairs)),
        (f"goal: reads ratio ≥ {GOAL_RATIO:g}",
         *("met" if ratio(c, p) >= GOAL_RATIO else "MISSED" for c, p in pairs)),
        (f"goal: Chronicle write p99 ≤ {GOAL_WRITE_P99_MS:g} ms",
         *("met" if c.write_goal_met else "MISSED" for c, _ in pairs)),
    ]
    label_width = max(len(row[0]) for row in rows)
    widths = [max(len(row[k]) for row in rows) for k in range(1, len(rows[0]))]
    table = "\n".join(
        f"{row[0]:<{label_width}}  " + "  ".join(f"{cell:>{w}}" for cell, w in
                                                 zip(row[1:], widths, strict=True))
        for row in rows)
    chronicle, peer = figures.chronicle, figures.peer
    head = [
        f"cores (os.cpu_count): {os.cpu_count()}; reports: {figures.reports:,} (+ 1,000 seed); "
        f"connections: {figures.connections}; timed seconds per rate: {figures.duration}",
        f"answer bytes, first / after the last rate: Chronicle {chronicle.first_bytes:,} / "
        f"{chronicle.last_bytes:,}, PostGraphile {peer.first_bytes:,} / {peer.last_bytes:,}",
        f"busy cores before the loads: Chronicle {chronicle.busy_cores:.2f}, PostGraphile "
        f"{peer.busy_cores:.2f}; writes acknowledged in all: {chronicle.writes:,} / "
        f"{peer.writes:,}",
    ]
    return "\n".join([*head, table])


def record(figures: Figures) -> None:
    for c, p in figures.pairs():
        record_run(RESULTS_HEADER, figures.reports, figures.connections, figures.duration,
                   f"{c.rate:g}", f"{c.reads.per_second:,.0f}", f"{p.reads.per_second:,.0f}",
                   f"{ratio(c, p):.2f}", both(c.reads.p50_ms, p.reads.p50_ms),
                   both(c.reads.p99_ms, p.reads.p99_ms), both(c.write_ms(50), p.write_ms(50)),
                   both(c.write_ms(99), p.write_ms(99)),
                   both(c.writes_per_second, p.writes_per_second),
                   both(c.dropped, p.dropped, "d"))


def comparisons(figures: Figures) -> list[Comparison]:
    found = []
    for c, p in figures.pairs():
        r = ratio(c, p)
        found.append(Comparison(
            key=f"W1-live {c.rate:g}/s",
            what=(f"full-timeline read, {figures.connections} connections, one writer at "
                  f"{c.rate:g} reportFact/s"),
            unit="req/s", chronicle=c.reads.per_second,
            peer_name=f"PostGraphile 5, query.json, one writer at {p.rate:g} createFact/s",
            peer=p.reads.per_second, goal=f"≥ {GOAL_RATIO:g}× peer", met=r >= GOAL_RATIO,
            judged=f"{r:.2f}×"))
        found.append(Comparison(
            key=f"W1-live {c.rate:g}/s write",
            what=f"reportFact p99 at {c.rate:g}/s under the read load",
            unit="ms p99", chronicle=c.write_ms(99),
            peer_name="PostGraphile 5 createFact p99, same load", peer=p.write_ms(99),
            goal=f"p99 ≤ {GOAL_WRITE_P99_MS:g} ms", met=c.write_goal_met,
            judged=c.write_judged()))
    return found


def rate_details(at: AtRate) -> dict[str, float]:
    return {"req_per_s": at.reads.per_second, "read_p50_ms": at.reads.p50_ms,
            "read_p99_ms": at.reads.p99_ms, "requests": at.reads.requests,
            "autocannon_cpu_cores": at.reads.client_cpu, "writes_timed": len(at.writes),
            "writes_never_sent": at.dropped,
            "writes_answered_per_s": at.writes_per_second, "write_p50_ms": at.write_ms(50),
            "write_p99_ms": at.write_ms(99)}


def write_json(path: Path | None, figures: Figures) -> None:
    write_summary(
        path, script="live_reads.py", workload="W1-live",
        sizes={"reports": figures.reports, "connections": figures.connections,
               "seconds": figures.duration, "rates": [c.rate for c in figures.chronicle.rates]},
        comparisons=comparisons(figures),
        details={f"{c.rate:g}/s": {"chronicle": rate_details(c), "postgraphile": rate_details(p)}
                 for c, p in figures.pairs()}
        | {"answer_bytes": {"chronicle": [figures.chronicle.first_bytes,
                                          figures.chronicle.last_bytes],
                            "postgraphile": [figures.peer.first_bytes,
                                             figures.peer.last_bytes]},
           "busy_cores_before": {"chronicle": figures.chronicle.busy_cores,
                                 "postgraphile": figures.peer.busy_cores}})


def rates(text: str) -> list[float]:
    try:
        found = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 5,20,100, got {text!r}") \
            from None
    if not found or min(found) <= 0:
        raise argparse.ArgumentTypeError("rates must be positive")
    return found


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=2_000,
                        help="reportFact lines after the 1,000 seed reports (as W1)")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent autocannon connections reading")
    parser.add_argument("--rates", type=rates, default=list(DEFAULT_RATES),
                        help="the writer's reports per second, one load each (5,20,100)")
    parser.add_argument("--duration", type=int, default=10,
                        help="timed seconds of reads per rate")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed seconds of reads per rate first (the writer running)")
    parser.add_argument("--peer-dir", type=Path, default=PEER_DIR,
                        help="where the PostGraphile peer's serve.py, schema.sql and "
                        "query.json are")
    add_suite_options(parser)
    return checked_load_args(parser)


def main() -> int:
    return run_against_a_server(parse_args(), "live-reads", measure, summary, write_json, record)


if __name__ == "__main__":
    sys.exit(main())
