"""Group commit: many concurrent commands, one transaction, one fsync.

Callers ``submit`` a command and await its stored event. One task per process drains the
queue: it takes everything waiting (up to ``max_batch``), opens one append session (which
takes the log's lock), decides each command against the current state of its streams, chains
the hashes in order, writes the batch, has the store project it, and commits. A refused
command fails alone; a failed commit is retried in halves, so that only the command that
caused it fails. It speaks only to the ports (``events.ports``), so the memory adapter runs
it in unit tests and PostgreSQL in production.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from events.background import stopped
from events.chain import Envelope, event_hash
from events.commands import Command, Submission, command_fingerprint, streams_read
from events.decisions import decide
from events.errors import Conflict, DomainError, LogDamaged, StoreUnavailable
from events.ports import AppendSession, Applied, EventStore, Head, IdempotencyRecord
from events.reducer import (
    SourceState,
    Stamp,
    StreamState,
    TimelineState,
    apply_envelope,
    new_state,
)
from events.vocabulary import SCHEMA_VERSION, event_to_data, source_stream, timeline_stream

log = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The stored event a command produced (the first one, when answered from a retry)."""

    envelope: Envelope
    replayed: bool = False


class StoreFailure(DomainError):
    """The store refused one command for a reason the domain did not foresee; it was tried
    alone, so nothing else failed with it, and nothing of it was stored."""

    @classmethod
    def logged(cls, error: Exception, commands: int) -> StoreFailure:
        error_id = uuid.uuid4().hex[:12]
        log.error("append of %d command(s) failed, error id %s", commands, error_id,
                  exc_info=error)
        return cls(f"the event store refused this command; nothing was stored (error id "
                   f"{error_id})", details={"errorId": error_id})


class BatchRefused(DomainError):
    """An all-or-nothing append stopped at one command; nothing of it was stored."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.message, field=error.field)
        self.index = index
        self.error = error


@dataclass(slots=True)
class _Request:
    command: Command
    actor: str
    idempotency_key: str | None
    expected_version: int | None
    future: asyncio.Future[AppendResult]
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        self.fingerprint = command_fingerprint(self.command, self.actor)


class _StateCache:
    """The write model this process keeps between batches, and when it may be trusted.

    A cached stream state is current unless another process appended since it was last
    caught up. Under the append lock the head tells: when it is where this process's last
    commit left it, nobody else appended, and no stream needs reading back; when it moved,
    every state caught up before that point is read forward before use (then trusted
    again until the next foreign append).
    """

    def __init__(self) -> None:
        self.states: dict[str, StreamState] = {}
        self._checked: dict[str, int] = {}  # stream → head when last caught up
        self._our_head: int | None = None  # where our last commit left the log
        self._foreign_until = 0  # other processes' events may exist up to here

    def begin(self, head: int) -> None:
        if head != self._our_head:
            self._foreign_until = head

    def current(self, stream: str) -> bool:
        return stream in self.states and self._checked.get(stream, -1) >= self._foreign_until

    def checked(self, stream: str, head: int) -> None:
        self._checked[stream] = head

    def committed(self, head: int) -> None:
        self._our_head = head

    def clear(self) -> None:
        """After a failed batch: states may hold events that were never stored."""
        self.states.clear()
        self._checked.clear()
        self._our_head = None


class Appender:
    def __init__(self, store: EventStore, max_batch: int = MAX_BATCH,
                 on_batch: Callable[[int, int], None] | None = None) -> None:
        self.store = store
        self.on_batch = on_batch  # (commands, events stored) after each commit
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._cache = _StateCache()
        self._task: asyncio.Task[None] | None = None
        self._exclusive = asyncio.Lock()
        self.batch_sizes: list[int] = []

    async def submit(self, command: Command, *, actor: str, idempotency_key: str | None = None,
                     expected_version: int | None = None) -> AppendResult:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="chronicle-appender")
        future: asyncio.Future[AppendResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Request(command, actor, idempotency_key, expected_version,
                                        future))
        return await asyncio.shield(future)

    async def append_all(self, submissions: Sequence[Submission], *, actor: str,
                         on_progress: Callable[[int], None] | None = None) -> int:
        """Append every command in one transaction, or none: the first refusal raises
        ``BatchRefused`` with its index. Returns the number of events stored."""
        loop = asyncio.get_running_loop()
        batch = [_Request(s.command, actor, s.idempotency_key, s.expected_version,
                          loop.create_future()) for s in submissions]
        try:
            stored = await self._commit(batch, atomic=True, on_progress=on_progress)
        except Exception:
            self._cache.clear()
            raise
        for request in batch:
            request.future.cancel()
        return stored

    async def close(self) -> None:
        """Stop the writer; requests still queued are refused (nothing of them is stored)."""
        await stopped(self._task)
        self._task = None
        while not self._queue.empty():
            _fail(self._queue.get_nowait(), StoreUnavailable("the server is shutting down; "
                                                             "nothing was stored, retry"))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit_isolating(batch)
            except asyncio.CancelledError:
                # Shutting down mid-commit: the transaction rolls back with the connection.
                self._cache.clear()
                for request in batch:
                    _fail(request, StoreUnavailable("the server is shutting down; nothing "
                                                    "was stored, retry"))
                raise

    async def _commit_isolating(self, batch: Sequence[_Request]) -> None:
        """Commit a batch; when the commit fails for a reason that may lie in one command's
        own data, commit each half apart, so that only the culprit fails. An unavailable
        store fails the whole batch (every command may be retried), and so does a damaged
        log (none can be appended)."""
        try:
            await self._commit(batch)
        except Exception as e:
            self._cache.clear()  # states may hold events that were never stored
            unavailable = isinstance(e, StoreUnavailable)  # the adapter translated it
            if len(batch) == 1 or unavailable or isinstance(e, LogDamaged):
                error = _failure(e, len(batch), unavailable)
                for request in batch:
                    _fail(request, error)
                return
            log.warning("append batch of %d failed (%s); committing its halves apart",
                        len(batch), type(e).__name__)
            middle = len(batch) // 2
            await self._commit_isolating(batch[:middle])
            await self._commit_isolating(batch[middle:])

    async def _commit(self, batch: Sequence[_Request], *, atomic: bool = False,
                      on_progress: Callable[[int], None] | None = None) -> int:
        results: list[tuple[_Request, AppendResult | DomainError]] = []
        async with self._exclusive, self.store.session() as session:
            head = await session.head()
            self._cache.begin(head.position)
            known = await session.idempotency(
                [r.idempotency_key for r in batch if r.idempotency_key is not None])
            writer = _BatchWriter(session, head, self._cache, known)
            for index, request in enumerate(batch):
                try:
                    results.append((request, await writer.take(request)))
                except DomainError as e:
                    if atomic:
                        raise BatchRefused(index, e) from e
                    results.append((request, e))
                if on_progress is not None:
                    on_progress(index + 1)
            await session.write(writer.envelopes, writer.keys)
            await session.project(writer.applied, writer.streams)
        self._cache.committed(writer.position)
        self.batch_sizes.append(len(batch))
        if self.on_batch is not None:
            self.on_batch(len(batch), len(writer.envelopes))
        for request, outcome in results:
            if request.future.done():
                continue
            if isinstance(outcome, DomainError):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)
        return len(writer.envelopes)


def _failure(error: Exception, commands: int, unavailable: bool) -> DomainError:
    if isinstance(error, DomainError):
        return error
    if unavailable:
        log.warning("append batch of %d failed: the store is unavailable (%s)", commands, error)
        return StoreUnavailable("the event store failed; nothing was stored, retry with the "
                                "same idempotencyKey")
    return StoreFailure.logged(error, commands)


def _fail(request: _Request, error: DomainError) -> None:
    if not request.future.done():
        request.future.set_exception(error)


class _LoadedStreams:
    """The streams a batch reads, each caught up from the log once per batch: what the
    decisions consult, and what the store's projection is handed to read."""

    def __init__(self, session: AppendSession, head: int, cache: _StateCache) -> None:
        self.session = session
        self.head = head
        self.cache = cache
        self.caught_up: set[str] = set()

    async def state(self, stream: str) -> StreamState:
        if stream not in self.caught_up:
            if not self.cache.current(stream):
                # New to this process, or another process may have appended since.
                state = self.cache.states.setdefault(stream, new_state(stream))
                for envelope in await self.session.stream_since(stream, state.version):
                    apply_envelope(state, envelope)
            self.cache.checked(stream, self.head)
            self.caught_up.add(stream)
        return self.cache.states[stream]

    async def timeline(self, slug: str) -> TimelineState:
        state = await self.state(timeline_stream(slug))
        assert isinstance(state, TimelineState)
        return state

    async def source(self, source_id: str) -> SourceState:
        state = await self.state(source_stream(source_id))
        assert isinstance(state, SourceState)
        return state


