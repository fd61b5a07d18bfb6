"""The event store contract: what the appender may rely on from any adapter of the ports.

``StoreContract`` holds the tests; each adapter's test module subclasses it and provides a
``store`` fixture (a fresh, empty ``EventStore``):

- tests/unit/test_store_contract_memory.py runs them on ``MemoryEventStore``, no database;
- tests/integration/test_store_contract_postgres.py runs them on ``PostgresEventStore``.

Every test here runs against both. What only one adapter can show (the memory store's own
failure hook, what PostgreSQL refuses that memory takes) stays in that adapter's module.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest

from events.appender import Appender, BatchRefused, StoreFailure
from events.chain import Envelope, verify_chain
from events.commands import (
    Command,
    CreateTimeline,
    OpenEntry,
    RegisterSource,
    ReportFact,
    Submission,
)
from events.errors import Conflict, NotFound, StoreUnavailable
from events.ports import AppendSession, EventStore
from events.values import Count, Text
from events.vocabulary import SourceKind, Stance

REPORTED = datetime(2018, 2, 13, 15, tzinfo=UTC)

SETUP: list[Command] = [CreateTimeline("t", "T"), RegisterSource("s", "S", SourceKind.MEDIA),
                        OpenEntry("t", "E", id="e")]


def report(n: int, entry: str = "e") -> ReportFact:
    return ReportFact(timeline="t", entry=entry, attribute="killed", value=Count(best=n),
                      source="s", stance=Stance.CLAIMED, reported_at=REPORTED)


def report_saying(text: str) -> ReportFact:
    """A report built past the gate (which refuses such text), as a bug upstream might."""
    return ReportFact(timeline="t", entry="e", attribute="said", value=Text(text),
                      source="s", stance=Stance.CLAIMED, reported_at=REPORTED)


async def setup(appender: Appender) -> None:
    for command in SETUP:
        await appender.submit(command, actor="desk")


class FailingCommits:
    """Any store, whose next session fails where it would commit, after the batch was
    written and projected: the adapter itself has to take the writes back."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.fail_next_commit = False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AppendSession]:
        async with self.store.session() as session:
            yield session
            if self.fail_next_commit:
                self.fail_next_commit = False
                raise StoreUnavailable("the event store is unavailable") from ConnectionError(
                    "the database went away at the commit")

    async def read(self, after: int = 0, limit: int = 1000) -> list[Envelope]:
        return await self.store.read(after, limit)

    async def read_stream(self, stream: str) -> list[Envelope]:
        return await self.store.read_stream(stream)


