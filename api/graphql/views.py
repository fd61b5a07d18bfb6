"""One timeline as a read sees it: the present (read model) or a past moment (replayed).

GraphQL types only talk to a ``TimelineView``, so every field honours the ``asOf``/``axis``
of the enclosing ``timeline(...)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from strawberry.dataloader import DataLoader

from events.as_of import Axis, fold
from events.chain import Envelope
from events.fact_history import FactVersion, history
from events.history_index import TimelineHistory
from events.policy import fact_document, occurred_start
from events.read_model import ReadModel
from events.reducer import EntryState
from events.rows import (
    EntryCursor,
    EntryPage,
    EntryRow,
    FactRow,
    ReportRow,
    SourceRow,
    TimelineRow,
    report_row,
    source_row,
)
from events.store import PostgresEventStore
from events.timeline_facts import fact_of, facts_of_entry, source_info


class TimelineView(Protocol):
    slug: str

    async def row(self) -> TimelineRow | None: ...

    async def entries(self, first: int, after: EntryCursor | None,
                      occurred_from: datetime | None,
                      occurred_to: datetime | None) -> EntryPage: ...

    async def entry(self, entry_id: str) -> EntryRow | None: ...

    async def reports(self, entry_id: str) -> list[ReportRow]: ...

    async def facts(self, entry_id: str) -> list[FactRow]: ...

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]: ...

    async def sources(self) -> dict[str, SourceRow]: ...


class PresentView:
    """The read model as committed. Facts and reports go through DataLoaders, so a page of
    entries costs one query for all their facts and one for all their reports."""

    def __init__(self, read_model: ReadModel, store: PostgresEventStore, slug: str) -> None:
        self.read_model = read_model
        self.store = store
        self.slug = slug
        self._facts = DataLoader(load_fn=self._load_facts)
        self._reports = DataLoader(load_fn=self._load_reports)
        self._sources: dict[str, SourceRow] | None = None

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

    async def facts(self, entry_id: str) -> list[FactRow]:
        return await self._facts.load(entry_id)

    async def reports(self, entry_id: str) -> list[ReportRow]:
        return await self._reports.load(entry_id)

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]:
        return history(await self.store.read_timeline_world(self.slug), self.slug, entry_id,
                       attribute)

    async def sources(self) -> dict[str, SourceRow]:
        """Every source, loaded once per view (a newsroom has tens, not millions)."""
        if self._sources is None:
            self._sources = {s.id: s for s in await self.read_model.sources()}
        return self._sources

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

    async def facts(self, entry_id: str) -> list[FactRow]:
        return self.snapshot.facts.get(entry_id, [])

    async def reports(self, entry_id: str) -> list[ReportRow]:
        return self.snapshot.reports(entry_id)

    async def sources(self) -> dict[str, SourceRow]:
        return self.snapshot.sources

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]:
        envelopes = await self.store.read_timeline_world(
            self.slug, recorded_until=self.as_of if self.axis is Axis.RECORDED else None)
        return history(envelopes, self.slug, entry_id, attribute, self.axis, self.as_of)


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


class AsOfView:
    """The timeline replayed from the log up to a moment, on one of the two clocks: the
    reference the kept history is tested against, and what ``changes`` folds."""

    def __init__(self, envelopes: list[Envelope], slug: str, as_of: datetime,
                 axis: Axis) -> None:
        self.envelopes = envelopes
        self.as_of = as_of
        self.axis = axis
        self.folded = fold(envelopes, slug, axis, as_of)
        self.slug = slug
        self.source_info = source_info(self.folded.sources)
        self._facts: dict[str, list[FactRow]] = {}

    @classmethod
    async def load(cls, store: PostgresEventStore, slug: str, as_of: datetime,
                   axis: Axis) -> AsOfView:
        envelopes = await store.read_timeline_world(
            slug, recorded_until=as_of if axis is Axis.RECORDED else None)
        return cls(envelopes, slug, as_of, axis)

    async def history(self, entry_id: str, attribute: str) -> list[FactVersion]:
        return history(self.envelopes, self.slug, entry_id, attribute, self.axis, self.as_of)

    async def row(self) -> TimelineRow | None:
        timeline = self.folded.timeline
        if timeline.created is None:
            return None
        return TimelineRow(slug=self.slug, title=timeline.title,
                           description=timeline.description, version=self.folded.position,
                           created_at=timeline.created.recorded_at)

    async def entries(self, first: int, after: EntryCursor | None,
                      occurred_from: datetime | None,
                      occurred_to: datetime | None) -> EntryPage:
        rows = [self._entry_row(e) for e in self.folded.timeline.live_entries()]
        return page_of(rows, first, after, occurred_from, occurred_to)

    async def entry(self, entry_id: str) -> EntryRow | None:
        timeline = self.folded.timeline
        if entry_id not in timeline.entries:
            return None
        return self._entry_row(timeline.entries[timeline.survivor_of(entry_id)])

    async def facts(self, entry_id: str) -> list[FactRow]:
        if entry_id not in self._facts:
            self._facts[entry_id] = [
                FactRow(self.slug, f.entry, f.attribute, fact_document(f))
                for f in facts_of_entry(self.folded.timeline, entry_id, self.source_info)]
        return self._facts[entry_id]

    async def sources(self) -> dict[str, SourceRow]:
        return {s.id: source_row(s) for s in self.folded.sources.values() if s.exists}

    async def reports(self, entry_id: str) -> list[ReportRow]:
        timeline = self.folded.timeline
        group = set(timeline.merged_group(entry_id))
        return [report_row(self.slug, r) for r in timeline.reports.values() if r.entry in group]

    def _entry_row(self, entry: EntryState) -> EntryRow:
        timeline = self.folded.timeline
        occurred = None
        if "occurred" in timeline.attributes(entry.id):
            occurred = occurred_start(fact_of(timeline, entry.id, "occurred", self.source_info))
        return EntryRow(timeline=self.slug, id=entry.id, title=entry.title,
                        merged_into=entry.merged_into, position=entry.opened.position,
                        occurred_start=occurred)



_FAR_FUTURE = datetime.max.replace(tzinfo=None)


def _sort_key(row: EntryRow) -> tuple[bool, datetime, int]:
    start = row.occurred_start
    return (start is None, start.replace(tzinfo=None) if start else _FAR_FUTURE, row.position)


def _cursor_key(cursor: EntryCursor) -> tuple[bool, datetime, int]:
    start, position = cursor
    return (start is None, start.replace(tzinfo=None) if start else _FAR_FUTURE, position)
