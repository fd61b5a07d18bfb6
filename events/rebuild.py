"""Rebuild the read model from position 0: fold the whole log through the reducer and the
projection, in one transaction that holds the append lock (no write interleaves)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from events.appender import apply_envelope, new_state
from events.decisions import StreamState
from events.projection import Applied, PostgresProjection
from events.reducer import SourceState, TimelineState
from events.store import APPEND_LOCK_KEY, PostgresEventStore
from events.vocabulary import event_from_data, source_stream, timeline_stream

READ_MODEL_TABLES = ("facts", "reports", "entries", "sources", "timelines", "checkpoints")


class _FoldedStreams:
    """The projection's view of the write model, held in memory during a rebuild."""

    def __init__(self) -> None:
        self.states: dict[str, StreamState] = {}

    def state(self, stream: str) -> StreamState:
        if stream not in self.states:
            self.states[stream] = new_state(stream)
        return self.states[stream]

    async def timeline(self, slug: str) -> TimelineState:
        state = self.state(timeline_stream(slug))
        assert isinstance(state, TimelineState)
        return state

    async def source(self, source_id: str) -> SourceState:
        state = self.state(source_stream(source_id))
        assert isinstance(state, SourceState)
        return state


async def rebuild_read_model(store: PostgresEventStore,
                             on_progress: Callable[[int], None] | None = None) -> int:
    """Empty the read model and project every event again; returns the events applied."""
    projection = PostgresProjection()
    folded = _FoldedStreams()
    applied_count = 0
    async with store.session() as session:
        connection = session.connection
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": APPEND_LOCK_KEY})
        for table in READ_MODEL_TABLES:
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (constants)
        async for chunk in store.chunks():
            batch = []
            for envelope in chunk:
                apply_envelope(folded.state(envelope.stream), envelope)
                batch.append(Applied(envelope, event_from_data(
                    envelope.type, envelope.schema_version, envelope.data)))
            await projection.apply(session, batch, folded)
            applied_count += len(chunk)
            if on_progress is not None:
                on_progress(applied_count)
    return applied_count
