"""Live delivery and refusals (issue 5): commit → subscriber across processes, and how fast
hostile queries are turned away.

Creates a throwaway database, imports a timeline's set-up (8 graded sources, 200 entries)
with ``chronicle import``, and serves it twice: ``chronicle serve`` A and B on the same
database. Opens ``--subscribers`` graphql-transport-ws subscriptions to ``events`` on A and
as many on B, then appends ``--events`` reportFact mutations through B over HTTP, one at a
time, one every ``--interval-ms``. Each event is timed at each subscriber from B's HTTP
answer (the commit acknowledged) and from its ``recordedAt``; every subscriber must receive
exactly the appended positions, in order, once. Then times ``--requests`` refusals by A of a
500-deep query, a 1,000-alias query and a 6,000-token query against ``{ __typename }``.
Prints the figures and appends a line to ``bench/results.md``.

usage: python bench/live.py [--dsn DSN] [--subscribers 4] [--events 300] [--interval-ms 10]
                            [--requests 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from _harness import (
    BENCH_DIR,
    DEFAULT_DSN,
    RESULTS,
    BenchError,
    Line,
    appended_position,
    chronicle_import,
    chronicle_server,
    create_timeline,
    create_token,
    failed,
    graphql_client,
    graphql_data,
    mutation_request,
    ndjson,
    open_entries,
    percentile_ms,
    record_run,
    register_sources,
    report,
    report_server_log,
    server_log,
    throwaway_database,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

RESULTS_HEADER = (
    "# Live delivery and refusals (issue 5)\n\n"
    "`python bench/live.py`: two `chronicle serve` processes A and B on one database, "
    "`subscribers` graphql-transport-ws `events` subscriptions on each; `events` timed "
    "`reportFact` through B over HTTP, one at a time, one every 10 ms. Delivery in "
    "milliseconds p50 / p95 / p99 over all subscribers and events of a process, from B's HTTP "
    "answer (negative when the event arrived first) and from the event's `recordedAt` "
    "(stamped in the append's transaction, before the commit; PostgreSQL's clock against the "
    "client's, one host); the ratio A / B (cross-process / same process) is taken on the "
    "latter, at p50 / p95. Every subscriber received exactly the appended positions, in "
    "order, once. Then `{ __typename }` answered and three queries refused "
    "(`QUERY_TOO_COMPLEX`) by A: 500 nested fields, 1,000 aliases, 6,000 tokens; client wall "
    "time on loopback, one keep-alive client, `requests` of each taking turns, milliseconds "
    "p50 / p95 and (×) the p50 as a multiple of `{ __typename }`'s.\n\n"
    "| date (UTC) | commit | cores | subscribers | events | requests | A after answer ms "
    "| B after answer ms | A after recordedAt ms | B after recordedAt ms | ratio A / B "
    "| `{ __typename }` ms | depth 500 ms | 1,000 aliases ms | 6,000 tokens ms |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
    "| --- |\n"
)
SEED = 2018
SLUG = "live"
WARMUP = 20  # untimed appends first: every subscription is live once they have all arrived
DELIVERY_TIMEOUT = 30.0  # seconds after the last acknowledgement for every event to arrive
WS_TIMEOUT = 10.0
REFUSAL_WARMUP = 5  # untimed requests of each query first
PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIPTION = "subscription($after: Int!) { events(after: $after) { position recordedAt } }"

TRIVIAL = "{ __typename }"
# name: (query, what the refusal's message must mention). None of them is valid, so a server
# that ran validation first would answer BAD_INPUT, not QUERY_TOO_COMPLEX.
HOSTILE: dict[str, tuple[str, str]] = {
    "depth 500": ("{ " + "a { " * 500 + "b" + " }" * 500 + " }", "deep"),
    "1,000 aliases": ("{ " + " ".join(f"a{i}: __typename" for i in range(1000)) + " }",
                      "aliases"),
    "6,000 tokens": ("{ " + "__typename " * 5998 + "}", "tokens"),
}


# --- subscribers ------------------------------------------------------------------------

class Arrival(NamedTuple):
    position: int
    at: float  # time.perf_counter() when the message was read
    wall: float  # time.time() then
    recorded_at: float  # the event's recordedAt (stamped by PostgreSQL), as time.time() goes


@dataclass(slots=True)
class Subscriber:
    """One graphql-transport-ws connection with one ``events`` subscription, and what it
    received, in order of arrival."""

    process: str
    received: list[Arrival] = field(default_factory=list)
    news: asyncio.Event = field(default_factory=asyncio.Event)  # set on every arrival

    def positions(self) -> list[int]:
        return [arrival.position for arrival in self.received]

    async def run(self, url: str, after: int, subscribed: asyncio.Event) -> None:
        """Subscribe, set ``subscribed``, then note every event until cancelled."""
        try:
            await self._run(url, after, subscribed)
        except (OSError, TimeoutError, WebSocketException) as e:
            raise BenchError(f"a subscriber on process {self.process}: {e!r}") from e

    async def _run(self, url: str, after: int, subscribed: asyncio.Event) -> None:
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=WS_TIMEOUT,
                           max_size=None) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), WS_TIMEOUT))
            if ack.get("type") != "connection_ack":
                raise BenchError(f"process {self.process} answered connection_init with {ack}")
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": SUBSCRIPTION, "variables": {"after": after}}}))
            subscribed.set()
            await self._receive(ws)

    async def _receive(self, ws: ClientConnection) -> None:
        async for raw in ws:
            at, wall = time.perf_counter(), time.time()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind == "next" and not message["payload"].get("errors"):
                event = message["payload"]["data"]["events"]
                recorded_at = dt.datetime.fromisoformat(event["recordedAt"]).timestamp()
                self.received.append(Arrival(int(event["position"]), at, wall, recorded_at))
                self.news.set()
            elif kind != "pong":
                raise BenchError(f"a subscriber on process {self.process} received "
                                 f"{json.dumps(message)[:1000]}")
        raise BenchError(f"process {self.process} closed a subscriber's WebSocket "
                         f"({ws.close_code} {ws.close_reason!r})")


@dataclass(slots=True)
class Subscriptions:
    """The subscribers, and the tasks running them (which should never end)."""

    subscribers: list[Subscriber]
    tasks: list[asyncio.Task[None]]

    async def until(self, awaitable: Any, within: float, doing: str) -> bool:
        """Await ``awaitable`` for up to ``within`` seconds: True if it finished, False if
        the time ran out; the failure of a subscriber instead, as soon as one fails."""
        waiting = asyncio.ensure_future(awaitable)
        try:
            done, _ = await asyncio.wait([waiting, *self.tasks], timeout=within,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not waiting.done():
                waiting.cancel()
        for task in self.tasks:
            if task in done:
                task.result()
                raise BenchError(f"a subscriber stopped while {doing}")
        return waiting in done

    async def arrived(self, last: int, within: float) -> bool:
        """Whether every subscriber received position ``last`` within ``within`` seconds."""
        async def reached(subscriber: Subscriber) -> None:
            while not subscriber.received or subscriber.received[-1].position < last:
                subscriber.news.clear()
                await subscriber.news.wait()

        everyone = asyncio.gather(*(reached(s) for s in self.subscribers))
        return await self.until(everyone, within, f"waiting for position {last}")


@contextlib.asynccontextmanager
async def subscribed(processes: dict[str, str], count: int,
                     after: int) -> AsyncIterator[Subscriptions]:
    """``count`` subscribers on each process (name: base URL) to every event after
    ``after``, yielded once all have subscribed, closed on the way out."""
    subscribers = [Subscriber(name) for name in processes for _ in range(count)]
    ready = [asyncio.Event() for _ in subscribers]
    tasks = [asyncio.create_task(s.run(processes[s.process].replace("http", "ws", 1)
                                       + "/graphql", after, r))
             for s, r in zip(subscribers, ready, strict=True)]
    live = Subscriptions(subscribers, tasks)
    try:
        for event in ready:
            if not await live.until(event.wait(), WS_TIMEOUT, "subscribing"):
                raise BenchError(f"subscribing took more than {WS_TIMEOUT:.0f}s")
        yield live
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- appending through B ----------------------------------------------------------------

def report_lines(count: int) -> Iterator[Line]:
    """``count`` reportFact lines on the story's 200 entries and five attributes."""
    rng = random.Random(SEED)
    for i in range(1, count + 1):
        yield report(rng, SLUG, i, count)[0]


