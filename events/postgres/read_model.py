"""Queries over the read model tables, returning plain rows for the delivery layer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import refuse_bad_text
from events.rows import (
    EntryCursor,
    EntryPage,
    EntryRow,
    FactRow,
    ReportRow,
    SourceRow,
    TimelineRow,
)
from events.track_records import COUNTS, TrackRecord

_ENTRY_COLUMNS = "timeline, id, title, merged_into, position, occurred_start, version"


_TRACK_RECORDS = (
    "SELECT source, timeline, sum(reports)::int AS reports, sum(retracted)::int AS retracted, "
    "sum(corrected)::int AS corrected, sum(outweighed)::int AS outweighed, "
    "sum(upheld)::int AS upheld, sum(cited)::int AS cited FROM track_facts")


def _rows(cls: type[Any], result: Any) -> list[Any]:
    return [cls(**{name: _in_utc(item) for name, item in row._asdict().items()})
            for row in result]


def _in_utc(item: Any) -> Any:
    """asyncpg writes the first and the last instant a datetime has (0001-01-01T00:00Z,
    9999-12-31T23:59:59.999999Z) as PostgreSQL's -infinity and infinity, and reads those
    back as naive ``datetime.min`` and ``datetime.max``; every other timestamptz comes back
    in UTC, and so must these."""
    if isinstance(item, datetime) and item.tzinfo is None:
        return item.replace(tzinfo=UTC)
    return item


class ReadModel:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def projection_lag(self) -> int:
        """Log positions the read model has not applied yet."""
        async with self.engine.connect() as connection:
            lag = (await connection.execute(text(
                "SELECT (SELECT coalesce(max(position), 0) FROM events) "
                "- (SELECT coalesce(max(position), 0) FROM checkpoints)"))).scalar_one()
        return max(int(lag), 0)

    async def entry_ids(self) -> set[tuple[str, str]]:
        """(timeline, id) of every entry ever opened, merged ones included: a merged
        entry's id stays taken."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(text("SELECT timeline, id FROM entries"))
            return {(row.timeline, row.id) for row in rows}

    async def _fetch(self, cls: type[Any], sql: str, **params: Any) -> list[Any]:
        refuse_bad_text(**params)
        async with self.engine.connect() as connection:
            return _rows(cls, await connection.execute(text(sql), params))

    async def timelines(self) -> list[TimelineRow]:
        return await self._fetch(TimelineRow, "SELECT slug, title, description, version, "
                                 "created_at FROM timelines ORDER BY slug")

    async def timeline(self, slug: str) -> TimelineRow | None:
        rows = await self._fetch(TimelineRow, "SELECT slug, title, description, version, "
                                 "created_at FROM timelines WHERE slug = :slug", slug=slug)
        return rows[0] if rows else None

    async def sources(self, ids: Sequence[str] | None = None) -> list[SourceRow]:
        sql = "SELECT id, name, kind, url, reliability, grade_note FROM sources"
        if ids is None:
            return await self._fetch(SourceRow, sql + " ORDER BY id")
        return await self._fetch(SourceRow, sql + " WHERE id = ANY(:ids) ORDER BY id",
                                 ids=list(ids))

    async def entries(self, timeline: str, first: int, after: EntryCursor | None = None,
                      occurred_from: datetime | None = None,
                      occurred_to: datetime | None = None) -> EntryPage:
        where = "timeline = :timeline AND merged_into IS NULL"
        params: dict[str, Any] = {"timeline": timeline}
        if occurred_from is not None:
            where += " AND occurred_start >= :occurred_from"
            params["occurred_from"] = occurred_from
        if occurred_to is not None:
            where += " AND occurred_start < :occurred_to"
            params["occurred_to"] = occurred_to
        async with self.engine.connect() as connection:
            total = (await connection.execute(text(
                f"SELECT count(*) FROM entries WHERE {where}"), params)).scalar_one()  # noqa: S608
            page = where
            if after is not None:
                page += (" AND (coalesce(occurred_start, 'infinity'::timestamptz), position) > "
                         "(coalesce(CAST(:after_start AS timestamptz), "
                         "'infinity'::timestamptz), :after_position)")
                params.update(after_start=after[0], after_position=after[1])
            rows = _rows(EntryRow, await connection.execute(text(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE {page} "  # noqa: S608
                "ORDER BY coalesce(occurred_start, 'infinity'::timestamptz), position "
                "LIMIT :limit"), {**params, "limit": first + 1}))
        return EntryPage(rows[:first], len(rows) > first, int(total))

    async def entry(self, timeline: str, entry_id: str) -> EntryRow | None:
        rows = await self._fetch(EntryRow, f"SELECT {_ENTRY_COLUMNS} "  # noqa: S608
                                 "FROM entries WHERE timeline = :timeline AND id = :id",
                                 timeline=timeline, id=entry_id)
        return rows[0] if rows else None

    async def merged_into(self, timeline: str, entry_ids: Sequence[str]) -> dict[str, str]:
        """Entries merged into any of ``entry_ids``, mapped to the one they live on."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(text(
                "SELECT id, merged_into FROM entries WHERE timeline = :timeline "
                "AND merged_into = ANY(:entries)"), {"timeline": timeline,
                                                     "entries": list(entry_ids)})
            return {row.id: row.merged_into for row in rows}

    async def timeline_facts(self, timeline: str) -> list[FactRow]:
        """Every fact of the timeline's live entries."""
        return await self._fetch(FactRow, "SELECT timeline, entry, attribute, document "
                                 "FROM facts WHERE timeline = :timeline "
                                 "ORDER BY entry, attribute", timeline=timeline)

    async def facts(self, timeline: str, entry_ids: Sequence[str]) -> list[FactRow]:
        return await self._fetch(FactRow, "SELECT timeline, entry, attribute, document "
                                 "FROM facts WHERE timeline = :timeline "
                                 "AND entry = ANY(:entries) ORDER BY entry, attribute",
                                 timeline=timeline, entries=list(entry_ids))

    async def reports(self, timeline: str, entry_ids: Sequence[str] | None = None,
                      report_ids: Sequence[str] | None = None) -> list[ReportRow]:
        """Reports on a timeline, by the entries they now live on (after merges) or by id."""
        sql = ("SELECT r.timeline, r.id, r.entry, r.attribute, r.value, r.source, r.via, "
               "r.stance, r.reported_at, r.recorded_at, r.quote, r.url, r.status, r.rank, "
               "r.rank_reason, r.retraction_reason, r.position, r.changed_at FROM reports r "
               "WHERE r.timeline = :timeline")
        params: dict[str, Any] = {"timeline": timeline}
        if entry_ids is not None:
            sql += (" AND r.entry IN (SELECT e.id FROM entries e WHERE e.timeline = :timeline "
                    "AND (e.id = ANY(:entries) OR e.merged_into = ANY(:entries)))")
            params["entries"] = list(entry_ids)
        if report_ids is not None:
            sql += " AND r.id = ANY(:reports)"
            params["reports"] = list(report_ids)
        return await self._fetch(ReportRow, sql + " ORDER BY r.position", **params)

    async def track_records(self, sources: Sequence[str] | None = None,
                            timeline: str | None = None) -> list[tuple[str, str, TrackRecord]]:
        """(source, timeline, record) now: each source's record on each timeline it is
        counted on, summed from what each fact adds (events/track_records.py)."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if sources is not None:
            where.append("source = ANY(:sources)")
            params["sources"] = list(sources)
        if timeline is not None:
            where.append("timeline = :timeline")
            params["timeline"] = timeline
        sql = (_TRACK_RECORDS + (" WHERE " + " AND ".join(where) if where else "")
               + " GROUP BY source, timeline ORDER BY source, timeline")
        async with self.engine.connect() as connection:
            rows = await connection.execute(text(sql), params)
            return [(row.source, row.timeline, TrackRecord(*(getattr(row, c) for c in COUNTS)))
                    for row in rows]
