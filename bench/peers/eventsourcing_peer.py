"""W2's second peer: the Python ``eventsourcing`` library storing reports in PostgreSQL.

What a team would get by reaching for the best-known event-sourcing library instead of
Chronicle, on the same server and database: one aggregate per reported fact, its one event
(``Reported``) carrying the shape of a Chronicle report. Four figures, each printed as
``name: events/s`` for bench/appends.py to read:

- ``single_txn_1conn_events_per_s``: N aggregates saved one by one, one transaction each,
  from one connection (what a server does per request; the figure W2 first compared with);
- ``single_txn_<T>conn_events_per_s``: N more, one transaction each, from ``--threads`` T
  threads at once sharing one application (its pool holds T connections): the library
  under the concurrency W2 gives Chronicle (16 clients);
- ``batched_events_per_s``: ten times as many saved 1,000 per ``save`` call (informational);
- ``replay_events_per_s``: every stored event read back in order through the library's
  notification log and turned back into a domain event (informational).

The library keeps its tables in the schema ``peer_es`` of the database, which this script
drops and recreates first. Needs ``pip install -e '.[bench]'`` (eventsourcing[postgres] and
psycopg).

usage: python bench/peers/eventsourcing_peer.py [N] [--threads 16] [--dsn DSN]
       (DSN defaults to $PEER_DSN, then to the local server's postgres database)
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SCHEMA = "peer_es"
BATCH = 1000
READ_CHUNK = 5000
QUOTE = ("The Russian Foreign Ministry has confirmed the death of five Russian nationals in "
         "the US-led coalition's strike in Syria")


class ReportedFact(Aggregate):
    """One source's report on one attribute of one entry, as its own aggregate."""

    @event("Reported")
    def __init__(self, entry: str, attribute: str, value: dict[str, Any], source: str,
                 stance: str, quote: str) -> None:
        self.entry = entry
        self.attribute = attribute
        self.value = value
        self.source = source
        self.stance = stance
        self.quote = quote


class Reports(Application):
    """The application that saves and reads the aggregates."""


def report(n: int) -> ReportedFact:
    return ReportedFact(entry=f"e{n % 200}", attribute="killed",
                        value={"count": {"best": 5, "low": 5, "high": 200}},
                        source="russian-foreign-ministry", stance="CONFIRMED", quote=QUOTE)


def library_env(dsn: str, pool_size: int) -> dict[str, str]:
    """The library's settings for ``dsn`` (it takes them as environment variables), with a
    pool of ``pool_size`` connections."""
    parts = urlsplit(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": SCHEMA,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
        "CREATE_TABLE": "y",
    }


def fresh_schema(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        connection.execute(f"CREATE SCHEMA {SCHEMA}")


def rate(count: int, work: Callable[[], int | None]) -> float:
    """Events per second of ``work``, which handles ``count`` events (or says how many)."""
    started = time.perf_counter()
    handled = work()
    return (handled if handled is not None else count) / (time.perf_counter() - started)


def save_one_by_one(app: Reports, count: int) -> None:
    for n in range(count):
        app.save(report(n))


def save_concurrently(app: Reports, first: int, count: int, threads: int) -> None:
    """``count`` aggregates numbered from ``first``, one ``save`` (one transaction) each,
    from ``threads`` threads at once, each taking every threads-th one."""
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for n in range(first + k, first + count, threads):
                app.save(report(n))
        except BaseException as e:  # re-raised below, in the main thread
            failures.append(e)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]


def save_in_batches(app: Reports, count: int) -> None:
    for first in range(0, count, BATCH):
        app.save(*(report(n) for n in range(first, min(first + BATCH, count))))


def read_back(app: Reports) -> int:
    """Every stored event, in order, decoded; returns how many."""
    read, start = 0, 1
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=READ_CHUNK)
        if not notifications:
            return read
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        read += len(notifications)
        start = notifications[-1].id + 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=int, nargs="?", default=3000,
                        help="aggregates saved one transaction each (ten times as many in "
                        "batches)")
    parser.add_argument("--threads", type=int, default=16,
                        help="threads (and pooled connections) saving at once in the "
                        "concurrent run")
    parser.add_argument("--dsn", default=os.environ.get("PEER_DSN") or DEFAULT_DSN,
                        help="the database (default: $PEER_DSN)")
    args = parser.parse_args()
    if args.events < 1 or args.threads < 1:
        parser.error("events and --threads must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    fresh_schema(args.dsn)
    app = Reports(env=library_env(args.dsn, args.threads))
    try:
        single = rate(args.events, lambda: save_one_by_one(app, args.events))
        print(f"single_txn_1conn_events_per_s: {single:,.0f}", flush=True)
        concurrent = rate(args.events, lambda: save_concurrently(app, args.events, args.events,
                                                                 args.threads))
        print(f"single_txn_{args.threads}conn_events_per_s: {concurrent:,.0f}", flush=True)
        batched = rate(10 * args.events, lambda: save_in_batches(app, 10 * args.events))
        print(f"batched_events_per_s: {batched:,.0f}", flush=True)
        replayed = rate(0, lambda: read_back(app))
        print(f"replay_events_per_s: {replayed:,.0f}", flush=True)
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