async def append(client: httpx.AsyncClient, lines: list[Line],
                 interval: float) -> list[tuple[int, float]]:
    """Each line in turn, starting one every ``interval`` seconds (or when the previous one
    is answered, if later); (position, arrival of the HTTP answer) for each."""
    acknowledged: list[tuple[int, float]] = []
    started = time.perf_counter()
    for i, line in enumerate(lines):
        response = await client.post("/graphql", json=mutation_request(line))
        answered = time.perf_counter()
        acknowledged.append((appended_position(line, graphql_data(response)), answered))
        pause = started + (i + 1) * interval - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
    return acknowledged


def check_deliveries(subscribers: list[Subscriber], appended: list[int], head: int) -> None:
    """Every subscriber received exactly ``appended``, which must be head+1..head+n."""
    if appended != list(range(head + 1, head + 1 + len(appended))):
        raise BenchError(f"the appends answered positions {appended[:5]}… which are not "
                         f"{head + 1}..{head + len(appended)} in order")
    for n, subscriber in enumerate(subscribers):
        got = subscriber.positions()
        if got == appended:
            continue
        missing = sorted(set(appended) - set(got))
        duplicates = len(got) - len(set(got))
        first = next((i for i, (a, b) in enumerate(zip(got, appended, strict=False))
                      if a != b), min(len(got), len(appended)))
        raise BenchError(
            f"subscriber {n} on process {subscriber.process} received {len(got)} events for "
            f"{len(appended)} appended: {len(missing)} missing (first {missing[:5]}), "
            f"{duplicates} duplicates, first difference at index {first} "
            f"(got {got[first:first + 5]}, expected {appended[first:first + 5]})")


