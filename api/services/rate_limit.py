"""A write rate limit per token: a token bucket each, refilled at ``rate`` writes a second
up to ``burst``. A runaway script with one newsroom's token cannot starve everyone else's
writes; bulk loads go through ``chronicle import``, which is not limited."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from events.errors import DomainError


class RateLimited(DomainError):
    """Too many writes with one token; nothing was stored."""


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class WriteLimiter:
    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, holder: str) -> None:
        """Count one write by ``holder`` (a token's name); RateLimited when over."""
        if self.rate <= 0:
            return
        now = self.clock()
        bucket = self._buckets.setdefault(holder, _Bucket(float(self.burst), now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate * 1000) / 1000
            raise RateLimited(f"token {holder!r} is over its write rate of {self.rate:g} "
                              f"a second; nothing was stored, retry in {wait:g} s")
        bucket.tokens -= 1
