"""One contract, two stores: the in-memory store and PostgreSQL must behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from api.database import create_engine
from api.settings import Settings
from events.appender import Appender, BatchRefused, StoreFailure
from events.chain import verify_chain
from events.commands import (
    Command,
    CreateTimeline,
    OpenEntry,
    RegisterSource,
    ReportFact,
    Submission,
)
from events.errors import Conflict, NotFound, StoreUnavailable
from events.memory import MemoryEventStore
from events.ports import EventStore
from events.postgres.projection import PostgresProjection
from events.postgres.store import PostgresEventStore
from events.values import Count, Text
from events.vocabulary import SourceKind, Stance
from tests.databases import Databases

REPORTED = datetime(2018, 2, 13, 15, tzinfo=UTC)


@pytest.fixture(params=["memory", "postgres"])
async def appender(request: pytest.FixtureRequest,
                   databases: Databases) -> AsyncIterator[Appender]:
    if request.param == "memory":
        store: EventStore = MemoryEventStore()
        writer = Appender(store)
        yield writer
        await writer.close()
        return
    url = await databases.fresh()
    engine = create_engine(Settings(database_url=url))
    writer = Appender(PostgresEventStore(engine, PostgresProjection()))
    yield writer
    await writer.close()
    await engine.dispose()


def report(n: int) -> ReportFact:
    return ReportFact(timeline="t", entry="e", attribute="killed", value=Count(best=n),
                      source="s", stance=Stance.CLAIMED, reported_at=REPORTED)


SETUP: list[Command] = [CreateTimeline("t", "T"), RegisterSource("s", "S", SourceKind.MEDIA),
                        OpenEntry("t", "E", id="e")]


async def setup(appender: Appender) -> None:
    for command in SETUP:
        await appender.submit(command, actor="desk")


async def test_concurrent_appends_get_gapless_positions_and_a_valid_chain(
        appender: Appender) -> None:
    await setup(appender)
    results = await asyncio.gather(*(appender.submit(report(i), actor="desk")
                                     for i in range(40)))
    positions = sorted(r.envelope.position for r in results)
    assert positions == list(range(4, 44))
    log = await appender.store.read(limit=100)
    assert [e.position for e in log] == list(range(1, 44))
    assert verify_chain(log).ok
    assert max(appender.batch_sizes) > 1, "concurrent appends should share a commit"
    recorded = [e.recorded_at for e in log]
    assert recorded == sorted(recorded)


async def test_a_retry_with_the_same_key_returns_the_first_result(appender: Appender) -> None:
    await setup(appender)
    first = await appender.submit(report(5), actor="desk", idempotency_key="k1")
    again = await appender.submit(report(5), actor="desk", idempotency_key="k1")
    assert again.envelope == first.envelope and again.replayed
    assert len(await appender.store.read()) == 4
    with pytest.raises(Conflict, match="another command"):
        await appender.submit(report(200), actor="desk", idempotency_key="k1")
    twins = await asyncio.gather(*(appender.submit(report(7), actor="desk",
                                                   idempotency_key="k2") for _ in range(5)))
    assert len({t.envelope.position for t in twins}) == 1
    assert len(await appender.store.read()) == 5


async def test_expected_version_guards_the_stream(appender: Appender) -> None:
    await setup(appender)
    await appender.submit(report(1), actor="desk", expected_version=2)
    with pytest.raises(Conflict, match="version 3, not the expected 2"):
        await appender.submit(report(2), actor="desk", expected_version=2)
    assert len(await appender.store.read()) == 4


async def test_a_refused_command_fails_alone(appender: Appender) -> None:
    await setup(appender)
    bad = ReportFact(timeline="t", entry="ghost", attribute="killed", value=Count(best=1),
                     source="s", stance=Stance.CLAIMED, reported_at=REPORTED)
    outcomes = await asyncio.gather(appender.submit(report(1), actor="desk"),
                                    appender.submit(bad, actor="desk"),
                                    appender.submit(report(2), actor="desk"),
                                    return_exceptions=True)
    assert isinstance(outcomes[1], NotFound)
    assert len(await appender.store.read()) == 5


def report_saying(text: str) -> ReportFact:
    """A report built past the gate (which refuses such text), as a bug upstream might."""
    return ReportFact(timeline="t", entry="e", attribute="said", value=Text(text),
                      source="s", stance=Stance.CLAIMED, reported_at=REPORTED)


async def test_a_command_the_store_cannot_take_fails_alone_in_its_batch(
        appender: Appender) -> None:
    await setup(appender)
    unstorable = ["\ud800 lone surrogate"]  # fails hashing, before the database
    if isinstance(appender.store, PostgresEventStore):
        unstorable.append("NUL \x00 inside")  # jsonb refuses it at the insert
    good = [appender.submit(report(n), actor="desk") for n in range(40)]
    bad = [appender.submit(report_saying(text), actor="desk")
           for text in unstorable for _ in range(3)]
    outcomes = await asyncio.gather(*good[:20], *bad, *good[20:], return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == len(bad)
    assert all(isinstance(f, StoreFailure) for f in failed), failed
    stored = await appender.store.read()
    assert len(stored) == len(SETUP) + len(good)
    assert verify_chain(stored).ok
    assert max(appender.batch_sizes) > 1  # they really were batched together


async def test_append_all_stores_everything_or_nothing(appender: Appender) -> None:
    submissions = [Submission(c) for c in SETUP] + [
        Submission(report(1)), Submission(OpenEntry("t", "E", id="e")), Submission(report(2))]
    with pytest.raises(BatchRefused) as caught:
        await appender.append_all(submissions, actor="import")
    assert caught.value.index == 4 and isinstance(caught.value.error, Conflict)
    assert await appender.store.read() == []
    stored = await appender.append_all([Submission(c) for c in SETUP], actor="import")
    assert stored == 3
    await appender.submit(report(3), actor="desk")
    assert [e.position for e in await appender.store.read()] == [1, 2, 3, 4]


async def test_a_failed_commit_stores_nothing_and_forgets_its_state() -> None:
    store = MemoryEventStore()
    appender = Appender(store)
    await setup(appender)
    store.fail_next_write = ConnectionError("database went away")
    with pytest.raises(StoreUnavailable):
        await appender.submit(OpenEntry("t", "Second", id="e2"), actor="desk")
    assert len(store.log) == 3
    # The uncommitted entry must not linger in the cached state.
    with pytest.raises(NotFound):
        await appender.submit(ReportFact(timeline="t", entry="e2", attribute="killed",
                                         value=Count(best=1), source="s",
                                         stance=Stance.CLAIMED, reported_at=REPORTED),
                              actor="desk")
    await appender.submit(OpenEntry("t", "Second", id="e2"), actor="desk")
    assert verify_chain(store.log).ok
    await appender.close()
