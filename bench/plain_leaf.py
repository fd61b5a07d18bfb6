"""The gain of ``api.graphql.execution`` (the short path for plain leaf fields): in-process
CPU time per full-timeline read, the app's schema with and without it.

Creates a throwaway database and imports W1's timeline into it with ``chronicle import``
(the story of ``reads.py``: 200 entries × 5 facts, one seed report per fact plus
``--reports`` reports with a few revisions). Then, in this process, starts the app's
services on it and builds the app's schema twice with ``api.graphql.schema.build_schema``:
as the app does (``PlainLeafExecutionContext``, ``mark_plain_leaves``), and with strawberry's
stock execution context and no marks. Both execute W1's query (``reads.QUERY``) straight
through ``schema.execute`` (no HTTP, no response cache), first checked to answer the same,
then ``--warmup`` untimed and ``--reads`` timed reads each, alternating between the two so
that drift hits both alike. Prints the median CPU time (``time.process_time``: this process
only, PostgreSQL's own work is not in it) and wall time per read of each, and the ratio.

Not part of the suite (``run.py``): nothing is appended to ``bench/results.md``.

usage: python bench/plain_leaf.py [--dsn DSN] [--reports 2000] [--reads 40] [--warmup 5]
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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import strawberry
from _harness import (
    ATTRIBUTES,
    DEFAULT_DSN,
    ENTRIES,
    BenchError,
    chronicle_import,
    failed,
    ndjson,
    throwaway_database,
)
from reads import QUERY, SEED, story
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import api.graphql.schema as schema_module
from api.app import create_app
from api.graphql.context import Context
from api.graphql.execution import PLAIN_LEAF, PlainLeafExecutionContext
from api.services.wiring import Services
from api.settings import Settings


def forked_schema() -> strawberry.Schema:
    """The app's schema, as the app builds it."""
    schema = schema_module.build_schema()
    if schema.execution_context_class is not PlainLeafExecutionContext:
        raise BenchError("build_schema no longer uses PlainLeafExecutionContext: "
                         "there is nothing to compare")
    return schema


def stock_schema() -> strawberry.Schema:
    """The app's schema with strawberry's own execution context and no plain-leaf marks
    (``build_schema`` with both names it uses replaced)."""
    with mock.patch.object(schema_module, "PlainLeafExecutionContext",
                           StrawberryGraphQLCoreExecutionContext), \
            mock.patch.object(schema_module, "mark_plain_leaves", lambda *_: None):
        schema = schema_module.build_schema()
    if any(PLAIN_LEAF in field.extensions for named in schema._schema.type_map.values()
           for field in getattr(named, "fields", {}).values()):
        raise BenchError("the stock schema has plain-leaf marks")
    return schema


@dataclass(frozen=True, slots=True)
class Side:
    schema: strawberry.Schema
    cpu: list[float]  # seconds per read
    wall: list[float]

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    @property
    def wall_ms(self) -> float:
        return statistics.median(self.wall) * 1000


async def read(schema: strawberry.Schema, services: Services) -> dict[str, Any]:
    """One full-timeline read; its data, BenchError on errors or a short answer."""
    result = await schema.execute(QUERY, context_value=Context(services, None))
    if result.errors or not result.data:
        raise BenchError(f"the read failed: {result.errors}")
    facts = [len(node["facts"]) for node in result.data["timeline"]["entries"]["nodes"]]
    if len(facts) != ENTRIES or set(facts) != {len(ATTRIBUTES)}:
        raise BenchError(f"{len(facts)} entries holding {sum(facts)} facts, "
                         f"not {ENTRIES} × {len(ATTRIBUTES)}")
    return result.data


async def timed(side: Side, services: Services) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    await read(side.schema, services)
    side.cpu.append(time.process_time() - cpu)
    side.wall.append(time.perf_counter() - wall)


@contextlib.asynccontextmanager
async def app_services(dsn: str) -> AsyncIterator[Services]:
    """The app's services on ``dsn``, started and closed as ``chronicle serve`` does."""
    app = create_app(Settings(database_url=dsn, migrate_on_start=False))
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        yield services


async def measure(args: argparse.Namespace) -> tuple[Side, Side, int]:
    with tempfile.TemporaryDirectory(prefix="chronicle-plain-leaf-") as directory:
        path = Path(directory) / "story.ndjson"
        path.write_text(ndjson(story(args.reports, random.Random(SEED))))
        async with throwaway_database(args.dsn) as dsn:
            events = await chronicle_import(dsn, path)
            print(f"imported {events:,} events", flush=True)
            stock = Side(stock_schema(), [], [])
            forked = Side(forked_schema(), [], [])
            async with app_services(dsn) as services:
                if await read(stock.schema, services) != await read(forked.schema, services):
                    raise BenchError("the two schemas answer differently")
                for _ in range(args.warmup):
                    await read(stock.schema, services)
                    await read(forked.schema, services)
                for i in range(args.reads):
                    for side in (stock, forked) if i % 2 == 0 else (forked, stock):
                        await timed(side, services)
    return stock, forked, events


def summary(stock: Side, forked: Side, args: argparse.Namespace) -> str:
    ratio = stock.cpu_ms / forked.cpu_ms
    rows = [
        ("reads timed per side (after warm-up)", f"{args.reads} (+ {args.warmup})"),
        ("CPU ms per read, stock execution (median)", f"{stock.cpu_ms:.1f}"),
        ("CPU ms per read, short path (median)", f"{forked.cpu_ms:.1f}"),
        ("wall ms per read: stock / short path (median)",
         f"{stock.wall_ms:.1f} / {forked.wall_ms:.1f}"),
        ("ratio stock / short path CPU", f"{ratio:.2f}"),
        ("CPU saved per read by the short path", f"{(1 - 1 / ratio) * 100:.0f} %"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value:>16}" for label, value in rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN,
                        help="a server where we may create and drop a database")
    parser.add_argument("--reports", type=int, default=2_000,
                        help="reportFact lines after the 1,000 seed reports")
    parser.add_argument("--reads", type=int, default=40, help="timed reads per side")
    parser.add_argument("--warmup", type=int, default=5, help="untimed reads per side first")
    args = parser.parse_args()
    if args.reports < 1 or args.reads < 1 or args.warmup < 0:
        parser.error("--reports and --reads must be at least 1, --warmup at least 0")
    return args


def main() -> int:
    args = parse_args()
    try:
        stock, forked, events = asyncio.run(measure(args))
    except BenchError as e:
        return failed(e)
    print(f"{events:,} events, {ENTRIES} entries × {len(ATTRIBUTES)} facts")
    print(summary(stock, forked, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
