"""Fold the log into state: what exists on a timeline and what every report says now.

``TimelineState`` and ``SourceState`` are the write model the decisions consult and the base
the projections build on. ``apply`` is deterministic: the same events in the same order give
the same state. States are updated in place for speed; a caller that needs the old state keeps
a ``copy()``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from events.chain import Envelope
from events.errors import Conflict
from events.values import Value
from events.vocabulary import (
    DomainEvent,
    EntriesMerged,
    EntryOpened,
    FactReported,
    Rank,
    Reliability,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    SourceKind,
    SourceRegistered,
    Stance,
    TimelineCreated,
    decode,
)


class ReportStatus(Enum):
    ACTIVE = "ACTIVE"
    CORRECTED = "CORRECTED"
    RETRACTED = "RETRACTED"


@dataclass(frozen=True, slots=True)
class Stamp:
    """Where an event sits in the log: its position and the database's commit clock."""

    position: int
    recorded_at: datetime


@dataclass(slots=True)
class EntryState:
    id: str
    title: str
    opened: Stamp
    merged_into: str | None = None


@dataclass(slots=True)
class ReportState:
    id: str
    entry: str
    attribute: str
    value: Value
    source: str
    stance: Stance
    reported_at: datetime
    reported: Stamp
    via: str | None = None
    quote: str | None = None
    url: str | None = None
    status: ReportStatus = ReportStatus.ACTIVE
    rank: Rank = Rank.NORMAL
    rank_reason: str | None = None
    ranked_at: int | None = None
    retraction_reason: str | None = None
    changed_at: datetime | None = None
    corrected: bool = False  # corrected at least once (a retraction does not undo it)


@dataclass(slots=True)
class TimelineState:
    slug: str
    version: int = 0
    title: str = ""
    description: str | None = None
    created: Stamp | None = None
    entries: dict[str, EntryState] = field(default_factory=dict)
    reports: dict[str, ReportState] = field(default_factory=dict)
    value_kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    merged: set[str] = field(default_factory=set)
    by_fact: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return self.created is not None

    def copy(self) -> TimelineState:
        return copy.deepcopy(self)

    def survivor_of(self, entry_id: str) -> str:
        """The entry a (possibly merged) entry id now lives on."""
        seen = {entry_id}
        entry = self.entries[entry_id]
        while entry.merged_into is not None:
            if entry.merged_into in seen:
                raise Conflict(f"entries {sorted(seen)} are merged into each other")
            seen.add(entry.merged_into)
            entry = self.entries[entry.merged_into]
        return entry.id

    def merged_group(self, entry_id: str) -> list[str]:
        """Every entry id that now lives on the same survivor as ``entry_id``."""
        if not self.merged:
            return [entry_id]
        survivor = self.survivor_of(entry_id)
        return [e for e in self.entries if self.survivor_of(e) == survivor]

    def attribute_kind(self, entry_id: str, attribute: str) -> str | None:
        """The value kind the reports on one attribute of an entry share, if any exist."""
        for member in self.merged_group(entry_id):
            kind = self.value_kinds.get((member, attribute))
            if kind is not None:
                return kind
        return None

    def fact_reports(self, entry_id: str, attribute: str) -> list[ReportState]:
        """Every report on one attribute of an entry, including entries merged into it."""
        return [self.reports[r] for member in self.merged_group(entry_id)
                for r in self.by_fact.get((member, attribute), [])]

    def attributes(self, entry_id: str) -> list[str]:
        group = set(self.merged_group(entry_id))
        return sorted({attribute for entry, attribute in self.by_fact if entry in group})

    def live_entries(self) -> list[EntryState]:
        return [e for e in self.entries.values() if e.merged_into is None]

    def apply(self, event: DomainEvent, stamp: Stamp) -> TimelineState:
        if isinstance(event, TimelineCreated):
            self.title, self.description, self.created = event.title, event.description, stamp
        elif isinstance(event, EntryOpened):
            self.entries[event.entry] = EntryState(event.entry, event.title, stamp)
        elif isinstance(event, FactReported):
            self.reports[event.report] = ReportState(
                id=event.report, entry=event.entry, attribute=event.attribute, value=event.value,
                source=event.source, stance=event.stance, reported_at=event.reported_at,
                reported=stamp, via=event.via, quote=event.quote, url=event.url)
            self.value_kinds.setdefault((event.entry, event.attribute), event.value.kind)
            self.by_fact.setdefault((event.entry, event.attribute), []).append(event.report)
        elif isinstance(event, ReportCorrected):
            report = self.reports[event.report]
            report.value = event.value if event.value is not None else report.value
            report.stance = event.stance if event.stance is not None else report.stance
            report.via = event.via if event.via is not None else report.via
            report.status, report.changed_at = ReportStatus.CORRECTED, event.reported_at
            report.corrected = True
        elif isinstance(event, ReportRetracted):
            report = self.reports[event.report]
            report.status, report.changed_at = ReportStatus.RETRACTED, event.reported_at
            report.retraction_reason = event.reason
        elif isinstance(event, ReportRanked):
            report = self.reports[event.report]
            report.rank, report.rank_reason, report.ranked_at = (
                event.rank, event.reason, stamp.position)
        elif isinstance(event, EntriesMerged):
            self.entries[event.duplicate].merged_into = event.survivor
            self.merged.add(event.duplicate)
        else:
            raise Conflict(f"{type(event).__name__} does not belong on a timeline stream")
        self.version += 1
        return self


@dataclass(slots=True)
class SourceState:
    id: str
    version: int = 0
    name: str = ""
    kind: SourceKind = SourceKind.OTHER
    url: str | None = None
    reliability: Reliability | None = None
    grade_note: str | None = None
    registered: Stamp | None = None

    @property
    def exists(self) -> bool:
        return self.registered is not None

    def apply(self, event: DomainEvent, stamp: Stamp) -> SourceState:
        if isinstance(event, SourceRegistered):
            self.name, self.kind, self.url, self.registered = (
                event.name, event.kind, event.url, stamp)
        elif isinstance(event, SourceGraded):
            self.reliability, self.grade_note = event.reliability, event.note
        else:
            raise Conflict(f"{type(event).__name__} does not belong on a source stream")
        self.version += 1
        return self


StreamState = TimelineState | SourceState


def new_state(stream: str) -> StreamState:
    """The empty state of a stream, by its kind: ``timeline:…`` or ``source:…``."""
    kind, _, name = stream.partition(":")
    return TimelineState(slug=name) if kind == "timeline" else SourceState(id=name)


def apply_envelope(state: StreamState, envelope: Envelope) -> None:
    state.apply(decode(envelope), Stamp(envelope.position, envelope.recorded_at))
