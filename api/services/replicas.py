"""Reads from PostgreSQL streaming-replication standbys, with read-your-writes.

Every standby named in ``CHRONICLE_REPLICA_URLS`` holds the whole database as the primary
committed it, a little later: the log and the read model together (the projection writes
both in one transaction), so a standby that holds the event at position ``p`` also answers
every read as of ``p``. A background task asks each standby, every ``poll`` seconds, which
position it holds and how long ago it replayed anything; a standby that does not answer,
or is more than ``max_lag`` positions behind the primary, is left out until it catches up.

A read goes to a standby holding at least the position its client names
(``Chronicle-Min-Position``: the last position it wrote or read), waiting up to
``wait`` seconds for one to get there, and to the primary otherwise; so no client reads
older data than it has seen, whichever server answers. Writes, subscriptions and the as-of
history always use the primary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import count

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.background import stopped
from events.errors import BadInput
from events.postgres.read_model import ReadModel
from events.postgres.store import PostgresEventStore, is_unavailable

log = logging.getLogger(__name__)

_STATE = text("SELECT coalesce((SELECT max(position) FROM events), 0) AS position, "
              "extract(epoch FROM now() - pg_last_xact_replay_timestamp()) AS behind")
LogReader = PostgresEventStore  # the log as a read sees it (its append methods unused)
RECHECK_SECONDS = 0.02  # while a read waits for a standby to reach its position


@dataclass(slots=True)
class ReadSource:
    """Where one request reads: the primary, or one standby."""

    name: str
    engine: AsyncEngine
    read_model: ReadModel
    store: PostgresEventStore
    primary: bool = False

    async def head(self) -> int:
        """The last position this source holds, read now (so at least what any read made
        through it before saw)."""
        return await self.store.head_position()


@dataclass(slots=True)
class Standby:
    source: ReadSource
    up: bool = False
    position: int = 0  # the last position it was seen to hold
    seconds_behind: float | None = None  # since it last replayed a commit (None: never)
    checked_at: float = field(default=0.0)


@dataclass(frozen=True, slots=True)
class StandbyState:
    replica: str
    up: bool
    serving: bool  # up, and close enough to the primary to serve reads
    position: int
    lag_positions: int
    lag_seconds: float | None  # None: it never replayed a commit since it started


class Replicas:
    def __init__(self, primary: ReadSource, standbys: Sequence[ReadSource], *,
                 primary_head: Callable[[], int], wait: float, max_lag: int,
                 poll: float, served: Callable[[str], None] = lambda name: None) -> None:
        self.primary = primary
        self.served = served  # told the name of the database each routed read goes to
        self.standbys = [Standby(s) for s in standbys]
        self.primary_head = primary_head  # the primary's position as this process knows it
        self.wait = wait
        self.max_lag = max_lag
        self.poll = poll
        self._turn = count()
        self._task: asyncio.Task[None] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.standbys)

    # -- choosing where a read goes ----------------------------------------------------------

    async def for_read(self, min_position: int | None) -> ReadSource:
        """A standby holding ``min_position`` (any serving one when None), waiting up to
        ``wait`` seconds for one to reach it; else the primary."""
        if not self.standbys:
            return self.primary
        chosen = await self._choose(min_position)
        self.served(chosen.name)
        return chosen

    async def _choose(self, min_position: int | None) -> ReadSource:
        wanted = min_position or 0
        chosen = self._holding(wanted)
        if chosen is not None or min_position is None:
            return chosen or self.primary
        deadline = time.monotonic() + self.wait
        while self._serving() and time.monotonic() < deadline:  # none serving: no wait
            await asyncio.sleep(RECHECK_SECONDS)
            for standby in self._serving():
                await self._check(standby)
            chosen = self._holding(wanted)
            if chosen is not None:
                return chosen
        return self.primary

    def _serving(self) -> list[Standby]:
        head = self.primary_head()
        return [s for s in self.standbys if s.up and head - s.position <= self.max_lag]

    def _holding(self, position: int) -> ReadSource | None:
        candidates = [s for s in self._serving() if s.position >= position]
        if not candidates:
            return None
        return candidates[next(self._turn) % len(candidates)].source

    # -- watching the standbys ---------------------------------------------------------------

    def start(self) -> None:
        if self.standbys:
            self._task = asyncio.create_task(self._watch(), name="chronicle-replicas")

    async def close(self) -> None:
        await stopped(self._task)
        self._task = None
        for standby in self.standbys:
            await standby.source.engine.dispose()

    async def check_all(self) -> None:
        await asyncio.gather(*(self._check(s) for s in self.standbys))

    async def _watch(self) -> None:
        while True:
            await self.check_all()
            await asyncio.sleep(self.poll)

    async def _check(self, standby: Standby) -> None:
        was_up = standby.up
        try:
            async with asyncio.timeout(max(self.poll, 1.0)):
                async with standby.source.engine.connect() as connection:
                    row = (await connection.execute(_STATE)).one()
        except Exception as e:  # down, restarting, unreachable: skipped until it answers
            standby.up = False
            if was_up:
                log.warning("replica %s stopped answering (%s); reading elsewhere",
                            standby.source.name, type(e).__name__)
            return
        standby.position = int(row.position)
        standby.seconds_behind = None if row.behind is None else float(row.behind)
        standby.checked_at = time.monotonic()
        standby.up = True
        if not was_up:
            log.info("replica %s answers, at position %d", standby.source.name,
                     standby.position)

    # -- health ------------------------------------------------------------------------------

    def lag(self) -> list[StandbyState]:
        """Each standby's state, for /readyz and /metrics."""
        head = self.primary_head()
        found = []
        for standby in self.standbys:
            behind = max(0, head - standby.position)
            # A standby holding the primary's last position is not behind, however long
            # ago that commit was replayed.
            found.append(StandbyState(
                standby.source.name, standby.up, standby.up and behind <= self.max_lag,
                standby.position, behind, 0.0 if behind == 0 else standby.seconds_behind))
        return found

def position_asked(header: str | None) -> int | None:
    """The least position a request must see, from its ``Chronicle-Min-Position`` header
    (None without one); BadInput for a header that is not a position: silently reading
    older data would break the promise."""
    if header is None or not header.strip():
        return None
    raw = header.strip()
    if not raw.isdigit() or len(raw) > 18:
        raise BadInput(f"Chronicle-Min-Position must be a log position (a whole number), "
                       f"not {raw[:40]!r}", field="Chronicle-Min-Position")
    return int(raw)


def standby_failed(error: BaseException) -> bool:
    """Whether an error met while reading from a standby means it went away (so the primary
    should answer instead): the driver's and SQLAlchemy's connection errors."""
    return is_unavailable(error)
