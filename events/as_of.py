"""What the log said at a past moment, on either clock (DESIGN.md §1, two time axes).

``RECORDED``: every event the store had committed by T. ``REPORTED``: reports, corrections
and retractions whose ``reported_at`` is at most T, judged with every editorial event
(timelines, entries, sources, grades, ranks, merges) as it stands today. Pure: a fold over
envelopes in position order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from events.chain import Envelope
from events.reducer import SourceState, Stamp, TimelineState
from events.vocabulary import (
    DomainEvent,
    FactReported,
    ReportCorrected,
    ReportRanked,
    ReportRetracted,
    SourceGraded,
    decode,
)


class Axis(Enum):
    RECORDED = "RECORDED"
    REPORTED = "REPORTED"


@dataclass(frozen=True, slots=True)
class Moment:
    """When a timeline is read: ``as_of`` None for now."""

    as_of: datetime | None = None
    axis: Axis = Axis.RECORDED


@dataclass(slots=True)
class Folded:
    timeline: TimelineState
    sources: dict[str, SourceState] = field(default_factory=dict)
    position: int = 0  # the last position applied to the timeline


def replay(envelopes: Iterable[Envelope], slug: str, axis: Axis = Axis.RECORDED,
           until: datetime | None = None) -> Iterator[tuple[Envelope, Folded]]:
    """Fold one timeline's stream and every source stream as they stood at ``until`` (all of
    the log when None), yielding the fold after each event it applies."""
    folded = Folded(TimelineState(slug))
    stream = f"timeline:{slug}"
    for envelope in envelopes:
        if axis is Axis.RECORDED and until is not None and envelope.recorded_at > until:
            break  # positions are in commit order and recorded_at never goes backwards
        event = decode(envelope)
        stamp = Stamp(envelope.position, envelope.recorded_at)
        if envelope.stream.startswith("source:"):
            source_id = envelope.stream.split(":", 1)[1]
            folded.sources.setdefault(source_id, SourceState(source_id)).apply(event, stamp)
            if isinstance(event, SourceGraded) and _cites(folded.timeline, source_id):
                folded.position = envelope.position  # a regrade moves the facts it weighs
            yield envelope, folded
            continue
        if envelope.stream != stream:
            continue
        if axis is Axis.REPORTED and until is not None and not _reported_by(
                event, folded.timeline, until):
            continue
        folded.timeline.apply(event, stamp)
        folded.position = envelope.position
        yield envelope, folded


def fold(envelopes: Iterable[Envelope], slug: str, axis: Axis, until: datetime) -> Folded:
    """The timeline and the sources as they stood at ``until`` on ``axis``."""
    last = deque(replay(envelopes, slug, axis, until), maxlen=1)
    return last[0][1] if last else Folded(TimelineState(slug))


def _reported_by(event: DomainEvent, timeline: TimelineState, until: datetime) -> bool:
    """On the REPORTED clock: what a source said by ``until``, and every editorial event on
    what was said by then."""
    if isinstance(event, FactReported):
        return event.reported_at <= until
    if isinstance(event, ReportCorrected | ReportRetracted):
        return event.reported_at <= until and event.report in timeline.reports
    if isinstance(event, ReportRanked):
        return event.report in timeline.reports
    return True


def _cites(timeline: TimelineState, source_id: str) -> bool:
    return any(r.source == source_id or r.via == source_id for r in timeline.reports.values())
