"""One execution for concurrent requests that would compute the same answer.

When a timeline changes, every reader of it misses the response cache at once; without
this, each of them would execute the same read (tens of milliseconds of CPU apiece) at the
same moment. Instead the first request with a key (the leader) executes, and the requests
that arrive with the same key while it does (the followers) await its answer.

- A follower gets the leader's answer only when it may be shared (``shareable``: for the
  response cache, a cacheable answer); an answer with errors, or a leader that raised, is
  the leader's own, and each follower then executes on its own.
- A leader that is cancelled (its client went away) leaves its followers to elect a new
  leader among themselves; a follower that is cancelled leaves the execution alone (it
  awaits the flight through ``asyncio.shield``).
- A flight is removed when its execution ends, however it ends, so the table holds no more
  than the executions in progress.

The key must stand for everything the answer depends on: two requests with the same key
must be answered alike. The response cache's key is such a key (response_cache.py).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Unanswered(enum.Enum):
    """Why a flight ended without an answer for its followers."""

    UNSHARED = enum.auto()  # the leader's answer is its own, or it raised: execute alone
    ABANDONED = enum.auto()  # the leader was cancelled: one of the followers takes over


class _Flight(Generic[T]):
    __slots__ = ("followers", "outcome")

    def __init__(self) -> None:
        self.outcome: asyncio.Future[T | _Unanswered] = \
            asyncio.get_running_loop().create_future()
        self.followers = 0


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}
        self.shared = 0  # answers given to followers instead of executing

    def __len__(self) -> int:
        """Executions in progress."""
        return len(self._flights)

    @property
    def waiting(self) -> int:
        """Followers awaiting an execution in progress."""
        return sum(flight.followers for flight in self._flights.values())

    async def run(self, key: Hashable, execute: Callable[[], Awaitable[T]],
                  shareable: Callable[[T], bool]) -> T:
        """``execute()``'s answer, or the answer of the execution under way for ``key``
        when that one may be shared."""
        while (flight := self._flights.get(key)) is not None:
            flight.followers += 1
            try:
                outcome = await asyncio.shield(flight.outcome)
            finally:
                flight.followers -= 1
            if outcome is _Unanswered.UNSHARED:
                return await execute()
            if outcome is not _Unanswered.ABANDONED:
                self.shared += 1
                return outcome
        return await self._lead(key, execute, shareable)

    async def _lead(self, key: Hashable, execute: Callable[[], Awaitable[T]],
                    shareable: Callable[[T], bool]) -> T:
        flight: _Flight[T] = _Flight()
        self._flights[key] = flight
        outcome: T | _Unanswered = _Unanswered.UNSHARED
        try:
            answer = await execute()
            if shareable(answer):
                outcome = answer
            return answer
        except asyncio.CancelledError:
            outcome = _Unanswered.ABANDONED
            raise
        finally:
            # Gone from the table before the followers wake: one that must take over finds
            # no flight and leads the next one.
            del self._flights[key]
            flight.outcome.set_result(outcome)
