"""In-memory adapters of the ports, for unit tests: the same contract as PostgreSQL's,
run by the same test suite, without a database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from events.chain import GENESIS_HASH, Envelope
from events.errors import StoreUnavailable
from events.ports import Applied, Head, IdempotencyRecord, StreamStates


class MemoryEventStore:
    """The same contract in memory, for unit tests of the appender and decisions."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.log: list[Envelope] = []
        self.keys: dict[str, IdempotencyRecord] = {}
        self._clock = clock or (lambda: datetime(2018, 2, 15, tzinfo=UTC))
        self.fail_next_write: Exception | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[MemoryAppendSession]:
        session = MemoryAppendSession(self)
        yield session
        if self.fail_next_write is not None:
            error, self.fail_next_write = self.fail_next_write, None
            raise StoreUnavailable("the event store is unavailable") from error
        self.log.extend(session.pending)
        for record in session.pending_keys:
            self.keys[record.key] = record

    async def read(self, after: int = 0, limit: int = 1000) -> list[Envelope]:
        return [e for e in self.log if e.position > after][:limit]

    async def read_stream(self, stream: str) -> list[Envelope]:
        return [e for e in self.log if e.stream == stream]


class MemoryAppendSession:
    def __init__(self, store: MemoryEventStore) -> None:
        self.store = store
        self.pending: list[Envelope] = []
        self.pending_keys: list[IdempotencyRecord] = []

    async def head(self) -> Head:
        now = self.store._clock()
        if not self.store.log:
            return Head(0, GENESIS_HASH, now)
        last = self.store.log[-1]
        return Head(last.position, last.hash, max(now, last.recorded_at))

    async def stream_since(self, stream: str, version: int) -> list[Envelope]:
        return [e for e in self.store.log if e.stream == stream and e.version > version]

    async def idempotency(self, keys: Sequence[str]) -> dict[str, tuple[str, Envelope]]:
        by_position = {e.position: e for e in self.store.log}
        return {k: (r.fingerprint, by_position[r.position])
                for k in keys if (r := self.store.keys.get(k)) is not None}

    async def write(self, envelopes: Sequence[Envelope],
                    keys: Sequence[IdempotencyRecord]) -> None:
        self.pending.extend(envelopes)
        self.pending_keys.extend(keys)

    async def project(self, batch: Sequence[Applied], states: StreamStates) -> None:
        """The memory store keeps no read model: the write model is all there is."""
