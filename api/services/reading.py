"""The read service: one timeline as a read sees it, the present (read model) or a past
moment (its kept history).

Every delivery (GraphQL types, the embed, the exports) talks only to a ``TimelineView``, so
whatever it shows honours the ``asOf``/``axis`` it was asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from inspect import isawaitable
from typing import Protocol, TypeAlias, TypeVar, cast

from strawberry.dataloader import DataLoader

from events.as_of import Axis, Moment
from events.fact_history import FactVersion, history
from events.history_index import TimelineHistory
from events.postgres.read_model import ReadModel
from events.postgres.store import PostgresEventStore
from events.rows import (
    EntryCursor,
    EntryPage,
    EntryRow,
    FactRow,
    ReportRow,
    SourceRow,
    TimelineRow,
)

T = TypeVar("T")
U = TypeVar("U")
# A value at hand, or one still to be awaited (what a GraphQL resolver may return).
AwaitableOrValue: TypeAlias = T | Awaitable[T]


class TimelineView(Protocol):
    slug: str
    moment: Moment

    async def row(self) -> TimelineRow | None: ...

    async def entries(self, first: int, after: EntryCursor | None,
                      occurred_from: datetime | None,
                      occurred_to: datetime | None) -> EntryPage: ...

    async def entry(self, entry_id: str) -> EntryRow | None: ...

    async def reports(self, entry_id: str) -> list[ReportRow]: ...

    def facts(self, entry_id: str) -> AwaitableOrValue[list[FactRow]]:
        """The entry's facts: at once when the view holds them, else a batched load."""

    async def fetch_facts(self, entry_ids: list[str]) -> None:
        """Have these entries' facts at hand, so that ``facts`` answers them at once."""

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]: ...

    async def sources(self) -> dict[str, SourceRow]: ...


class PresentView:
    """The read model as committed. Facts and reports go through DataLoaders, so a page of
    entries costs one query for all their facts and one for all their reports. Facts can
    also be fetched ahead (``fetch_facts``), so that an entry's fields then answer without
    awaiting, which costs the executor far more than the load itself."""

    def __init__(self, read_model: ReadModel, store: PostgresEventStore, slug: str) -> None:
        self.read_model = read_model
        self.store = store
        self.slug = slug
        self.moment = Moment()
        self._facts = DataLoader(load_fn=self._load_facts)
        self._facts_held: dict[str, list[FactRow]] = {}
        self._reports = DataLoader(load_fn=self._load_reports)
        self._sources: asyncio.Future[dict[str, SourceRow]] | None = None

    async def row(self) -> TimelineRow | None:
        return await self.read_model.timeline(self.slug)

    async def entries(self, first: int, after: EntryCursor | None,
                      occurred_from: datetime | None,
                      occurred_to: datetime | None) -> EntryPage:
        return await self.read_model.entries(self.slug, first, after, occurred_from,
                                             occurred_to)

    async def entry(self, entry_id: str) -> EntryRow | None:
        row = await self.read_model.entry(self.slug, entry_id)
        if row is not None and row.merged_into is not None:
            row = await self.read_model.entry(self.slug, row.merged_into)
        return row

    def facts(self, entry_id: str) -> AwaitableOrValue[list[FactRow]]:
        held = self._facts_held.get(entry_id)
        return held if held is not None else self._facts.load(entry_id)

    async def fetch_facts(self, entry_ids: list[str]) -> None:
        wanted = [e for e in entry_ids if e not in self._facts_held]
        if not wanted:
            return
        found: dict[str, list[FactRow]] = {e: [] for e in wanted}
        for fact in await self.read_model.facts(self.slug, wanted):
            found[fact.entry].append(fact)
        self._facts_held.update(found)

    async def reports(self, entry_id: str) -> list[ReportRow]:
        return await self._reports.load(entry_id)

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]:
        return history(await self.store.read_timeline_world(self.slug), self.slug, entry_id,
                       attribute)

    async def sources(self) -> dict[str, SourceRow]:
        """Every source, loaded once per view however many reports ask at the same time
        (a newsroom has tens, not millions)."""
        if self._sources is None:
            self._sources = asyncio.ensure_future(self._load_sources())
        return await self._sources

    async def _load_sources(self) -> dict[str, SourceRow]:
        return {s.id: s for s in await self.read_model.sources()}

    async def _load_facts(self, entry_ids: list[str]) -> list[list[FactRow]]:
        found: dict[str, list[FactRow]] = {e: [] for e in entry_ids}
        for fact in await self.read_model.facts(self.slug, entry_ids):
            found[fact.entry].append(fact)
        return [found[e] for e in entry_ids]

    async def _load_reports(self, entry_ids: list[str]) -> list[list[ReportRow]]:
        found: dict[str, list[ReportRow]] = {e: [] for e in entry_ids}
        merged = await self.read_model.merged_into(self.slug, entry_ids)
        for report in await self.read_model.reports(self.slug, entry_ids=entry_ids):
            found[merged.get(report.entry, report.entry)].append(report)
        return [found[e] for e in entry_ids]


