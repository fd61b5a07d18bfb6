"""What a group-committed batch costs PostgreSQL, and that the shortcuts keep their word:
one statement writes a batch's events and keys (one NOTIFY), the log feed reads a batch
back once and never for what it has read, the driver's own errors count as unavailable,
and a remembered token stops working within the token book's ttl once deleted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.database import create_engine, listen_dsn
from api.services.auth import Scope, TokenBook
from api.settings import Settings
from events.appender import Appender
from events.chain import ChainVerifier, Envelope
from events.commands import CreateTimeline, OpenEntry
from events.errors import Unauthenticated
from events.postgres.log_feed import CHANNEL, LogFeed
from events.postgres.projection import PostgresProjection
from events.postgres.store import PostgresAppendSession, PostgresEventStore, is_unavailable


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url))
    yield engine
    await engine.dispose()


async def test_a_batch_is_one_statement_one_notification_and_keeps_its_keys(
        engine: AsyncEngine) -> None:
    store = PostgresEventStore(engine, PostgresProjection())
    appender = Appender(store)
    await appender.submit(CreateTimeline("t", "T"), actor="desk")
    notified: list[str] = []
    listener = await asyncpg.connect(listen_dsn(engine))
    try:
        await listener.add_listener(CHANNEL, lambda *args: notified.append(args[3]))
        # Queued before the writer runs: one batch.
        results = await asyncio.gather(*(
            appender.submit(OpenEntry("t", f"entry {n}", f"e{n}"), actor="desk",
                            idempotency_key=f"k{n}") for n in range(5)))
        await asyncio.sleep(0.2)
    finally:
        await listener.close()
        await appender.close()
    assert appender.batch_sizes[-1] == 5
    assert notified == [str(max(r.envelope.position for r in results))]
    log = await store.read()
    assert [e.position for e in log] == [1, 2, 3, 4, 5, 6]
    verifier = ChainVerifier()
    assert all(verifier.feed(envelope) for envelope in log) and verifier.result().ok
    async with engine.connect() as connection:
        keys = dict((await connection.execute(text(
            "SELECT key, position FROM idempotency_keys"))).all())
    assert keys == {f"k{n}": results[n].envelope.position for n in range(5)}
    # A retry is answered from the key, stored once.
    appender = Appender(store)
    again = await appender.submit(OpenEntry("t", "entry 0", "e0"), actor="desk",
                                  idempotency_key="k0")
    await appender.close()
    assert again.replayed and again.envelope == results[0].envelope


async def test_the_feed_reads_a_batch_once_and_never_what_it_has_read(
        engine: AsyncEngine) -> None:
    store = PostgresEventStore(engine, PostgresProjection())
    feed = LogFeed(store, listen_dsn(engine))
    appender = Appender(store)
    await feed.start()
    try:
        await feed.listening()
        first = await appender.submit(CreateTimeline("t", "T"), actor="desk")
        await asyncio.wait_for(feed.reached(first.envelope.position), 5)
        reads = feed.reads
        async with engine.connect() as connection:  # announces a position already read
            await connection.execute(text("SELECT pg_notify(:channel, :position)"),
                                     {"channel": CHANNEL,
                                      "position": str(first.envelope.position)})
            await connection.commit()
        batch = await asyncio.gather(*(
            appender.submit(OpenEntry("t", f"entry {n}", f"e{n}"), actor="desk")
            for n in range(3)))
        last = max(r.envelope.position for r in batch)
        await asyncio.wait_for(feed.reached(last), 5)
        assert feed.reads == reads + 1
        seen = [e async for e in _first(feed, 0, last)]
        assert [e.position for e in seen] == list(range(1, last + 1))
    finally:
        await appender.close()
        await feed.close()


async def _first(feed: LogFeed, after: int, until: int) -> AsyncIterator[Envelope]:
    async for batch in feed.after(after):
        for envelope in batch:
            yield envelope
            if envelope.position >= until:
                return


async def test_the_session_refuses_to_write_outside_its_transaction(
        engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        session = PostgresAppendSession(connection)
        with pytest.raises(RuntimeError, match="transaction is not open"):
            await session.idempotency(["k"])


def test_the_drivers_own_errors_count_as_unavailable() -> None:
    assert is_unavailable(asyncpg.exceptions.ConnectionDoesNotExistError("gone"))
    assert is_unavailable(asyncpg.exceptions.LockNotAvailableError("busy"))
    assert is_unavailable(asyncpg.exceptions.AdminShutdownError("shutting down"))
    assert is_unavailable(asyncpg.InterfaceError("connection is closed"))
    assert not is_unavailable(asyncpg.exceptions.UniqueViolationError("taken"))


async def test_a_deleted_token_is_refused_once_its_ttl_has_passed(
        engine: AsyncEngine) -> None:
    book = TokenBook(engine, ttl=0.3)
    token = await book.create("desk", Scope.WRITE)
    assert book.remembered(token) is None  # never seen valid yet: looked up
    assert (await book.principal(token)).name == "desk"
    assert book.remembered(token) == await book.principal(token)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM tokens"))
    await asyncio.sleep(0.35)
    assert book.remembered(token) is None
    with pytest.raises(Unauthenticated):
        await book.principal(token)
    with pytest.raises(Unauthenticated):
        await book.principal("chr_never-valid")
    assert book.remembered("chr_never-valid") is None
