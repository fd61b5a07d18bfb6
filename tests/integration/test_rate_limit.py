"""The write limiter: a bucket per token, kept in PostgreSQL, refilled at its rate by the
database's clock, never over its burst, and one budget for every process that shares the
database."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.database import create_engine
from api.services import rate_limit
from api.services.rate_limit import RateLimited, WriteLimiter, lease_size
from api.settings import Settings
from events.errors import StoreUnavailable
from tests.integration.conftest import running_api


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database, as two worker processes (or hosts) would have."""
    first = create_engine(Settings(database_url=database_url))
    second = create_engine(Settings(database_url=database_url))
    yield first, second
    await first.dispose()
    await second.dispose()


@pytest.fixture
def engine(engines: tuple[AsyncEngine, AsyncEngine]) -> AsyncEngine:
    return engines[0]


async def execute(engine: AsyncEngine, sql: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(sql))


async def taken(limiter: WriteLimiter, holder: str) -> bool:
    try:
        await limiter.take(holder)
    except RateLimited:
        return False
    return True


def retry_in(error: pytest.ExceptionInfo[RateLimited]) -> float:
    found = re.search(r"retry in ([0-9.e+]+) s$", str(error.value))
    assert found is not None, str(error.value)
    return float(found[1])


async def test_a_burst_then_refusal(engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=2, burst=3)
    for _ in range(3):
        await limiter.take("desk")
    with pytest.raises(RateLimited, match=r"^token 'desk' is over its write rate of 2 a "
                                          r"second; nothing was stored, retry in") as refused:
        await limiter.take("desk")
    assert 0 < retry_in(refused) <= 0.5  # at most one token's worth at 2 a second


async def test_the_wait_is_what_the_bucket_lacks_of_one_token(engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=2, burst=3)
    await limiter.take("desk")
    # Three quarters of a token, stamped ahead of the clock so that nothing refills before
    # the next take (a clock that steps back refills nothing, and takes nothing either).
    await execute(engine, "UPDATE write_buckets SET tokens = 0.75, "
                          "at = clock_timestamp() + interval '1 hour'")
    with pytest.raises(RateLimited) as refused:
        await limiter.take("desk")
    assert retry_in(refused) == 0.125
    assert await tokens(engine, "desk") == 0.75  # a refusal takes nothing


async def tokens(engine: AsyncEngine, holder: str) -> float:
    async with engine.connect() as connection:
        return float((await connection.execute(
            text("SELECT tokens FROM write_buckets WHERE holder = :holder"),
            {"holder": holder})).scalar_one())


async def test_the_bucket_refills_by_the_time_passed_up_to_the_burst(
        engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=0.01, burst=3)  # a token every 100 s
    for _ in range(3):
        await limiter.take("desk")
    assert not await taken(limiter, "desk")
    # 150 s ago in the database's clock: one and a half tokens came back.
    await execute(engine, "UPDATE write_buckets SET at = at - interval '150 seconds'")
    assert await taken(limiter, "desk")
    assert not await taken(limiter, "desk")
    # A day's pause refills to the burst, no further.
    await execute(engine, "UPDATE write_buckets SET at = at - interval '1 day'")
    assert [await taken(limiter, "desk") for _ in range(4)] == [True, True, True, False]


async def test_the_database_clock_refills_while_time_passes(engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=50, burst=1)  # a token every 20 ms
    await limiter.take("desk")
    await execute(engine, "UPDATE write_buckets SET tokens = 0")  # as if just refused
    await asyncio.sleep(0.1)
    await limiter.take("desk")


async def test_each_token_has_its_own_bucket(engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=0.01, burst=2)
    await limiter.take("desk")
    await limiter.take("desk")
    assert not await taken(limiter, "desk")
    assert await taken(limiter, "other desk")
    assert await taken(limiter, "other desk")
    assert not await taken(limiter, "other desk")


async def test_a_rate_of_zero_is_no_limit_and_no_round_trip(engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=0, burst=1)
    for _ in range(100):
        await limiter.take("desk")
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM write_buckets"))
                ).scalar_one() == 0
    nowhere = create_engine(Settings(database_url="postgresql://postgres@127.0.0.1:1/none"))
    try:
        await WriteLimiter(nowhere, rate=0, burst=1).take("desk")
    finally:
        await nowhere.dispose()


