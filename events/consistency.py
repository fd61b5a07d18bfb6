"""What a log must hold together to be folded: every event refers to what exists before it.

The decisions guarantee this for everything the appender writes. A log that arrives from
outside (a restore) was not decided here, so it is checked event by event before anything
is stored: a report on an entry nobody opened would otherwise pass the hash chain and fail
later, inside the projection, with nothing to say which line was wrong.
"""

from __future__ import annotations

from events.decisions import check_kind, check_merge, live_entry
from events.errors import BadInput
from events.reducer import SourceState, Stamp, TimelineState
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
)


class LogConsistency:
    """Folds a log in order and refuses the first event that refers to nothing."""

    def __init__(self) -> None:
        self._timelines: dict[str, TimelineState] = {}
        self._sources: dict[str, SourceState] = {}

    def admit(self, stream: str, event: DomainEvent, stamp: Stamp) -> None:
        """Check ``event`` against what the log holds so far, then fold it in."""
        kind, _, name = stream.partition(":")
        if kind == "timeline":
            state = self._timelines.setdefault(name, TimelineState(slug=name))
            self._check_timeline_event(state, event)
            state.apply(event, stamp)
        elif kind == "source":
            source = self._sources.setdefault(name, SourceState(id=name))
            _check_source_event(source, event)
            source.apply(event, stamp)
        else:
            raise BadInput(f"the stream {stream!r} is neither a timeline nor a source")

    def _check_timeline_event(self, state: TimelineState, event: DomainEvent) -> None:
        if isinstance(event, TimelineCreated):
            _require(not state.exists, f"timeline {state.slug!r} is created twice")
            _require(event.slug == state.slug,
                     f"the timeline {event.slug!r} is created on the stream of {state.slug!r}")
            return
        _require(state.exists, f"{event.type} on timeline {state.slug!r} before it was created")
        if isinstance(event, EntryOpened):
            _require(event.entry not in state.entries, f"entry {event.entry!r} is opened twice")
        elif isinstance(event, FactReported):
            live_entry(state, event.entry, "entry")
            _require(event.report not in state.reports,
                     f"report id {event.report!r} is used twice")
            self._require_source(event.source, f"report {event.report!r}")
            if event.via is not None:
                self._require_source(event.via, f"report {event.report!r} (via)")
            check_kind(state, event.entry, event.attribute, event.value.kind, "value")
        elif isinstance(event, ReportCorrected | ReportRetracted | ReportRanked):
            _require(event.report in state.reports,
                     f"{event.type} names report {event.report!r}, never reported")
            if isinstance(event, ReportCorrected) and event.value is not None:
                _require(event.value.kind == state.reports[event.report].value.kind,
                         f"the correction of {event.report!r} changes its value's kind")
            if isinstance(event, ReportCorrected) and event.via is not None:
                self._require_source(event.via, f"the correction of {event.report!r} (via)")
        elif isinstance(event, EntriesMerged):
            check_merge(state, event.duplicate, event.survivor)

    def _require_source(self, source_id: str, who: str) -> None:
        source = self._sources.get(source_id)
        _require(source is not None and source.registered is not None,
                 f"{who} cites source {source_id!r}, never registered")


def _check_source_event(source: SourceState, event: DomainEvent) -> None:
    if isinstance(event, SourceRegistered):
        _require(source.registered is None, f"source {source.id!r} is registered twice")
        _require(event.source == source.id,
                 f"the source {event.source!r} is registered on the stream of {source.id!r}")
    elif isinstance(event, SourceGraded):
        _require(source.registered is not None,
                 f"source {source.id!r} is graded before it was registered")
        _require(event.source == source.id,
                 f"the source {event.source!r} is graded on the stream of {source.id!r}")
    else:
        raise BadInput(f"{event.type} does not belong on a source stream")


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise BadInput(problem)