class SnapshotView:
    """The timeline at a past moment, from its kept history (no replay per request)."""

    def __init__(self, history: TimelineHistory, store: PostgresEventStore, as_of: datetime,
                 axis: Axis) -> None:
        self.store = store
        self.slug = history.slug
        self.as_of = as_of
        self.axis = axis
        self.moment = Moment(as_of, axis)
        self.snapshot = (history.at_recorded(as_of) if axis is Axis.RECORDED
                         else history.at_reported(as_of))

    async def row(self) -> TimelineRow | None:
        return self.snapshot.timeline

    async def entries(self, first: int, after: EntryCursor | None,
                      occurred_from: datetime | None,
                      occurred_to: datetime | None) -> EntryPage:
        return page_of(self.snapshot.entries, first, after, occurred_from, occurred_to)

    async def entry(self, entry_id: str) -> EntryRow | None:
        wanted = self.snapshot.survivors.get(entry_id, entry_id)
        return next((row for row in self.snapshot.entries if row.id == wanted), None)

    def facts(self, entry_id: str) -> AwaitableOrValue[list[FactRow]]:
        return self.snapshot.facts.get(entry_id, [])

    async def fetch_facts(self, entry_ids: list[str]) -> None:
        """Every fact of the snapshot is at hand already."""

    async def reports(self, entry_id: str) -> list[ReportRow]:
        return self.snapshot.reports(entry_id)

    async def sources(self) -> dict[str, SourceRow]:
        return self.snapshot.sources

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]:
        envelopes = await self.store.read_timeline_world(
            self.slug, recorded_until=self.as_of if self.axis is Axis.RECORDED else None)
        return history(envelopes, self.slug, entry_id, attribute, self.axis, self.as_of)


def then(value: AwaitableOrValue[T], finish: Callable[[T], U]) -> AwaitableOrValue[U]:
    """``finish(value)``: at once when the value is at hand, else once it arrives. A
    resolver that returns no coroutine costs graphql-core no task, which adds up over the
    thousand facts of a timeline read as of a past moment."""
    if isawaitable(value):
        async def later() -> U:
            return finish(await cast(Awaitable[T], value))
        return later()
    return finish(value)


async def settled(value: AwaitableOrValue[T]) -> T:
    return await value if isawaitable(value) else value


def page_of(rows: list[EntryRow], first: int, after: EntryCursor | None,
            occurred_from: datetime | None, occurred_to: datetime | None) -> EntryPage:
    """The same ordering and keyset paging as the read model's, over rows in memory."""
    if occurred_from is not None:
        rows = [r for r in rows if r.occurred_start and r.occurred_start >= occurred_from]
    if occurred_to is not None:
        rows = [r for r in rows if r.occurred_start and r.occurred_start < occurred_to]
    rows = sorted(rows, key=_sort_key)
    total = len(rows)
    if after is not None:
        rows = [r for r in rows if _sort_key(r) > _cursor_key(after)]
    return EntryPage(rows[:first], len(rows) > first, total)


_FAR_FUTURE = datetime.max.replace(tzinfo=None)


def _sort_key(row: EntryRow) -> tuple[datetime, int]:
    return _cursor_key((row.occurred_start, row.position))


def _cursor_key(cursor: EntryCursor) -> tuple[datetime, int]:
    """The read model's order: by ``coalesce(occurred_start, 'infinity')``, then position.
    Undated entries come last; the last instant a datetime has (9999-12-31T23:59:59.999999Z)
    is stored as that same infinity (asyncpg writes it so), so an entry that starts then is
    ordered among them."""
    start, position = cursor
    return (start.replace(tzinfo=None) if start else _FAR_FUTURE, position)
