"""A write rate limit per token: a token bucket each, refilled at ``rate`` writes a second
up to ``burst``. A runaway script with one newsroom's token cannot starve everyone else's
writes; bulk loads go through ``chronicle import``, which is not limited.

The buckets live in PostgreSQL (``write_buckets``), so the limit is one budget for the whole
deployment, however many worker processes and hosts share the database. A process takes
tokens from its holder's bucket with one statement (``_TAKE``), atomic on its own, and at a
high rate takes a small lease of them at once (a tenth of a second's worth, see
``lease_size``) which it spends locally for at most ``LEASE_SECONDS``: a write then costs a
round trip only once per lease. A leased token is taken from the shared bucket before it
is spent, and one left unspent when its lease ends is dropped, never returned, so the
deployment can never write more than the budget allows; it can only refuse a little early.

- the clock is the database's (``clock_timestamp()``, read once per statement), so hosts
  whose clocks disagree still share one timeline;
- a holder seen for the first time is inserted with a full bucket less what is taken;
- otherwise ``INSERT … ON CONFLICT DO UPDATE`` locks the holder's row and evaluates the
  refill, the ``WHERE`` and the ``SET`` against its newest committed version (under READ
  COMMITTED a writer that waited for the lock sees what the one before it left), so two
  writers, in any processes, can never both take the last token;
- a refusal updates nothing (the refill up to then is implied by ``at``), so a flood of
  refused writes does not write to the table; the row comes back only when a token was
  taken. The wait for a refused one is computed from the row as the statement found it:
  a hint, since others may take the next token first.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import DomainError, StoreUnavailable
from events.postgres.store import is_unavailable


class RateLimited(DomainError):
    """Too many writes with one token; nothing was stored."""


# The tokens a bucket holds at ``now``: what it held at ``at``, refilled for the time since
# (none if the clock stepped back), capped at the burst. The statement is built once from
# these constant fragments; holder, rate and burst are bound parameters.
_REFILL = ("least(CAST(:burst AS float8), {tokens} + CAST(:rate AS float8) "
           "* greatest(0, extract(epoch FROM {now} - {at})::float8))")

_ON_CONFLICT = _REFILL.format(tokens="b.tokens", now="excluded.at", at="b.at")
_AS_FOUND = _REFILL.format(tokens="w.tokens", now="now.t", at="w.at")
_TAKE = f"""
WITH now AS MATERIALIZED (SELECT clock_timestamp() AS t),
taken AS (
    INSERT INTO write_buckets AS b (holder, tokens, at)
    SELECT :holder, CAST(:burst AS float8) - :want, now.t FROM now
    ON CONFLICT (holder) DO UPDATE
        SET tokens = {_ON_CONFLICT} - :want,
            at = greatest(b.at, excluded.at)
        WHERE {_ON_CONFLICT} >= :want
    RETURNING b.holder
)
SELECT EXISTS (SELECT FROM taken) AS taken,
       (SELECT {_AS_FOUND}
        FROM write_buckets w WHERE w.holder = :holder) AS tokens
FROM now
"""  # noqa: S608


LEASE_SECONDS = 1.0  # how long a process may hold tokens it took before it spends them
LEASED_SHARE = 0.1  # a lease is this many seconds' worth of the rate (and a tenth of the burst)


def lease_size(rate: float, burst: int) -> int:
    """How many tokens a process takes at once: 1 at low rates, so the limit stays exact;
    a tenth of a second's worth at high ones, so a write rarely waits for a round trip."""
    return max(1, min(burst // 10, math.floor(rate * LEASED_SHARE)))


@dataclass(slots=True)
class _Lease:
    tokens: int
    until: float  # time.monotonic() after which what is left is dropped


class WriteLimiter:
    def __init__(self, engine: AsyncEngine, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.lease = lease_size(rate, self.burst)
        self._leases: dict[str, _Lease] = {}
        self._refilling: dict[str, asyncio.Lock] = {}
        # One statement, committed on its own: no BEGIN/COMMIT round trips around it.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def take(self, holder: str) -> None:
        """Count one write by ``holder`` (a token's name); RateLimited when over, and
        StoreUnavailable when the database cannot be reached. A rate of 0 is no limit and
        no round trip."""
        if self.rate <= 0:
            return
        if self.lease > 1:
            if self._spend(holder):  # most writes at a high rate: no lock, no round trip
                return
            refilling = self._refilling.get(holder)
            if refilling is None:
                refilling = self._refilling[holder] = asyncio.Lock()
            async with refilling:
                # One coroutine at a time refills a holder's lease; the others then spend
                # it rather than each taking a lease of its own.
                if self._spend(holder):
                    return
                if await self._take(holder, self.lease) is None:
                    self._leases[holder] = _Lease(self.lease - 1,
                                                  time.monotonic() + LEASE_SECONDS)
                    return
        tokens = await self._take(holder, 1)  # low rates, or near the limit: one, exactly
        if tokens is None:
            return
        # Refused: the bucket holds less than one token, so the wait is at most 1 / rate
        # (also when the row was inserted by a writer this statement could not yet see).
        tokens = min(max(tokens, 0.0), 1.0)
        wait = max(math.ceil((1 - tokens) / self.rate * 1000) / 1000, 0.001)
        raise RateLimited(f"token {holder!r} is over its write rate of {self.rate:g} "
                          f"a second; nothing was stored, retry in {wait:g} s")

    def _spend(self, holder: str) -> bool:
        lease = self._leases.get(holder)
        if lease is None or lease.tokens <= 0 or time.monotonic() >= lease.until:
            return False
        lease.tokens -= 1
        return True

    async def _take(self, holder: str, want: int) -> float | None:
        """Take ``want`` tokens from the shared bucket: None when taken, else the tokens
        the bucket held (fewer than ``want``)."""
        params = {"holder": holder, "rate": self.rate, "burst": self.burst, "want": want}
        try:
            async with self.engine.connect() as connection:
                row = (await connection.execute(text(_TAKE), params)).one()
        except Exception as e:
            if is_unavailable(e):
                raise StoreUnavailable("the event store is unavailable; nothing was stored, "
                                       "retry") from e
            raise
        if row.taken:
            return None
        return float(row.tokens) if row.tokens is not None else 0.0
