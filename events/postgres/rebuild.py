"""Rebuild the read model from position 0 by folding the whole log through the reducer and
the projection: in place for a restore (nothing is serving yet), or beside the live read
model and swapped in (``chronicle replay``, or a policy version change at startup)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import text

from events.chain import Envelope
from events.errors import Conflict
from events.ports import Applied, IdempotencyRecord
from events.postgres.facts import FactWriter
from events.postgres.merkle_tree import catch_up
from events.postgres.projection import PROJECTION_NAME, PostgresProjection
from events.postgres.store import APPEND_LOCK_KEY, PostgresAppendSession, PostgresEventStore
from events.reducer import SourceState, Stamp, StreamState, TimelineState, new_state
from events.vocabulary import decode, source_stream, timeline_stream

READ_MODEL_TABLES = ("facts", "track_facts", "reports", "entries", "sources", "timelines",
                     "checkpoints")


class _FoldedStreams:
    """The projection's view of the write model, held in memory during a rebuild."""

    def __init__(self) -> None:
        self.states: dict[str, StreamState] = {}

    def state(self, stream: str) -> StreamState:
        if stream not in self.states:
            self.states[stream] = new_state(stream)
        return self.states[stream]

    def fold(self, chunk: Sequence[Envelope]) -> list[Applied]:
        """Apply a chunk of the log, decoding each event once."""
        batch = []
        for envelope in chunk:
            event = decode(envelope)
            self.state(envelope.stream).apply(event, Stamp(envelope.position,
                                                           envelope.recorded_at))
            batch.append(Applied(envelope, event))
        return batch

    def every_fact(self) -> list[tuple[str, str, str]]:
        """Every fact of every timeline folded so far, in a stable order."""
        return sorted((state.slug, entry.id, attribute) for state in self.states.values()
                      if isinstance(state, TimelineState)
                      for entry in state.live_entries()
                      for attribute in state.attributes(entry.id))

    async def timeline(self, slug: str) -> TimelineState:
        state = self.state(timeline_stream(slug))
        assert isinstance(state, TimelineState)
        return state

    async def source(self, source_id: str) -> SourceState:
        state = self.state(source_stream(source_id))
        assert isinstance(state, SourceState)
        return state


async def restore_with_read_model(store: PostgresEventStore, envelopes: Sequence[Envelope],
                                  keys: Sequence[IdempotencyRecord],
                                  on_progress: Callable[[int], None] | None = None) -> int:
    """Put an exported log back, verbatim, into an empty store and build its read model, in
    one transaction: a restore that fails leaves the database as it found it."""
    projection = PostgresProjection()
    folded = _FoldedStreams()
    async with store.session() as session:
        connection = session.connection
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": APPEND_LOCK_KEY})
        if (await connection.execute(text("SELECT 1 FROM events LIMIT 1"))).first():
            raise Conflict("restore needs an empty database: this one already holds events")
        for table in READ_MODEL_TABLES:
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (constants)
        for start in range(0, len(envelopes), CHUNK):
            chunk = envelopes[start:start + CHUNK]
            await session.write(chunk, [])
            await projection.apply(connection, folded.fold(chunk), folded, facts=False)
            if on_progress is not None:
                on_progress(start + len(chunk))
        await session.write([], keys)
        await FactWriter(connection, folded).write_facts(folded.every_fact())
    return len(envelopes)


REBUILD_SCHEMA = "chronicle_rebuild"
REPLAY_LOCK_KEY = 0x6368726F7265706C  # "chronrepl": one replay at a time, across processes
CATCH_UP_GAP = 1000  # events left for the locked final step
CHUNK = 5000


async def replay_read_model(store: PostgresEventStore,
                            on_progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the read model from position 0 beside the live one while it keeps serving,
    then swap it in atomically. Writers wait only for the last few events and the swap.

    The new tables live in a schema of their own; the projection writes them through the
    search path. The swap replaces the live rows in one transaction under the append lock,
    so readers see the old read model until the commit and the new one after it.
    """
    folded = _FoldedStreams()
    projection = PostgresProjection()
    async with store.engine.connect() as guard:
        if not (await guard.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                    {"key": REPLAY_LOCK_KEY})).scalar_one():
            raise Conflict("another replay of the read model is running")
        try:
            await _fresh_tables(store)
            position = 0
            while await store.head_position() - position > CATCH_UP_GAP:
                position = await _project(store, projection, folded, position, on_progress)
            async with store.session() as session:
                # Each fact once, as of the catch-up, rather than at every chunk touching it.
                await session.connection.execute(
                    text(f"SET LOCAL search_path = {REBUILD_SCHEMA}, public"))
                await FactWriter(session.connection, folded).write_facts(folded.every_fact())
            async with store.session() as session:
                connection = session.connection
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": APPEND_LOCK_KEY})
                position = await _project_in(session, store, projection, folded, position,
                                             on_progress)
                for table in READ_MODEL_TABLES:
                    for statement in _swap(table):
                        await connection.execute(text(statement))
                await connection.execute(text(f"DROP SCHEMA {REBUILD_SCHEMA} CASCADE"))
                # The log's tree is not the read model's (it only grows): add what it lacks.
                await catch_up(await session.driver(), position)
        finally:
            await guard.execute(text("SELECT pg_advisory_unlock(:key)"),
                                {"key": REPLAY_LOCK_KEY})
            await guard.commit()
    return position


def _swap(table: str) -> tuple[str, str]:
    """Replace a live table's rows with the rebuilt ones (constant names only)."""
    rebuilt = f"{REBUILD_SCHEMA}.{table}"
    return (f"DELETE FROM public.{table}",  # noqa: S608
            f"INSERT INTO public.{table} SELECT * FROM {rebuilt}")  # noqa: S608


async def _fresh_tables(store: PostgresEventStore) -> None:
    async with store.engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {REBUILD_SCHEMA}"))
        for table in READ_MODEL_TABLES:
            await connection.execute(text(
                f"CREATE TABLE {REBUILD_SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)"))


async def _project(store: PostgresEventStore, projection: PostgresProjection,
                   folded: _FoldedStreams, position: int,
                   on_progress: Callable[[int], None] | None) -> int:
    """Project one chunk of the log into the rebuild tables, in its own transaction."""
    async with store.session() as session:
        return await _project_in(session, store, projection, folded, position, on_progress,
                                 chunks=1, facts=False)


async def _project_in(session: PostgresAppendSession, store: PostgresEventStore,
                      projection: PostgresProjection,
                      folded: _FoldedStreams, position: int,
                      on_progress: Callable[[int], None] | None,
                      chunks: int | None = None, facts: bool = True) -> int:
    await session.connection.execute(text(f"SET LOCAL search_path = {REBUILD_SCHEMA}, public"))
    done = 0
    while chunks is None or done < chunks:
        chunk = await store.read(position, CHUNK)
        if not chunk:
            break
        await projection.apply(session.connection, folded.fold(chunk), folded, facts=facts)
        position = chunk[-1].position
        done += 1
        if on_progress is not None:
            on_progress(position)
    return position


async def replay_needed(store: PostgresEventStore) -> bool:
    """True when the read model was built by another policy version than this code's."""
    async with store.engine.connect() as connection:
        names = {row.projection for row in await connection.execute(
            text("SELECT projection FROM checkpoints"))}
    return bool(names) and PROJECTION_NAME not in names
