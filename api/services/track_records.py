"""Every source's track record (events/track_records.py), now or as of a past moment, on each
timeline and in all: what GraphQL, the embed and the sources export show.

Now is summed from the read model, which keeps what each fact adds in the append's
transaction. A past moment is summed from each timeline's kept history
(events/history_records.py), as an as-of read of the facts is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from events.as_of import Moment
from events.history_index import TimelineHistory
from events.history_records import records_as_of
from events.postgres.read_model import ReadModel
from events.track_records import NOTHING, TrackRecord

HistoryOf = Callable[[str], Awaitable[TimelineHistory]]


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One source's record in all, and on each timeline it is counted on (by slug)."""

    total: TrackRecord = NOTHING
    by_timeline: dict[str, TrackRecord] = field(default_factory=dict)


NO_RECORD = SourceRecord()


async def track_records(read_model: ReadModel, history_of: HistoryOf,
                        moment: Moment) -> dict[str, SourceRecord]:
    """Every source's record at ``moment`` (now when it has no ``as_of``), by source id;
    a source with nothing to count is left out."""
    by_source: dict[str, dict[str, TrackRecord]] = {}
    if moment.as_of is None:
        for source, slug, record in await read_model.track_records():
            by_source.setdefault(source, {})[slug] = record
    else:
        for timeline in await read_model.timelines():
            history = await history_of(timeline.slug)
            for source, record in records_as_of(history, moment.as_of, moment.axis).items():
                by_source.setdefault(source, {})[timeline.slug] = record
    return {source: SourceRecord(sum(records.values(), NOTHING), dict(sorted(records.items())))
            for source, records in by_source.items()}