class _BatchWriter:
    """Decides one batch in order, chaining positions and hashes from the head."""

    def __init__(self, session: AppendSession, head: Head, cache: _StateCache,
                 known: dict[str, tuple[str, Envelope]]) -> None:
        self.streams = _LoadedStreams(session, head.position, cache)
        self.position = head.position
        self.prev_hash = head.hash
        self.now = head.now
        self.known = dict(known)
        self.envelopes: list[Envelope] = []
        self.keys: list[IdempotencyRecord] = []
        self.applied: list[Applied] = []

    async def take(self, request: _Request) -> AppendResult:
        key = request.idempotency_key
        if key is not None and key in self.known:
            fingerprint, envelope = self.known[key]
            if fingerprint != request.fingerprint:
                raise Conflict(f"idempotencyKey {key!r} was already used for another command",
                               field="idempotencyKey")
            return AppendResult(envelope, replayed=True)
        command = request.command
        states = {stream: await self.streams.state(stream)
                  for stream in streams_read(command)}
        target = states[command.stream]
        if request.expected_version is not None and request.expected_version != target.version:
            raise Conflict(f"{command.stream} is at version {target.version}, not the expected "
                           f"{request.expected_version}", field="expectedVersion")
        decision = decide(command, states, self.now)
        self.position += 1
        fields: dict[str, Any] = {"position": self.position, "stream": decision.stream,
                  "version": target.version + 1, "type": decision.event.type,
                  "schema_version": SCHEMA_VERSION, "data": event_to_data(decision.event),
                  "recorded_at": self.now, "actor": request.actor, "idempotency_key": key,
                  "prev_hash": self.prev_hash}
        envelope = Envelope(**fields, hash=event_hash(**fields))
        self.prev_hash = envelope.hash
        target.apply(decision.event, Stamp(envelope.position, envelope.recorded_at))
        self.envelopes.append(envelope)
        self.applied.append(Applied(envelope, decision.event))
        if key is not None:
            self.keys.append(IdempotencyRecord(key, request.fingerprint, envelope.position))
            self.known[key] = (request.fingerprint, envelope)
        return AppendResult(envelope)