async def test_an_unreachable_database_is_unavailable_not_an_internal_error() -> None:
    nowhere = create_engine(Settings(database_url="postgresql://postgres@127.0.0.1:1/none"))
    try:
        with pytest.raises(StoreUnavailable, match="nothing was stored"):
            await WriteLimiter(nowhere, rate=1, burst=1).take("desk")
    finally:
        await nowhere.dispose()


async def test_two_processes_share_one_budget(
        engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    first, second = (WriteLimiter(e, rate=0.001, burst=3) for e in engines)
    await first.take("desk")
    await second.take("desk")
    await first.take("desk")
    assert not await taken(second, "desk")
    assert not await taken(first, "desk")


@pytest.mark.parametrize("fresh", [True, False], ids=["new holder", "known holder"])
async def test_concurrent_writers_in_two_processes_take_exactly_the_burst(
        engines: tuple[AsyncEngine, AsyncEngine], fresh: bool) -> None:
    burst = 10
    limiters = [WriteLimiter(e, rate=0.001, burst=burst) for e in engines]
    if not fresh:  # the row exists, refilled to the burst
        await limiters[0].take("desk")
        await execute(engines[0], "UPDATE write_buckets SET at = at - interval '1 year'")
    outcomes = await asyncio.gather(*(taken(limiters[i % 2], "desk") for i in range(60)))
    assert outcomes.count(True) == burst


async def test_two_api_processes_refuse_writes_over_the_shared_rate(
        database_url: str) -> None:
    settings = Settings(database_url=database_url, migrate_on_start=False, write_rate=0.01,
                        write_burst=3)
    async with running_api(settings) as one, running_api(settings) as other:
        assert one.services.engine is not other.services.engine
        await one.ok("createTimeline", {"slug": "a", "title": "A"})
        await other.ok("createTimeline", {"slug": "b", "title": "B"})
        await one.ok("createTimeline", {"slug": "c", "title": "C"})
        refused = await other.mutate("createTimeline", {"slug": "d", "title": "D"})
        error = refused["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "'tester' is over its write rate of 0.01 a second" in error["message"]
        assert await one.event_count() == 3


@pytest.mark.parametrize(("rate", "burst", "lease"), [
    (2, 3, 1), (50, 10, 1), (500, 1000, 50), (10_000, 200, 20), (0.5, 1, 1)])
def test_a_lease_is_exact_at_low_rates_and_a_tenth_of_a_second_at_high_ones(
        rate: float, burst: int, lease: int) -> None:
    assert lease_size(rate, burst) == lease


async def test_a_leased_token_is_spent_locally_and_never_beyond_the_lease(
        engine: AsyncEngine) -> None:
    limiter = WriteLimiter(engine, rate=500, burst=1000)
    await limiter.take("desk")  # takes a lease of 50 from the shared bucket
    await execute(engine, "UPDATE write_buckets SET tokens = 0, at = clock_timestamp() "
                          "+ interval '1 hour' WHERE holder = 'desk'")
    assert [await taken(limiter, "desk") for _ in range(50)] == [True] * 49 + [False]


async def test_a_lease_left_unspent_is_dropped_when_it_ends(
        engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "LEASE_SECONDS", 0.05)
    limiter = WriteLimiter(engine, rate=500, burst=1000)
    await limiter.take("desk")
    await execute(engine, "UPDATE write_buckets SET tokens = 0, at = clock_timestamp() "
                          "+ interval '1 hour' WHERE holder = 'desk'")
    await asyncio.sleep(0.06)
    assert not await taken(limiter, "desk")


async def test_leases_never_let_a_deployment_write_past_its_budget(
        engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    """Two processes at a high rate: at most the burst gets through, however the leases
    fall, and at most one unspent lease each is lost."""
    limiters = [WriteLimiter(engine, rate=1000, burst=400) for engine in engines]
    await execute(engines[0], "INSERT INTO write_buckets VALUES ('desk', 400, "
                              "clock_timestamp() + interval '1 hour')")
    outcomes = await asyncio.gather(*(taken(limiters[i % 2], "desk") for i in range(1200)))
    assert 400 - 2 * limiters[0].lease <= sum(outcomes) <= 400