class StoreContract:
    """The contract tests. Subclasses provide the ``store`` fixture, and may name commands
    their store cannot take (``UNSTORABLE_TEXTS``, beyond what no store can hash)."""

    UNSTORABLE_TEXTS: Sequence[str] = ()

    @pytest.fixture
    async def appender(self, store: EventStore) -> AsyncIterator[Appender]:
        writer = Appender(store)
        yield writer
        await writer.close()

    async def test_concurrent_appends_get_gapless_positions_and_a_valid_chain(
            self, appender: Appender) -> None:
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
        assert recorded == sorted(recorded), "recorded_at went backwards along positions"

    async def test_reads_page_by_position_and_by_stream(self, appender: Appender) -> None:
        await setup(appender)
        await appender.submit(report(1), actor="desk")
        store = appender.store
        assert [e.position for e in await store.read(after=1, limit=2)] == [2, 3]
        assert [e.position for e in await store.read(after=4)] == []
        timeline = await store.read_stream("timeline:t")
        assert [(e.position, e.version, e.type) for e in timeline] == [
            (1, 1, "TimelineCreated"), (3, 2, "EntryOpened"), (4, 3, "FactReported")]
        assert [e.position for e in await store.read_stream("source:s")] == [2]
        assert await store.read_stream("timeline:nowhere") == []
        assert await store.read() == sorted(
            [*timeline, *await store.read_stream("source:s")], key=lambda e: e.position)

    async def test_a_retry_with_the_same_key_returns_the_first_result(
            self, appender: Appender) -> None:
        await setup(appender)
        first = await appender.submit(report(5), actor="desk", idempotency_key="k1")
        again = await appender.submit(report(5), actor="desk", idempotency_key="k1")
        assert again.envelope == first.envelope and again.replayed
        assert len(await appender.store.read()) == 4
        with pytest.raises(Conflict, match="another command"):
            await appender.submit(report(200), actor="desk", idempotency_key="k1")
        twins = await asyncio.gather(*(appender.submit(report(7), actor="desk",
                                                       idempotency_key="k2")
                                       for _ in range(5)))
        assert len({t.envelope.position for t in twins}) == 1
        assert len(await appender.store.read()) == 5

    async def test_a_key_is_remembered_by_the_store_not_only_by_the_appender(
            self, appender: Appender, store: EventStore) -> None:
        await setup(appender)
        first = await appender.submit(report(5), actor="desk", idempotency_key="k1")
        other = Appender(store)  # another process: nothing of the first one's in memory
        try:
            again = await other.submit(report(5), actor="desk", idempotency_key="k1")
            assert again.replayed and again.envelope == first.envelope
            with pytest.raises(Conflict, match="another command"):
                await other.submit(report(6), actor="desk", idempotency_key="k1")
        finally:
            await other.close()
        assert len(await store.read()) == 4

    async def test_expected_version_guards_the_stream(self, appender: Appender) -> None:
        await setup(appender)
        await appender.submit(report(1), actor="desk", expected_version=2)
        with pytest.raises(Conflict, match="version 3, not the expected 2"):
            await appender.submit(report(2), actor="desk", expected_version=2)
        assert len(await appender.store.read()) == 4

    async def test_a_refused_command_fails_alone(self, appender: Appender) -> None:
        await setup(appender)
        outcomes = await asyncio.gather(appender.submit(report(1), actor="desk"),
                                        appender.submit(report(1, entry="ghost"),
                                                        actor="desk"),
                                        appender.submit(report(2), actor="desk"),
                                        return_exceptions=True)
        assert isinstance(outcomes[1], NotFound)
        assert len(await appender.store.read()) == 5

    async def test_a_command_the_store_cannot_take_fails_alone_in_its_batch(
            self, appender: Appender) -> None:
        await setup(appender)
        # A lone surrogate fails hashing, before any store; subclasses add their own.
        unstorable = ["\ud800 lone surrogate", *self.UNSTORABLE_TEXTS]
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

    async def test_append_all_stores_everything_or_nothing(self, appender: Appender) -> None:
        submissions = [Submission(c) for c in SETUP] + [
            Submission(report(1)), Submission(OpenEntry("t", "E", id="e")),
            Submission(report(2))]
        with pytest.raises(BatchRefused) as caught:
            await appender.append_all(submissions, actor="import")
        assert caught.value.index == 4 and isinstance(caught.value.error, Conflict)
        assert await appender.store.read() == []
        stored = await appender.append_all([Submission(c) for c in SETUP], actor="import")
        assert stored == 3
        await appender.submit(report(3), actor="desk")
        assert [e.position for e in await appender.store.read()] == [1, 2, 3, 4]

    async def test_a_failed_commit_stores_nothing_and_forgets_its_state(
            self, store: EventStore) -> None:
        failing = FailingCommits(store)
        appender = Appender(failing)
        try:
            await setup(appender)
            failing.fail_next_commit = True
            with pytest.raises(StoreUnavailable):
                await appender.submit(OpenEntry("t", "Second", id="e2"), actor="desk",
                                      idempotency_key="open-e2")
            assert len(await store.read()) == len(SETUP)
            # The uncommitted entry must not linger in the appender's cached state.
            with pytest.raises(NotFound):
                await appender.submit(report(1, entry="e2"), actor="desk")
            # Nor its key in the store: the retry the error asks for is stored, not replayed.
            retried = await appender.submit(OpenEntry("t", "Second", id="e2"), actor="desk",
                                            idempotency_key="open-e2")
            assert not retried.replayed and retried.envelope.position == len(SETUP) + 1
        finally:
            await appender.close()
        log = await store.read()
        assert len(log) == len(SETUP) + 1 and verify_chain(log).ok

    async def test_two_appenders_on_one_store_interleave_without_gaps(
            self, store: EventStore) -> None:
        # Two appenders with separate caches stand in for two API processes.
        first, second = Appender(store), Appender(store)
        try:
            await first.submit(CreateTimeline("t", "T"), actor="a")
            await second.submit(OpenEntry("t", "From the second", id="b0"), actor="b")
            await asyncio.gather(
                *(first.submit(OpenEntry("t", f"a{i}", id=f"a{i}"), actor="a")
                  for i in range(20)),
                *(second.submit(OpenEntry("t", f"b{i}", id=f"b{i + 1}"), actor="b")
                  for i in range(20)))
            # The first one's cache must catch up with the second's entries before deciding.
            with pytest.raises(Conflict, match="already exists"):
                await first.submit(OpenEntry("t", "dup", id="b5"), actor="a")
        finally:
            await first.close()
            await second.close()
        log = await store.read(limit=100)
        assert [e.position for e in log] == list(range(1, 43))
        assert [e.version for e in log] == list(range(1, 43))
        assert verify_chain(log).ok