@dataclass(frozen=True, slots=True)
class Latencies:
    seconds: list[float]

    def ms(self, p: int) -> float:
        return percentile_ms(self.seconds, p)

    def triple(self) -> str:
        return f"{self.ms(50):.1f} / {self.ms(95):.1f} / {self.ms(99):.1f}"

    @property
    def negative(self) -> int:
        return sum(latency < 0 for latency in self.seconds)


@dataclass(frozen=True, slots=True)
class Delivery:
    """For every (subscriber, timed event) of one process's subscribers: seconds from B's
    HTTP answer to the arrival (the same clock), and from the event's ``recordedAt`` to the
    arrival (PostgreSQL's clock_timestamp() against this process's time.time(), one host)."""

    after_answer: Latencies
    after_recorded: Latencies


def deliveries(subscribers: list[Subscriber], process: str,
               timed: list[tuple[int, float]]) -> Delivery:
    answered = dict(timed)
    arrivals = [a for s in subscribers if s.process == process
                for a in s.received if a.position in answered]
    return Delivery(Latencies([a.at - answered[a.position] for a in arrivals]),
                    Latencies([a.wall - a.recorded_at for a in arrivals]))


# --- refusals by A ----------------------------------------------------------------------

def check_answer(name: str, response: httpx.Response) -> None:
    """``{ __typename }`` answered, or the hostile query ``name`` refused as too complex."""
    if name not in HOSTILE:
        if graphql_data(response) != {"__typename": "Query"}:
            raise BenchError(f"{TRIVIAL} answered {response.text[:500]}")
        return
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        errors = []
    error = errors[0] if errors else {}
    code = (error.get("extensions") or {}).get("code")
    if code != "QUERY_TOO_COMPLEX" or HOSTILE[name][1] not in error.get("message", ""):
        raise BenchError(f"the {name} query was not refused as QUERY_TOO_COMPLEX "
                         f"({HOSTILE[name][1]}): HTTP {response.status_code} "
                         f"{response.text[:500]}")


async def refusals(base_url: str, requests: int) -> dict[str, list[float]]:
    """Seconds per request, per query (the trivial one first), from one keep-alive client,
    one request at a time, the queries taking turns so that they share the same moments."""
    queries = {TRIVIAL: TRIVIAL, **{name: query for name, (query, _) in HOSTILE.items()}}
    timings: dict[str, list[float]] = {name: [] for name in queries}
    async with graphql_client(base_url, None) as client:
        for round_ in range(REFUSAL_WARMUP + requests):
            for name, query in queries.items():
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": query})
                took = time.perf_counter() - started
                check_answer(name, response)
                if round_ >= REFUSAL_WARMUP:
                    timings[name].append(took)
    return timings


# --- the run ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Figures:
    subscribers: int
    events: int
    interval_ms: float
    cross: Delivery
    same: Delivery
    refusals: dict[str, list[float]]

    def ratio(self, p: int, after: str = "after_recorded") -> float:
        """Cross-process / same-process at percentile ``p``, from the answer or the stamp."""
        cross: Latencies = getattr(self.cross, after)
        same: Latencies = getattr(self.same, after)
        return cross.ms(p) / same.ms(p)

    def refusal(self, name: str) -> str:
        """p50 / p95 ms, and for a hostile query its p50 as a multiple of the trivial one's."""
        timings = self.refusals[name]
        text = f"{percentile_ms(timings, 50):.2f} / {percentile_ms(timings, 95):.2f}"
        if name == TRIVIAL:
            return text
        ratio = percentile_ms(timings, 50) / percentile_ms(self.refusals[TRIVIAL], 50)
        return f"{text} (×{ratio:.1f})"


