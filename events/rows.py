"""Plain rows every read serves, whether from the read model or from history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from events.reducer import ReportState, SourceState


@dataclass(frozen=True, slots=True)
class TimelineRow:
    slug: str
    title: str
    description: str | None
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SourceRow:
    id: str
    name: str
    kind: str
    url: str | None
    reliability: str | None
    grade_note: str | None


@dataclass(frozen=True, slots=True)
class EntryRow:
    timeline: str
    id: str
    title: str
    merged_into: str | None
    position: int
    occurred_start: datetime | None = None
    # The log position as of which the entry shows what it shows (0: not known, as for rows
    # built from the kept history rather than read from the read model).
    version: int = 0


@dataclass(frozen=True, slots=True)
class FactRow:
    timeline: str
    entry: str
    attribute: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EntryPage:
    """Entries sorted by best-known ``occurred`` (undated last), then by when opened."""

    entries: list[EntryRow]
    has_next: bool
    total: int


@dataclass(frozen=True, slots=True)
class ReportRow:
    timeline: str
    id: str
    entry: str
    attribute: str
    value: dict[str, Any]
    source: str
    via: str | None
    stance: str
    reported_at: datetime
    recorded_at: datetime
    quote: str | None
    url: str | None
    status: str
    rank: str
    rank_reason: str | None
    retraction_reason: str | None
    position: int
    changed_at: datetime | None = None  # when the source last corrected or retracted it


EntryCursor = tuple[datetime | None, int]


def report_row(slug: str, report: ReportState) -> ReportRow:
    return ReportRow(
        timeline=slug, id=report.id, entry=report.entry, attribute=report.attribute,
        value=report.value.to_data(), source=report.source, via=report.via,
        stance=report.stance.value, reported_at=report.reported_at,
        recorded_at=report.reported.recorded_at, quote=report.quote, url=report.url,
        status=report.status.value, rank=report.rank.value, rank_reason=report.rank_reason,
        retraction_reason=report.retraction_reason, position=report.reported.position,
        changed_at=report.changed_at)


def source_row(source: SourceState) -> SourceRow:
    return SourceRow(id=source.id, name=source.name, kind=source.kind.value, url=source.url,
                     reliability=source.reliability.value if source.reliability else None,
                     grade_note=source.grade_note)
