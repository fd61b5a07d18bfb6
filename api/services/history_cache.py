"""Each API process keeps the history of the timelines it was asked about in the past.

The first as-of read of a timeline starts from its written history (``history_snapshots``,
events/history_codec.py) when there is one for this log, and folds only the events appended
since; later reads only fold the events appended since the last (one indexed query). Folding
costs no policy work: a read resolves only the facts it shows (events/history_index.py).

Who writes the histories down: ``chronicle import`` after it commits (``persist_touched``),
so the first read of a timeline just imported is fast too; and a serving process, in the
background, once a history it keeps has grown by ``persist_every`` events since the one
written. Writing is never on the append's path: it reads the log like any reader, folds and
encodes on a worker thread (its own copy of the history, so nothing a request reads is
touched), and then stores one row.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import OrderedDict
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from events.chain import Envelope
from events.history_codec import decode, documents_of, encode
from events.history_index import TimelineHistory
from events.history_versions import Unreadable, inflated
from events.ports import Applied, Projection, StreamStates
from events.postgres.history_snapshots import HistorySnapshots, StoredHistory
from events.postgres.store import PostgresEventStore

MAX_TIMELINES = 32
YIELD_EVERY = 200  # events folded between two turns of the event loop
# A fold this long leaves enough long-lived objects that the cyclic collector's full passes
# over them become the slowest part of later as-of reads (a p99 of 260 ms against a p50 of
# 40 ms on 10,000 reports). They are kept, not cyclic garbage, so they are frozen out of
# its reach; they are still freed by reference counting when the history is evicted.
FREEZE_AFTER = 1000
PERSIST_EVERY = 2000  # events a kept history grows by before it is written down again
# An import writes a timeline's history down when it leaves the one written this far behind:
# writing costs as much as the whole timeline, and a first read folds fewer events quickly.
IMPORT_PERSIST_AFTER = 500
# What a written history resolves of the REPORTED clock beyond the versions reads already
# kept, in reports weighed (resolving a version weighs each report of its fact once): a
# 10,000-report timeline imported in ten parts needs under 10,000 per part; a timeline of
# 100,000 reports imported at once would need millions (seconds of work each), and is
# left to resolve the rest when read.
PREPARE_BUDGET = 100_000
WARM_AFTER = 0.5  # seconds after a written history is read back before the rest is decoded
# Warming decodes for at most this long (seconds) between two turns of the event loop: a
# request arriving meanwhile waits for one such slice, not for 200 documents (4-10 ms,
# measured on two cores: enough to show in the as-of reads' p95 while it lasts).
DECODE_SLICE = 0.001
DECODE_CHECK = 16  # documents decoded between two looks at the clock

log = logging.getLogger(__name__)


class HistoryCache:
    def __init__(self, store: PostgresEventStore, capacity: int = MAX_TIMELINES,
                 persist_every: int = PERSIST_EVERY) -> None:
        self.store = store
        self.snapshots = HistorySnapshots(store.engine)
        self.capacity = capacity
        self.persist_every = persist_every
        self._histories: OrderedDict[str, TimelineHistory] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self._written: dict[str, int] = {}  # the position of the history written last (0: none)
        self._frozen: dict[str, int] = {}  # rows the history had made when last frozen
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    async def get(self, slug: str) -> TimelineHistory:
        """The timeline's history, caught up with everything committed so far."""
        lock = self._locks.setdefault(slug, asyncio.Lock())
        async with lock:
            history = self._histories.get(slug)
            if history is None:
                history = await self._start(slug)
            envelopes = await self.store.read_timeline_world(slug, after=history.position)
            for start in range(0, len(envelopes), YIELD_EVERY):
                # A long first fold must not stall every other request of the process.
                history.extend(envelopes[start:start + YIELD_EVERY])
                await asyncio.sleep(0)
            made = history.documents.decoded  # the versions reads resolved or decoded
            if len(envelopes) >= FREEZE_AFTER or made - self._frozen.get(slug, 0) >= FREEZE_AFTER:
                gc.freeze()  # kept too
                self._frozen[slug] = made
            self._histories[slug] = history
            self._histories.move_to_end(slug)
            while len(self._histories) > self.capacity:
                evicted, _ = self._histories.popitem(last=False)
                self._locks.pop(evicted, None)
        if history.position - self._written.get(slug, 0) >= self.persist_every:
            self._background(slug, "persist", self.persist(slug))
        return history

    async def _start(self, slug: str) -> TimelineHistory:
        """The written history, or an empty one to fold the whole log into."""
        stored = await self.snapshots.load(slug)
        history = None if stored is None else await self._inflating_read_back(slug, stored)
        self._written[slug] = 0 if history is None else history.position
        if history is None:
            return TimelineHistory(slug)
        gc.freeze()  # long-lived, like a long fold's (FREEZE_AFTER)
        self._background(slug, "warm", self._warm(history))
        return history

    @staticmethod
    async def _inflating_read_back(slug: str, stored: StoredHistory) -> TimelineHistory | None:
        """Decoded here while a worker thread inflates its documents (zlib lets go of the
        interpreter meanwhile)."""
        inflating = asyncio.get_running_loop().run_in_executor(
            None, inflated, *documents_of(stored.history))
        history = _read_back(slug, stored)
        try:
            documents = await inflating
        except Unreadable:
            log.warning("the written history of %r cannot be used; folding the log", slug,
                        exc_info=True)
            return None
        if history is not None:
            history.documents.unpacked(documents)
        return history

    async def _warm(self, history: TimelineHistory) -> None:
        """Once the first reads are answered, decode the documents of a written history a
        few at a time, so later reads find them at hand; then freeze them out of the
        collector's reach (FREEZE_AFTER). Its reports are left until something needs them
        (a write to fold, a read of reports), which reads them back then, once."""
        await asyncio.sleep(WARM_AFTER)
        with _collecting_later():  # no full collection over them on the way: all are kept
            until = time.perf_counter() + DECODE_SLICE
            for done, _ in enumerate(history.decode_all(), 1):
                if done % DECODE_CHECK == 0 and time.perf_counter() >= until:
                    await asyncio.sleep(0)
                    until = time.perf_counter() + DECODE_SLICE
            gc.freeze()

    # -- writing histories down -------------------------------------------------------------

    async def persist(self, slug: str, decided: Sequence[Applied] = ()) -> None:
        """Write the timeline's history down, caught up with the log, with every fact
        version a RECORDED read can land on resolved. ``decided``: events just committed,
        as the appender decided them (``recording``), checked to be the log's
        (``_handed``): they are folded as they are instead of read back and decoded."""
        stored = await self.snapshots.load(slug)
        history = None if stored is None else await asyncio.to_thread(_read_back, slug, stored)
        start = 0 if history is None else history.position
        if decided:
            handed = decided
            envelopes = await self.snapshots.world_between(
                slug, start, decided[0].envelope.position - 1)
        else:
            handed = ()
            envelopes = await self.store.read_timeline_world(slug, after=start)
        if history is not None and not envelopes and (
                not handed or handed[-1].envelope.position <= history.position):
            self._written[slug] = max(self._written.get(slug, 0), history.position)
            return
        position, blob = await asyncio.to_thread(
            _catch_up_and_encode, history or TimelineHistory(slug), envelopes, handed)
        if position:
            await self.snapshots.save(slug, position, blob)
        self._written[slug] = max(self._written.get(slug, 0), position)

    @contextmanager
    def recording(self) -> Iterator[Decided]:
        """While open, keep every batch the store projects (what ``chronicle import``
        appends), for ``persist_touched`` to fold without reading the log back. Only for a
        process whose appends are its own (the import command): a batch projected but not
        committed is kept too, and ``_handed`` refuses what the log does not hold."""
        decided = Decided(self.store.projection)
        self.store.projection = decided
        try:
            yield decided
        finally:
            self.store.projection = decided.inner

    async def persist_touched(self, after: int, behind: int | None = None,
                              decided: Sequence[Applied] = ()) -> list[str]:
        """Write down the history of every timeline with events after position ``after``
        (what ``chronicle import`` does once its events are committed) that is at least
        ``behind`` (``IMPORT_PERSIST_AFTER``) events ahead of the history written for it; the
        ones written. ``decided``: the events the import committed (``recording``), used
        when they are the log's. One that cannot be written is only logged: what was
        imported stays imported, and the first read of that timeline folds its log instead."""
        written = []
        handed = await self._handed(decided)
        for slug, ahead in (await self.snapshots.touched(after)).items():
            if ahead < (IMPORT_PERSIST_AFTER if behind is None else behind):
                continue
            try:
                await self.persist(slug, handed)
            except Exception:
                log.warning("could not write the history of %r down", slug, exc_info=True)
            else:
                written.append(slug)
        return written

    async def _handed(self, decided: Sequence[Applied]) -> Sequence[Applied]:
        """``decided`` when it is a run of the log as it stands (consecutive positions,
        each chained to the one before, the last one's hash the log's at its position: the
        chain makes that hash stand for every event before it); else nothing."""
        if not decided:
            return ()
        envelopes = [a.envelope for a in decided]
        chained = all(later.position == earlier.position + 1
                      and later.prev_hash == earlier.hash
                      for earlier, later in pairwise(envelopes))
        if chained and await self.snapshots.hash_at(envelopes[-1].position) \
                == envelopes[-1].hash:
            return decided
        log.warning("the events imported are not the log's; reading it back instead")
        return ()

    def _background(self, slug: str, what: str, work: Coroutine[Any, Any, None]) -> None:
        if (slug, what) in self._tasks:
            work.close()
            return
        task = asyncio.create_task(self._quietly(slug, what, work))
        self._tasks[(slug, what)] = task
        task.add_done_callback(lambda _: self._tasks.pop((slug, what), None))

    @staticmethod
    async def _quietly(slug: str, what: str, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:  # a history not written now is written next time, or folded
            log.warning("could not %s the history of %r", what, slug, exc_info=True)

    async def close(self) -> None:
        """Wait for the histories being written down; stop warming."""
        for (_, what), task in list(self._tasks.items()):
            if what == "warm":
                task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def _read_back(slug: str, stored: StoredHistory) -> TimelineHistory | None:
    try:
        with _collecting_later():  # thousands of objects, all kept: nothing to collect
            history = decode(stored.history, slug)
    except Unreadable:
        log.warning("the written history of %r cannot be used; folding the log", slug,
                    exc_info=True)
        return None
    return history if history.position == stored.position else None


class Decided:
    """A projection that keeps every batch it projects (``HistoryCache.recording``), after
    the store's own projection (``inner``) wrote it."""

    def __init__(self, inner: Projection[AsyncConnection] | None) -> None:
        self.inner = inner
        self.applied: list[Applied] = []

    async def apply(self, connection: AsyncConnection, batch: Sequence[Applied],
                    states: StreamStates) -> None:
        if self.inner is not None:
            await self.inner.apply(connection, batch, states)
        self.applied.extend(batch)


def _catch_up_and_encode(history: TimelineHistory, envelopes: Sequence[Envelope],
                         handed: Sequence[Applied] = ()) -> tuple[int, bytes]:
    """On a worker thread, with a history no request reads: caught up (with the log read
    back, then with events handed over decoded), its new RECORDED versions resolved,
    encoded."""
    since = history.position
    with _collecting_later():  # all of it is kept until encoded: nothing to collect
        history.extend(envelopes)
        history.extend_applied(handed)
        history.prepare(since, budget=PREPARE_BUDGET)
        return history.position, encode(history)


@contextmanager
def _collecting_later() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
