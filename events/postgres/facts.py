"""Recompute the facts a batch touched and write them, in the append's transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.policy import SourceInfo, fact_document, occurred_start
from events.ports import Applied, StreamStates
from events.timeline_facts import cited_sources, fact_of, facts_citing, facts_touched
from events.track_records import COUNTS, Records, TrackRecord, fact_record, roles
from events.vocabulary import DomainEvent, EntriesMerged, SourceGraded

FactKey = tuple[str, str, str]  # timeline, entry, attribute

_UPSERT = ("INSERT INTO facts (timeline, entry, attribute, document) "
           "VALUES (:timeline, :entry, :attribute, CAST(:document AS jsonb)) "
           "ON CONFLICT (timeline, entry, attribute) DO UPDATE SET document = excluded.document")
_DELETE = ("DELETE FROM facts "
           "WHERE timeline = :timeline AND entry = :entry AND attribute = :attribute")
_DELETE_ENTRY = "DELETE FROM facts WHERE timeline = :timeline AND entry = :entry"
_DELETE_ENTRY_RECORDS = ("DELETE FROM track_facts "
                         "WHERE timeline = :timeline AND entry = :entry")
# Each recomputed fact's rows of track_facts in one statement: the sources it counts for
# now are upserted (left alone when unchanged), the others it counted for are deleted.
_TRACK_FACTS = (
    "WITH counted AS (SELECT * FROM unnest(CAST(:timelines AS text[]), "
    "CAST(:entries AS text[]), CAST(:attributes AS text[]), CAST(:sources AS text[]), "
    "CAST(:reports AS int[]), CAST(:retracted AS int[]), CAST(:corrected AS int[]), "
    "CAST(:outweighed AS int[]), CAST(:upheld AS int[]), CAST(:cited AS int[])) "
    "AS c(timeline, entry, attribute, source, reports, retracted, corrected, outweighed, "
    "upheld, cited)), "
    "recomputed AS (SELECT * FROM unnest(CAST(:fact_timelines AS text[]), "
    "CAST(:fact_entries AS text[]), CAST(:fact_attributes AS text[])) "
    "AS f(timeline, entry, attribute)), "
    "gone AS (DELETE FROM track_facts t USING recomputed f WHERE t.timeline = f.timeline "
    "AND t.entry = f.entry AND t.attribute = f.attribute AND NOT EXISTS (SELECT 1 FROM "
    "counted c WHERE c.timeline = t.timeline AND c.entry = t.entry "
    "AND c.attribute = t.attribute AND c.source = t.source)) "
    "INSERT INTO track_facts SELECT * FROM counted "
    "ON CONFLICT (timeline, entry, attribute, source) DO UPDATE SET "
    "reports = excluded.reports, retracted = excluded.retracted, "
    "corrected = excluded.corrected, outweighed = excluded.outweighed, "
    "upheld = excluded.upheld, cited = excluded.cited "
    "WHERE (track_facts.reports, track_facts.retracted, track_facts.corrected, "
    "track_facts.outweighed, track_facts.upheld, track_facts.cited) IS DISTINCT FROM "
    "(excluded.reports, excluded.retracted, excluded.corrected, excluded.outweighed, "
    "excluded.upheld, excluded.cited)")
_OCCURRED = ("UPDATE entries SET occurred_start = :start "
             "WHERE timeline = :timeline AND id = :entry")
_BUMP_VERSION = ("UPDATE timelines SET version = greatest(version, :position) WHERE slug IN "
                 "(SELECT timeline FROM reports WHERE source = :source OR via = :source)")
_CITING = ("SELECT DISTINCT timeline FROM reports "
           "WHERE source = ANY(:sources) OR via = ANY(:sources)")
@dataclass(slots=True)
class _Touched:
    """What a batch changed that facts depend on."""

    events: dict[str, list[DomainEvent]] = field(default_factory=dict)  # by timeline
    graded: dict[str, int] = field(default_factory=dict)  # source → last regrade position
    merged: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def by(cls, batch: Sequence[Applied]) -> _Touched:
        touched = cls()
        for applied in batch:
            event, (kind, _, name) = applied.event, applied.envelope.stream.partition(":")
            if isinstance(event, SourceGraded):
                touched.graded[event.source] = applied.envelope.position
            elif kind == "timeline":
                touched.events.setdefault(name, []).append(event)
                if isinstance(event, EntriesMerged):
                    touched.merged.append((name, event.duplicate))
        return touched


class _TrackRows:
    """Recomputed facts' rows of track_facts, as the arrays ``_TRACK_FACTS`` takes."""

    def __init__(self) -> None:
        self.facts: list[tuple[str, str, str]] = []
        self.rows: list[tuple[str, str, str, str, TrackRecord]] = []

    def add(self, slug: str, entry: str, attribute: str, records: Records) -> None:
        self.facts.append((slug, entry, attribute))
        self.rows.extend((slug, entry, attribute, source, counts)
                         for source, counts in sorted(records.items()))

    def params(self) -> dict[str, list[Any]]:
        columns: dict[str, list[Any]] = {
            "timelines": [r[0] for r in self.rows], "entries": [r[1] for r in self.rows],
            "attributes": [r[2] for r in self.rows], "sources": [r[3] for r in self.rows],
            "fact_timelines": [f[0] for f in self.facts],
            "fact_entries": [f[1] for f in self.facts],
            "fact_attributes": [f[2] for f in self.facts]}
        for index, count in enumerate(COUNTS):
            columns[count] = [r[4].counts()[index] for r in self.rows]
        return columns


