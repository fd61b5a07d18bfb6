"""In-process CPU per full-timeline read, as a request to the app: what a read costs when
the response cache cannot answer it.

Creates a throwaway database and imports W1's timeline (``reads.py``: 200 entries × 5
facts, one seed report per fact plus ``--reports`` reports). Then, in this process, runs the
app (``api.app.create_app``, its lifespan started as ``chronicle serve`` does) and sends it
W1's read (``reads.QUERY``) over ASGI, one request at a time, in three ways:

- **nothing kept**: a new variable in each request (the response cache misses) and the
  entry renderings emptied before it, so every entry is rendered: the whole read;
- **entries kept**: a new variable in each request, the renderings left as they are: what a
  reader pays when the timeline changed elsewhere or the query is new;
- **one write between reads**: a ``reportFact`` on a random entry before each read (not
  timed): the read a live timeline costs, one entry rendered afresh.

Each is ``--reads`` timed requests after ``--warmup`` untimed ones; the answers are checked
to hold 200 entries × 5 facts. Prints the median CPU time (``time.process_time``, this
process only: the app, the ASGI client, the driver; PostgreSQL's own work is not in it) and
wall time per read. The goal (issue 16) is ≤ 10 ms of CPU per uncached read.

Not part of the suite (``run.py``): nothing is appended to ``bench/results.md``.

usage: python bench/read_cpu.py [--dsn DSN] [--reports 2000] [--reads 40] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from _harness import (
    ATTRIBUTES,
    DEFAULT_DSN,
    ENTRIES,
    BenchError,
    chronicle_import,
    create_token,
    failed,
    mutation_request,
    ndjson,
    report,
    throwaway_database,
)
from reads import QUERY, SEED, SLUG, story

from api.app import create_app
from api.graphql.fragments import EntryRenderings
from api.graphql.view import ChronicleGraphQL
from api.settings import Settings


@dataclass(slots=True)
class Way:
    name: str
    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    @property
    def wall_ms(self) -> float:
        return statistics.median(self.wall) * 1000


def graphql_view(app: Any) -> ChronicleGraphQL:
    for route in app.routes:
        candidate = getattr(route, "app", None) or getattr(route, "endpoint", None)
        if isinstance(candidate, ChronicleGraphQL):
            return candidate
    raise BenchError("the app has no GraphQL route")


@contextlib.asynccontextmanager
async def app_client(dsn: str) -> AsyncIterator[tuple[httpx.AsyncClient, ChronicleGraphQL]]:
    app = create_app(Settings(database_url=dsn, migrate_on_start=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client, graphql_view(app)


class Reader:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token
        self.nonce = 0
        self.rng = random.Random(SEED)
        self.written = 0

    async def read(self) -> None:
        self.nonce += 1
        response = await self.client.post("/graphql", json={
            # A variable the query does not declare (GraphQL ignores it): each value is a new
            # response-cache key, and no entry's rendering depends on it.
            "query": QUERY, "variables": {"nonce": self.nonce}})
        body = orjson.loads(response.content)
        if response.status_code != 200 or body.get("errors"):
            raise BenchError(f"the read answered {response.status_code}: {response.text[:500]}")
        facts = [len(node["facts"]) for node in body["data"]["timeline"]["entries"]["nodes"]]
        if len(facts) != ENTRIES or set(facts) != {len(ATTRIBUTES)}:
            raise BenchError(f"{len(facts)} entries holding {sum(facts)} facts")

    async def write(self) -> None:
        self.written += 1
        line, _ = report(self.rng, SLUG, 10**6 + self.written, 10**6)
        response = await self.client.post("/graphql", json=mutation_request(line),
                                          headers={"authorization": f"Bearer {self.token}"})
        if response.status_code != 200 or response.json().get("errors"):
            raise BenchError(f"the write answered {response.text[:500]}")


async def timed(way: Way, read: Callable[[], Awaitable[None]]) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    await read()
    way.cpu.append(time.process_time() - cpu)
    way.wall.append(time.perf_counter() - wall)


async def measure(args: argparse.Namespace) -> tuple[list[Way], int]:
    nothing, kept, live = Way("nothing kept"), Way("entries kept"), Way("one write between reads")
    with tempfile.TemporaryDirectory(prefix="chronicle-read-cpu-") as directory:
        path = Path(directory) / "story.ndjson"
        path.write_text(ndjson(story(args.reports, random.Random(SEED))))
        async with throwaway_database(args.dsn) as dsn:
            events = await chronicle_import(dsn, path)
            print(f"imported {events:,} events", flush=True)
            token = await create_token(dsn)
            async with app_client(dsn) as (client, view):
                reader = Reader(client, token)

                async def afresh() -> None:
                    view.renderings = EntryRenderings()
                    await reader.read()

                for i in range(args.warmup + args.reads):
                    if i < args.warmup:
                        await afresh()
                        await reader.read()
                        await reader.write()
                        await reader.read()
                        continue
                    await timed(nothing, afresh)
                    await reader.read()  # every entry kept again
                    await timed(kept, reader.read)
                    await reader.write()
                    await timed(live, reader.read)
    return [nothing, kept, live], events


def summary(ways: list[Way], args: argparse.Namespace) -> str:
    rows = [("reads timed per way (after warm-up)", f"{args.reads} (+ {args.warmup})")]
    for way in ways:
        rows.append((f"CPU / wall ms per read, {way.name} (median)",
                     f"{way.cpu_ms:.1f} / {way.wall_ms:.1f}"))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>16}" for label, value in rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=2_000,
                        help="reportFact lines after the 1,000 seed reports")
    parser.add_argument("--reads", type=int, default=40, help="timed reads per way")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    args = parser.parse_args()
    if args.reports < 1 or args.reads < 1 or args.warmup < 0:
        parser.error("--reports and --reads must be at least 1, --warmup at least 0")
    return args


def main() -> int:
    args = parse_args()
    try:
        ways, events = asyncio.run(measure(args))
    except BenchError as e:
        return failed(e)
    print(f"{events:,} events, {ENTRIES} entries × {len(ATTRIBUTES)} facts")
    print(summary(ways, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
