"""The log's Merkle tree in PostgreSQL: every append adds exactly the nodes its events
complete, whichever process appended before it, whatever batch sizes, after a rolled back
append, after a restore, and for a log appended before the tree existed (caught up)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.database import create_engine
from api.services.archive import export_log, restore_log
from api.settings import Settings
from events.appender import Appender, StoreFailure
from events.commands import CreateTimeline, OpenEntry
from events.merkle import Frontier, Node
from events.postgres.merkle_tree import MerkleTree
from events.postgres.projection import PostgresProjection
from events.postgres.rebuild import replay_read_model
from events.postgres.store import PostgresEventStore
from tests.databases import Databases
from tests.rfc6962 import mth


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url))
    yield engine
    await engine.dispose()


def appender(engine: AsyncEngine) -> Appender:
    """A process of its own: a store (and tree tip) of its own."""
    return Appender(PostgresEventStore(engine, PostgresProjection()))


async def appended(engine: AsyncEngine, slug: str, entries: int) -> None:
    """A timeline with ``entries`` entries, appended by a process of its own."""
    writer = appender(engine)
    try:
        await timeline_and_entries(writer, slug, entries)
    finally:
        await writer.close()


async def stored_nodes(engine: AsyncEngine) -> dict[Node, bytes]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT level, idx, hash FROM merkle_nodes"))
        return {(row.level, row.idx): bytes(row.hash) for row in rows}


async def event_hashes(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT hash FROM events ORDER BY position"))
        return [row.hash.strip() for row in rows]


async def assert_tree_matches_the_log(engine: AsyncEngine) -> None:
    hashes = await event_hashes(engine)
    _, expected = Frontier.empty().append(hashes)
    assert await stored_nodes(engine) == dict(expected)
    tree = MerkleTree(engine)
    assert await tree.size() == len(hashes)
    leaves = [bytes.fromhex(h) for h in hashes]
    for size in {1, len(hashes) // 3, len(hashes) - 1, len(hashes)} - {0}:
        assert await tree.root(size) == mth(leaves[:size]), size


async def forget_the_tree(engine: AsyncEngine) -> None:
    """The log as it was before migration 0010: no tree (a superuser may)."""
    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE merkle_nodes DISABLE TRIGGER USER"))
        await connection.execute(text("DELETE FROM merkle_nodes"))
        await connection.execute(text("ALTER TABLE merkle_nodes ENABLE TRIGGER USER"))


async def timeline_and_entries(appender: Appender, slug: str, count: int) -> None:
    await appender.submit(CreateTimeline(slug, slug.title()), actor="desk")
    await asyncio.gather(*(appender.submit(OpenEntry(slug, id=f"e{i}", title=f"Entry {i}"),
                                           actor="desk") for i in range(count)))


async def test_appends_from_two_processes_in_batches_keep_the_tree_of_the_log(
        engine: AsyncEngine) -> None:
    first, second = appender(engine), appender(engine)
    try:
        await timeline_and_entries(first, "one", 40)  # concurrent: group-commit batches
        await timeline_and_entries(second, "two", 7)
        await timeline_and_entries(first, "three", 300)  # past COPY_FROM in some batches?
        await timeline_and_entries(second, "four", 1)
    finally:
        await first.close()
        await second.close()
    await assert_tree_matches_the_log(engine)


async def test_an_append_that_rolls_back_leaves_no_trace_in_the_tree(
        engine: AsyncEngine) -> None:
    store = PostgresEventStore(engine, PostgresProjection())
    writer = Appender(store)
    try:
        await timeline_and_entries(writer, "one", 5)

        class Boom(RuntimeError):
            pass

        async def failing(*_: object, **__: object) -> None:
            raise Boom

        projection = store.projection
        assert projection is not None
        original = projection.apply
        projection.apply = failing  # type: ignore[method-assign]
        with pytest.raises(StoreFailure):
            await writer.submit(OpenEntry("one", id="lost", title="Lost"), actor="desk")
        projection.apply = original  # type: ignore[method-assign]
        await timeline_and_entries(writer, "two", 3)
    finally:
        await writer.close()
    await assert_tree_matches_the_log(engine)


async def test_a_log_appended_before_the_tree_existed_is_caught_up_by_the_next_append(
        engine: AsyncEngine) -> None:
    await appended(engine, "one", 20)
    await forget_the_tree(engine)
    await appended(engine, "two", 2)
    await assert_tree_matches_the_log(engine)


async def test_the_tree_refuses_update_delete_and_truncate(engine: AsyncEngine) -> None:
    await appended(engine, "one", 1)
    for statement in ("UPDATE merkle_nodes SET hash = ''", "DELETE FROM merkle_nodes",
                      "TRUNCATE merkle_nodes", "DELETE FROM log_checkpoints"):
        async with engine.connect() as connection:
            with pytest.raises(Exception, match="append-only"):
                await connection.execute(text(statement))


async def test_a_restored_log_has_the_same_tree(engine: AsyncEngine, databases: Databases,
                                                tmp_path: Path) -> None:
    await appended(engine, "one", 250)
    archive = tmp_path / "log.ndjson"
    await export_log(PostgresEventStore(engine), archive)
    other = create_engine(Settings(database_url=await databases.fresh()))
    try:
        await restore_log(PostgresEventStore(other, PostgresProjection()), archive)
        assert await stored_nodes(other) == await stored_nodes(engine)
        await assert_tree_matches_the_log(other)
    finally:
        await other.dispose()


async def test_a_replay_of_the_read_model_catches_the_tree_up(engine: AsyncEngine) -> None:
    await appended(engine, "one", 30)
    await forget_the_tree(engine)
    await replay_read_model(PostgresEventStore(engine, PostgresProjection()))
    await assert_tree_matches_the_log(engine)
