"""A write rate limit per token: a token bucket each, refilled at ``rate`` writes a second
up to ``burst``. A runaway script with one newsroom's token cannot starve everyone else's
writes; bulk loads go through ``chronicle import``, which is not limited.

The buckets live in PostgreSQL (``write_buckets``), so the limit is one budget for the whole
deployment, however many worker processes and hosts share the database. Each write costs
one statement (``_TAKE``), atomic on its own:

- the clock is the database's (``clock_timestamp()``, read once per statement), so hosts
  whose clocks disagree still share one timeline;
- a holder seen for the first time is inserted with a full bucket less this write;
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

import math

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
    SELECT :holder, CAST(:burst AS float8) - 1, now.t FROM now
    ON CONFLICT (holder) DO UPDATE
        SET tokens = {_ON_CONFLICT} - 1,
            at = greatest(b.at, excluded.at)
        WHERE {_ON_CONFLICT} >= 1
    RETURNING b.holder
)
SELECT EXISTS (SELECT FROM taken) AS taken,
       (SELECT {_AS_FOUND}
        FROM write_buckets w WHERE w.holder = :holder) AS tokens
FROM now
"""  # noqa: S608


class WriteLimiter:
    def __init__(self, engine: AsyncEngine, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        # One statement, committed on its own: no BEGIN/COMMIT round trips around it.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def take(self, holder: str) -> None:
        """Count one write by ``holder`` (a token's name); RateLimited when over, and
        StoreUnavailable when the database cannot be reached. A rate of 0 is no limit and
        no round trip."""
        if self.rate <= 0:
            return
        params = {"holder": holder, "rate": self.rate, "burst": self.burst}
        try:
            async with self.engine.connect() as connection:
                row = (await connection.execute(text(_TAKE), params)).one()
        except Exception as e:
            if is_unavailable(e):
                raise StoreUnavailable("the event store is unavailable; nothing was stored, "
                                       "retry") from e
            raise
        if row.taken:
            return
        # Refused: the bucket holds less than one token, so the wait is at most 1 / rate
        # (also when the row was inserted by a writer this statement could not yet see).
        tokens = min(max(row.tokens if row.tokens is not None else 0.0, 0.0), 1.0)
        wait = max(math.ceil((1 - tokens) / self.rate * 1000) / 1000, 0.001)
        raise RateLimited(f"token {holder!r} is over its write rate of {self.rate:g} "
                          f"a second; nothing was stored, retry in {wait:g} s")
