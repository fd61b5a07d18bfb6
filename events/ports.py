"""The ports: what the domain's write path needs of a store and of a projection.

The appender speaks only to these Protocols. ``events.memory`` implements them in memory for
unit tests; ``events.postgres`` implements them on PostgreSQL. One contract test suite runs
against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from events.chain import Envelope
from events.reducer import SourceState, TimelineState
from events.vocabulary import DomainEvent


@dataclass(frozen=True, slots=True)
class Applied:
    """An event as stored, decoded, with the stream it was applied to."""

    envelope: Envelope
    event: DomainEvent


class StreamStates(Protocol):
    """The folded streams as of the batch being projected: what a projection reads."""

    async def timeline(self, slug: str) -> TimelineState: ...

    async def source(self, source_id: str) -> SourceState: ...


Connection = TypeVar("Connection", contravariant=True)


class Projection(Protocol[Connection]):
    """Writes what a batch changed into a read model, on the append's own transaction."""

    async def apply(self, connection: Connection, batch: Sequence[Applied],
                    states: StreamStates) -> None: ...


@dataclass(frozen=True, slots=True)
class Head:
    """The last stored event, and the clock the next batch is recorded at."""

    position: int
    hash: str
    now: datetime


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Narrows ``Query.events``: one stream, some types, a position, a window of recorded_at."""

    stream: str | None = None
    types: tuple[str, ...] = ()
    after: int | None = None
    recorded_from: datetime | None = None
    recorded_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    position: int


class AppendSession(Protocol):
    """One append transaction; ``head()`` takes the log's lock until the session ends."""

    async def head(self) -> Head: ...

    async def stream_since(self, stream: str, version: int) -> list[Envelope]: ...

    async def idempotency(self, keys: Sequence[str]) -> dict[str, tuple[str, Envelope]]: ...

    async def write(self, envelopes: Sequence[Envelope],
                    keys: Sequence[IdempotencyRecord]) -> None: ...

    async def project(self, batch: Sequence[Applied], states: StreamStates) -> None:
        """Bring the store's read model up to ``batch``, in the same transaction."""
        ...


class EventStore(Protocol):
    def session(self) -> AbstractAsyncContextManager[AppendSession]:
        """One append transaction: commits on a clean exit, takes nothing back otherwise.
        A store that cannot be reached raises ``StoreUnavailable``."""
        ...

    async def read(self, after: int = 0, limit: int = 1000) -> list[Envelope]: ...

    async def read_stream(self, stream: str) -> list[Envelope]: ...
