"""Decide: a command and the current state give new events, or a domain error.

Pure: no I/O, no clock. Ids a writer leaves out are derived from the state (an entry's id
from its title, a report's from the timeline's report count), so a retried command decides
the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from events.commands import (
    Command,
    CorrectReport,
    CreateTimeline,
    GradeSource,
    MergeEntries,
    OpenEntry,
    RankReport,
    RegisterSource,
    ReportFact,
    RetractReport,
)
from events.errors import BadInput, Conflict, NotFound
from events.reducer import ReportState, ReportStatus, SourceState, StreamState, TimelineState
from events.values import format_instant
from events.vocabulary import (
    DomainEvent,
    EntriesMerged,
    EntryOpened,
    FactReported,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    SourceRegistered,
    TimelineCreated,
    source_stream,
)

# Attributes whose kind is fixed by the contract: entries sort by `occurred`.
FIXED_KINDS = {"occurred": "time", "place": "place"}

# A writer's clock may run a little ahead of the store's; a report from further in the
# future would supersede the source's real ones, so it is refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Decision:
    stream: str
    event: DomainEvent


def decide(command: Command, states: Mapping[str, StreamState],
           recorded_at: datetime) -> Decision:
    """The event ``command`` appends to its stream, given the states of ``streams_read``,
    when the store records it at ``recorded_at``."""
    reported_at = getattr(command, "reported_at", None)
    if reported_at is not None and reported_at > recorded_at + CLOCK_SKEW:
        raise BadInput(f"reportedAt {format_instant(reported_at)} is in the future: it may "
                       f"be at most {CLOCK_SKEW.seconds // 60} minutes after the time of "
                       "recording", field="reportedAt")
    target = states[command.stream]
    if isinstance(command, CreateTimeline):
        return Decision(command.stream, _create_timeline(command, _timeline(target)))
    if isinstance(command, RegisterSource):
        return Decision(command.stream, _register_source(command, _source(target)))
    if isinstance(command, GradeSource):
        source = _source(target)
        _require_source(source, "source")
        return Decision(command.stream, SourceGraded(command.source, command.reliability,
                                                     command.note))
    timeline = _timeline(target)
    if not timeline.exists:
        raise NotFound(f"timeline {command.timeline!r} does not exist", field="timeline")
    if isinstance(command, OpenEntry):
        return Decision(command.stream, _open_entry(command, timeline))
    if isinstance(command, ReportFact):
        return Decision(command.stream, _report_fact(command, timeline, states))
    if isinstance(command, CorrectReport):
        if command.via is not None:
            _require_source(_source(states[source_stream(command.via)]), "via")
        return Decision(command.stream, _correct_report(command, timeline))
    if isinstance(command, RetractReport):
        _live_report(timeline, command.report)
        return Decision(command.stream, ReportRetracted(command.report, command.reason,
                                                        command.reported_at))
    if isinstance(command, RankReport):
        # Re-ranking with the same rank is allowed: it records a new reason.
        _report(timeline, command.report)
        return Decision(command.stream, ReportRanked(command.report, command.rank,
                                                     command.reason))
    return Decision(command.stream, _merge_entries(command, timeline))


def _timeline(state: StreamState) -> TimelineState:
    assert isinstance(state, TimelineState)
    return state


def _source(state: StreamState) -> SourceState:
    assert isinstance(state, SourceState)
    return state


def _require_source(source: SourceState, field: str) -> None:
    if not source.exists:
        raise NotFound(f"{field}: source {source.id!r} is not registered", field=field)


def _create_timeline(command: CreateTimeline, timeline: TimelineState) -> TimelineCreated:
    if timeline.exists:
        raise Conflict(f"timeline {command.slug!r} already exists", field="slug")
    return TimelineCreated(command.slug, command.title, command.description)


def _register_source(command: RegisterSource, source: SourceState) -> SourceRegistered:
    if source.exists:
        raise Conflict(f"source {command.id!r} is already registered", field="id")
    return SourceRegistered(command.id, command.name, command.kind, command.url)


def _open_entry(command: OpenEntry, timeline: TimelineState) -> EntryOpened:
    if command.id is not None:
        if command.id in timeline.entries:
            raise Conflict(f"entry {command.id!r} already exists on {command.timeline!r}",
                           field="id")
        return EntryOpened(command.id, command.title)
    return EntryOpened(_free_id(_slugify(command.title), timeline.entries), command.title)


def _report_fact(command: ReportFact, timeline: TimelineState,
                 states: Mapping[str, StreamState]) -> FactReported:
    live_entry(timeline, command.entry, "entry")
    _require_source(_source(states[source_stream(command.source)]), "source")
    if command.via is not None:
        _require_source(_source(states[source_stream(command.via)]), "via")
    check_kind(timeline, command.entry, command.attribute, command.value.kind, "value")
    if command.id is not None and command.id in timeline.reports:
        raise Conflict(f"report {command.id!r} already exists on {command.timeline!r}",
                       field="id")
    report_id = command.id or _free_id(f"r{len(timeline.reports) + 1}", timeline.reports)
    return FactReported(report=report_id, entry=command.entry, attribute=command.attribute,
                        value=command.value, source=command.source, stance=command.stance,
                        reported_at=command.reported_at, via=command.via, quote=command.quote,
                        url=command.url)


def _correct_report(command: CorrectReport, timeline: TimelineState) -> ReportCorrected:
    report = _live_report(timeline, command.report)
    if command.value is not None and command.value.kind != report.value.kind:
        raise BadInput(f"value must stay a {report.value.kind}, like the report it "
                       f"corrects (got {command.value.kind})", field="value")
    if (command.value in (None, report.value) and command.stance in (None, report.stance)
            and command.via in (None, report.via)):
        raise Conflict(f"report {command.report!r} already says that", field="value")
    if command.reported_at < report.reported_at:
        raise BadInput("reportedAt of a correction cannot precede the report it corrects",
                       field="reportedAt")
    return ReportCorrected(command.report, command.reported_at, command.value, command.stance,
                           command.via)


def _merge_entries(command: MergeEntries, timeline: TimelineState) -> EntriesMerged:
    check_merge(timeline, command.duplicate, command.survivor)
    return EntriesMerged(command.duplicate, command.survivor)


def check_merge(timeline: TimelineState, duplicate: str, survivor: str) -> None:
    """Both entries live, distinct, and holding the same kind under each shared attribute."""
    live_entry(timeline, duplicate, "duplicate")
    live_entry(timeline, survivor, "survivor")
    if duplicate == survivor:
        raise BadInput("an entry cannot be merged into itself", field="survivor")
    survivors = timeline.merged_group(survivor)
    survivor_kinds = {attr: kind for (entry, attr), kind in timeline.value_kinds.items()
                      if entry in survivors}
    duplicates = timeline.merged_group(duplicate)
    for (entry, attribute), kind in timeline.value_kinds.items():
        if entry in duplicates and survivor_kinds.get(attribute, kind) != kind:
            raise Conflict(f"{attribute!r} is a {kind} on {duplicate!r} but a "
                           f"{survivor_kinds[attribute]} on {survivor!r}", field="duplicate")


def live_entry(timeline: TimelineState, entry_id: str, field: str) -> None:
    entry = timeline.entries.get(entry_id)
    if entry is None:
        raise NotFound(f"entry {entry_id!r} does not exist on {timeline.slug!r}", field=field)
    if entry.merged_into is not None:
        raise Conflict(f"entry {entry_id!r} was merged into "
                       f"{timeline.survivor_of(entry_id)!r}; use that entry", field=field)


def check_kind(timeline: TimelineState, entry: str, attribute: str, kind: str,
                field: str) -> None:
    expected = FIXED_KINDS.get(attribute) or timeline.attribute_kind(entry, attribute)
    if expected is not None and expected != kind:
        raise BadInput(f"{attribute!r} takes a {expected} value (got {kind})", field=field)


def _report(timeline: TimelineState, report_id: str) -> ReportState:
    report = timeline.reports.get(report_id)
    if report is None:
        raise NotFound(f"report {report_id!r} does not exist on {timeline.slug!r}",
                       field="report")
    return report


def _live_report(timeline: TimelineState, report_id: str) -> ReportState:
    report = _report(timeline, report_id)
    if report.status is ReportStatus.RETRACTED:
        raise Conflict(f"report {report_id!r} was retracted", field="report")
    return report


def _slugify(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:60].rstrip("-") or "entry"


def _free_id(base: str, taken: Mapping[str, object]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
