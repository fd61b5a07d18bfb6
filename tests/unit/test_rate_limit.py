"""The write limiter: a bucket per token, refilled at its rate, never over its burst."""

from __future__ import annotations

import pytest

from api.services.rate_limit import RateLimited, WriteLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = WriteLimiter(rate=2, burst=3, clock=clock)
    for _ in range(3):
        limiter.take("desk")
    with pytest.raises(RateLimited, match=r"retry in 0\.5 s"):
        limiter.take("desk")
    limiter.take("other desk")  # each token has its own bucket
    clock.now = 0.5
    limiter.take("desk")
    with pytest.raises(RateLimited):
        limiter.take("desk")
    clock.now = 100.0  # a long pause refills to the burst, no further
    for _ in range(3):
        limiter.take("desk")
    with pytest.raises(RateLimited):
        limiter.take("desk")


def test_a_rate_of_zero_is_no_limit() -> None:
    limiter = WriteLimiter(rate=0, burst=1, clock=Clock())
    for _ in range(1000):
        limiter.take("desk")
