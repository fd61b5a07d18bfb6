"""The log as it grows, for live subscribers in this process, whichever process appended.

One connection per process LISTENs on ``chronicle_log`` (migration 0003 notifies on every
commit that appended events, with the highest position it appended). A notification is
only a wake-up: unless the feed has read that far already, it then reads the events after
the last position it knows, on the listening connection itself (one round trip, no pool
checkout and no transaction around it), keeps the most recent ones in memory and wakes the
subscribers. Positions are gapless and commit-ordered, so "everything after position p" is
a complete answer at any moment, and each subscriber walks the positions itself: first
the backlog (from memory, or from the log when it is older), then live, with no gap and no
duplicate at the seam. When the listening connection is lost, the feed reconnects and
catches up from the last position it read; a periodic read covers a notification that
never came.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from itertools import islice
from typing import Any

import asyncpg

from events.background import stopped
from events.chain import Envelope
from events.postgres.store import PostgresEventStore, read_after

log = logging.getLogger(__name__)

CHANNEL = "chronicle_log"
READ_CHUNK = 1000
KEPT = 10_000  # recent events kept in memory for subscribers that are only a little behind
POLL_SECONDS = 5.0  # a read now and then, in case a notification was missed
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)  # between attempts to listen again


class LogFeed:
    def __init__(self, store: PostgresEventStore, dsn: str, *, kept: int = KEPT,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.store = store
        self.dsn = dsn
        self.poll_seconds = poll_seconds
        self.head = 0  # the highest position read from the log
        self.announced = 0  # the highest position a notification announced
        self.reads = 0  # reads of the log by the listener (tests count them)
        self.listener_pid: int | None = None  # the listening backend, while connected
        self._recent: deque[Envelope] = deque(maxlen=kept)
        self._moved = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self.head = await self.store.head_position()
        self._task = asyncio.create_task(self._listen_forever(), name="chronicle-log-feed")

    async def close(self) -> None:
        await stopped(self._task)
        self._task = None

    async def listening(self) -> None:
        """Wait until the feed listens (tests, and readiness)."""
        await self._connected.wait()

    async def reached(self, position: int) -> None:
        """Wait until the feed has read the log up to ``position``."""
        await self._beyond(position - 1)

    # -- subscribers ----------------------------------------------------------------------

    async def after(self, position: int) -> AsyncIterator[list[Envelope]]:
        """Every event after ``position``, in order, in batches as they become known; it
        never ends by itself."""
        while True:
            batch = self._recent_after(position)
            if batch is None:
                batch = await self.store.read(position, READ_CHUNK)
            if batch:
                yield batch
                position = batch[-1].position
                continue
            await self._beyond(position)

    def _recent_after(self, position: int) -> list[Envelope] | None:
        """The kept events after ``position``; None when some of them are no longer kept."""
        if position >= self.head:
            return []
        if not self._recent or self._recent[0].position > position + 1:
            return None
        start = position + 1 - self._recent[0].position
        return list(islice(self._recent, start, start + READ_CHUNK))

    async def _beyond(self, position: int) -> None:
        while self.head <= position:
            moved = self._moved
            await moved.wait()

    # -- the listening connection ---------------------------------------------------------

    async def _listen_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as e:  # any failure: listen again, then catch up
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("log feed: listening failed (%s); again in %.1fs", e, delay)
                await asyncio.sleep(delay)

    async def _listen(self) -> None:
        connection: Any = await asyncpg.connect(self.dsn)
        lost = asyncio.Event()
        try:
            await connection.add_listener(CHANNEL, self._notified)
            connection.add_termination_listener(lambda _: lost.set())
            self.listener_pid = connection.get_server_pid()
            self._connected.set()
            read = True  # first what was committed while nobody listened
            while not lost.is_set():
                # Cleared before reading: a notification during the read wakes the next wait.
                self._wake.clear()
                if read or self.announced > self.head:
                    await self._catch_up(connection)
                # Woken by a notification, read only if it announced something unread; at
                # the end of a wait without one, read anyway (a notification may be lost).
                read = not await self._wait_for_news(lost)
            raise ConnectionError("the listening connection was lost")
        finally:
            self._connected.clear()
            self.listener_pid = None
            # Not a graceful close: that awaits, and a cancelled feed must not leave a
            # half-closed connection behind. The server drops a terminated LISTEN at once.
            connection.terminate()

    def _notified(self, connection: object, pid: object, channel: object,
                  payload: object) -> None:
        try:
            position = int(str(payload))
        except ValueError:  # not a position: read to find out
            position = self.head + 1
        self.announced = max(self.announced, position)
        if position > self.head:
            self._wake.set()

    async def _wait_for_news(self, lost: asyncio.Event) -> bool:
        """Wait for a notification (True), the connection's loss or the poll interval."""
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(lost.wait())]
        try:
            await asyncio.wait(waits, timeout=self.poll_seconds,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return self._wake.is_set()

    async def _catch_up(self, connection: Any) -> None:
        """Read the log after ``head`` until a read comes back short: whatever is committed
        after that read began is notified, and the notification wakes the next wait."""
        while True:
            self.reads += 1
            batch = await read_after(connection, self.head, READ_CHUNK)
            if batch:
                self._recent.extend(batch)
                self.head = batch[-1].position
                moved, self._moved = self._moved, asyncio.Event()
                moved.set()
            if len(batch) < READ_CHUNK:
                return
