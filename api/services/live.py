"""What each commit changed on a timeline, for its live subscribers.

One watcher per timeline per process, shared by its subscribers: it follows the log feed,
and after each commit that touches the timeline (an event in its stream, or a source event
that moved one of its facts) it compares the timeline's facts with those it saw last and
sends the ones that differ. Facts are read from the read model, which the commit itself
updated, so a message never shows a fact older than its events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from events.chain import Envelope
from events.errors import StoreUnavailable
from events.postgres.log_feed import LogFeed
from events.postgres.read_model import ReadModel
from events.rows import FactRow

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000  # messages a subscriber may fall behind before it is dropped

FactKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class TimelineChange:
    slug: str
    version: int
    events: list[Envelope]  # the commit's events on the timeline (none for a regrade)
    facts: list[FactRow]  # the facts the commit changed, as they are after it


@dataclass(slots=True)
class _Watcher:
    slug: str
    queues: set[asyncio.Queue[TimelineChange | None]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class TimelineChanges:
    def __init__(self, feed: LogFeed, read_model: ReadModel) -> None:
        self.feed = feed
        self.read_model = read_model
        self._watchers: dict[str, _Watcher] = {}

    async def subscribe(self, slug: str) -> AsyncIterator[TimelineChange]:
        """Each change after the moment of subscribing, until the subscriber leaves.
        Raises StoreUnavailable when the subscriber fell too far behind to be kept."""
        watcher = self._watchers.get(slug)
        if watcher is None:
            watcher = self._watchers[slug] = _Watcher(slug)
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            watcher.task = asyncio.create_task(self._watch(watcher, ready),
                                               name=f"chronicle-watch-{slug}")
            await ready
        queue: asyncio.Queue[TimelineChange | None] = asyncio.Queue(QUEUE_LIMIT)
        watcher.queues.add(queue)
        try:
            while (change := await queue.get()) is not None:
                yield change
            raise StoreUnavailable("this subscriber fell too far behind; subscribe again")
        finally:
            watcher.queues.discard(queue)
            if not watcher.queues and self._watchers.get(slug) is watcher:
                del self._watchers[slug]
                if watcher.task is not None:
                    watcher.task.cancel()

    async def close(self) -> None:
        for watcher in list(self._watchers.values()):
            if watcher.task is not None:
                watcher.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher.task
        self._watchers.clear()

    async def _watch(self, watcher: _Watcher, ready: asyncio.Future[None]) -> None:
        try:
            position = self.feed.head
            seen = await self._documents(watcher.slug)
        except BaseException as e:
            ready.set_exception(e)
            del self._watchers[watcher.slug]
            raise
        ready.set_result(None)
        try:
            await self._follow(watcher, position, seen)
        except Exception:
            log.exception("timeline watcher for %s stopped; its subscribers are told",
                          watcher.slug)
            if self._watchers.get(watcher.slug) is watcher:
                del self._watchers[watcher.slug]
            for queue in watcher.queues:
                _stop(queue)

    async def _follow(self, watcher: _Watcher, position: int,
                      seen: dict[FactKey, object]) -> None:
        stream = f"timeline:{watcher.slug}"
        async for batch in self.feed.after(position):
            for commit in _commits(batch):
                mine = [e for e in commit if e.stream == stream]
                if not mine and not any(e.stream.startswith("source:") for e in commit):
                    continue
                now = await self._facts(watcher.slug)
                changed = [row for key, row in now.items() if seen.get(key) != row.document]
                seen = {key: row.document for key, row in now.items()}
                if mine or changed:
                    timeline = await self.read_model.timeline(watcher.slug)
                    version = timeline.version if timeline is not None else 0
                    self._send(watcher, TimelineChange(watcher.slug, version, mine, changed))

    async def _documents(self, slug: str) -> dict[FactKey, object]:
        return {key: row.document for key, row in (await self._facts(slug)).items()}

    async def _facts(self, slug: str) -> dict[FactKey, FactRow]:
        return {(f.entry, f.attribute): f for f in await self.read_model.timeline_facts(slug)}

    @staticmethod
    def _send(watcher: _Watcher, change: TimelineChange) -> None:
        for queue in list(watcher.queues):
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                # Too slow to keep: it is told, and stops hearing of later changes.
                watcher.queues.discard(queue)
                _stop(queue)


def _stop(queue: asyncio.Queue[TimelineChange | None]) -> None:
    """Tell a subscriber it will hear nothing more (None), even over a full queue."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(None)


def _commits(batch: list[Envelope]) -> Iterator[list[Envelope]]:
    """The batch cut into commits: one transaction's events share their recorded_at (the
    database clock at the append), and positions are commit-ordered."""
    for _, events in groupby(batch, key=lambda e: e.recorded_at):
        yield list(events)
