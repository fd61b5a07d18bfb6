"""A timeline view that replays the log for every read: slow, and obviously right."""

from __future__ import annotations

from datetime import datetime

from api.services.reading import page_of
from events.as_of import Axis, fold
from events.chain import Envelope
from events.fact_history import FactVersion, history
from events.policy import fact_document, occurred_start
from events.postgres.store import PostgresEventStore
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
from events.timeline_facts import fact_of, facts_of_entry, source_info


class AsOfView:
    """The timeline replayed from the whole log up to a moment, on one of the two clocks:
    the reference the kept history (``SnapshotView``) must always agree with."""

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