class FactWriter:
    def __init__(self, connection: AsyncConnection, states: StreamStates) -> None:
        self.connection = connection
        self.states = states
        self.sources: dict[str, SourceInfo] = {}

    async def write(self, batch: Sequence[Applied], recompute: bool = True,
                    ) -> dict[tuple[str, str], int]:
        """Apply what a batch changed; ``recompute=False`` leaves the facts themselves for
        one ``write_facts`` at the end (a rebuild)."""
        touched = _Touched.by(batch)
        citing: set[str] = set()
        if touched.graded:
            rows = await self.connection.execute(text(_CITING),
                                                 {"sources": sorted(touched.graded)})
            citing = {row.timeline for row in rows}
            # A regrade changes the facts of every timeline citing the source: their
            # version moves to the regrade's position (as a replay of the log counts it).
            await self.connection.execute(text(_BUMP_VERSION), [
                {"source": source, "position": position}
                for source, position in sorted(touched.graded.items())])
        for slug, duplicate in touched.merged:
            for statement in (_DELETE_ENTRY, _DELETE_ENTRY_RECORDS):
                await self.connection.execute(text(statement),
                                              {"timeline": slug, "entry": duplicate})
        keys = await self._fact_keys(touched, citing)
        if recompute:
            await self.write_facts(keys)
        return await self._entry_versions(batch, citing)

    async def _entry_versions(self, batch: Sequence[Applied],
                              citing: set[str]) -> dict[tuple[str, str], int]:
        """Each entry an event of the batch changed, at that event's position: the entries
        of the facts it touches, both sides of a merge (the survivor shows the duplicate's
        reports now; the duplicate is gone), every entry citing a regraded source. Judged,
        as the facts are, on the state after the batch: an event attributed elsewhere than
        it would be one batch at a time is always followed, in the batch, by the later
        event that moved it, so the last position per entry is the same."""
        positions: dict[tuple[str, str], int] = {}
        for applied in batch:
            event, envelope = applied.event, applied.envelope
            kind, _, name = envelope.stream.partition(":")
            touched: set[tuple[str, str]] = set()
            if kind == "timeline":
                timeline = await self.states.timeline(name)
                touched = {(name, e) for e, _ in facts_touched(timeline, event)}
                if isinstance(event, EntriesMerged):
                    touched |= {(name, event.duplicate),
                                (name, timeline.survivor_of(event.duplicate))}
            elif isinstance(event, SourceGraded):
                for slug in sorted(citing):
                    timeline = await self.states.timeline(slug)
                    touched |= {(slug, e) for e, _ in facts_citing(timeline, event.source)}
            for key in touched:
                positions[key] = envelope.position
        return positions

    async def write_facts(self, keys: Sequence[FactKey]) -> None:
        """Recompute these facts from the write model and store them."""
        upserts: list[dict[str, Any]] = []
        deletes: list[dict[str, Any]] = []
        occurred: list[dict[str, Any]] = []
        records = _TrackRows()
        for slug, entry, attribute in keys:
            timeline = await self.states.timeline(slug)
            sources = await self._sources(cited_sources(timeline, entry, attribute))
            fact = fact_of(timeline, entry, attribute, sources)
            params = {"timeline": slug, "entry": entry, "attribute": attribute}
            document = None if fact is None else fact_document(fact)
            if document is None:
                deletes.append(params)
            else:
                upserts.append({**params, "document": json.dumps(document)})
            records.add(slug, entry, attribute, fact_record(
                timeline.fact_reports(entry, attribute), roles(document)))
            if attribute == "occurred":
                occurred.append({"timeline": slug, "entry": entry,
                                 "start": occurred_start(fact)})
        for statement, params_list in ((_UPSERT, upserts), (_DELETE, deletes),
                                       (_OCCURRED, occurred)):
            if params_list:
                await self.connection.execute(text(statement), params_list)
        if keys:
            await self.connection.execute(text(_TRACK_FACTS), records.params())

    async def _fact_keys(self, touched: _Touched, citing: set[str]) -> list[FactKey]:
        """Each touched fact under the entry it now lives on, in a stable order."""
        keys: set[FactKey] = set()
        for slug, events in touched.events.items():
            timeline = await self.states.timeline(slug)
            for event in events:
                keys.update((slug, e, a) for e, a in facts_touched(timeline, event))
        for slug in citing:
            timeline = await self.states.timeline(slug)
            for source in touched.graded:
                keys.update((slug, e, a) for e, a in facts_citing(timeline, source))
        return sorted(keys)

    async def _sources(self, ids: set[str]) -> dict[str, SourceInfo]:
        for source_id in ids - set(self.sources):
            state = await self.states.source(source_id)
            self.sources[source_id] = SourceInfo(state.id, state.name, state.reliability)
        return {i: self.sources[i] for i in ids}