async def measure(args: argparse.Namespace, logs: dict[str, Path], directory: Path) -> Figures:
    set_up = [create_timeline(SLUG, "Live", "bench/live.py"), *register_sources(),
              *open_entries(SLUG)]
    story = directory / "set-up.ndjson"
    story.write_text(ndjson(set_up))
    lines = list(report_lines(WARMUP + args.events))
    async with (throwaway_database(args.dsn) as dsn,
                contextlib.AsyncExitStack() as stack):
        head = await chronicle_import(dsn, story)
        token = await create_token(dsn)
        processes = {name: await stack.enter_async_context(chronicle_server(dsn, log))
                     for name, log in logs.items()}
        async with (graphql_client(processes["B"], token) as writer,
                    subscribed(processes, args.subscribers, head) as live):
            warm = await append(writer, lines[:WARMUP], args.interval_ms / 1000)
            if not await live.arrived(warm[-1][0], DELIVERY_TIMEOUT):
                raise BenchError(f"the {WARMUP} warm-up events did not all arrive within "
                                 f"{DELIVERY_TIMEOUT:.0f}s")
            timed = await append(writer, lines[WARMUP:], args.interval_ms / 1000)
            # On a timeout, check_deliveries says what is missing.
            await live.arrived(timed[-1][0], DELIVERY_TIMEOUT)
            await live.until(asyncio.sleep(0.2), 1, "waiting for duplicates")
        subscribers = live.subscribers
        check_deliveries(subscribers, [p for p, _ in warm + timed], head)
        timings = await refusals(processes["A"], args.requests)
    return Figures(args.subscribers, args.events, args.interval_ms,
                   deliveries(subscribers, "A", timed), deliveries(subscribers, "B", timed),
                   timings)


# --- reporting --------------------------------------------------------------------------

def summary(figures: Figures) -> str:
    n = figures.subscribers * figures.events
    cross, same = figures.cross, figures.same
    rows = [
        ("cores (os.cpu_count)", f"{os.cpu_count()}"),
        ("subscribers per process / events (timed)", f"{figures.subscribers} / "
                                                     f"{figures.events}"),
        ("appends through B, one every", f"{figures.interval_ms:g} ms"),
        ("every subscriber got every position", "yes, in order, once"),
        ("after B's HTTP answer, p50/p95/p99 ms:", ""),
        ("  subscribers on A (cross-process)", cross.after_answer.triple()),
        ("  subscribers on B (same process)", same.after_answer.triple()),
        ("  ratio A / B: p50, p95", f"{figures.ratio(50, 'after_answer'):.2f}, "
                                    f"{figures.ratio(95, 'after_answer'):.2f}"),
        ("  arrived before the answer: A, B",
         f"{cross.after_answer.negative}/{n}, {same.after_answer.negative}/{n}"),
        ("after the event's recordedAt, p50/p95/p99 ms:", ""),
        ("  subscribers on A (cross-process)", cross.after_recorded.triple()),
        ("  subscribers on B (same process)", same.after_recorded.triple()),
        ("  ratio A / B: p50, p95", f"{figures.ratio(50):.2f}, {figures.ratio(95):.2f}"),
        ("refusals by A, p50/p95 ms (client wall, loopback):", ""),
        (f"  {TRIVIAL} (baseline, answered)", figures.refusal(TRIVIAL)),
        *((f"  {name} (× {TRIVIAL} p50)", figures.refusal(name)) for name in HOSTILE),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>22}" if value else label
                     for label, value in rows)


def record(figures: Figures) -> None:
    cross, same = figures.cross, figures.same
    record_run(RESULTS_HEADER, figures.subscribers, figures.events,
               len(figures.refusals[TRIVIAL]),
               cross.after_answer.triple(), same.after_answer.triple(),
               cross.after_recorded.triple(), same.after_recorded.triple(),
               f"{figures.ratio(50):.2f} / {figures.ratio(95):.2f}",
               figures.refusal(TRIVIAL), *(figures.refusal(name) for name in HOSTILE))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--subscribers", type=int, default=4,
                        help="WebSocket subscribers on each of the two processes")
    parser.add_argument("--events", type=int, default=300, help="timed appends through B")
    parser.add_argument("--interval-ms", type=float, default=10.0,
                        help="one append started every so many ms (or when the last is "
                             "answered, if later)")
    parser.add_argument("--requests", type=int, default=50,
                        help="timed requests of each query in the refusal part")
    args = parser.parse_args()
    if args.subscribers < 1 or args.events < 2 or args.requests < 2:
        parser.error("--subscribers must be at least 1, --events and --requests at least 2")
    return args


def main() -> int:
    args = parse_args()
    try:
        with server_log("A-") as a, server_log("B-") as b, \
                tempfile.TemporaryDirectory(prefix="chronicle-live-") as directory:
            figures = asyncio.run(measure(args, {"A": a, "B": b}, Path(directory)))
            report_server_log(a)
            report_server_log(b)
    except BenchError as e:
        return failed(e)
    print(summary(figures))
    record(figures)
    print(f"appended to {RESULTS.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
