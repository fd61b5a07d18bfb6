"""Sources as GraphQL shows them: who said what, their editorial grade, and how their reports
have fared (their track record, events/track_records.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql.nodes import Node, NodeRef, node_id
from api.graphql.scalars import Reliability, SourceKind
from api.services.reading import TimelineView
from api.services.track_records import NO_RECORD, SourceRecord
from events.as_of import Axis, Moment
from events.rows import SourceRow
from events.track_records import TrackRecord as Counts
from events.values import parse_instant


@strawberry.type(description="How a source's reports have fared, counted from the log. "
                 "Grades stay editorial: the best-known policy never reads these counts.")
class TrackCounts:
    reports: int = strawberry.field(description="Reports the source made itself (not those "
                                    "citing it as their origin), retracted ones included.")
    retracted: int = strawberry.field(description="Of those, the ones it retracted.")
    corrected: int = strawberry.field(description="Of those, the ones corrected at least once.")
    outweighed: int = strawberry.field(description="Its live reports the best-known value "
                                       "went against (role CONTRADICTS).")
    upheld: int = strawberry.field(description="Its live reports supporting the best-known "
                                   "value together with at least one other origin.")
    cited: int = strawberry.field(description="Other sources' live reports that name it as "
                                  "their origin (`via`).")

    @staticmethod
    def values(counts: Counts) -> dict[str, int]:
        return {"reports": counts.reports, "retracted": counts.retracted,
                "corrected": counts.corrected, "outweighed": counts.outweighed,
                "upheld": counts.upheld, "cited": counts.cited}


@strawberry.type(description="A source's track record on one timeline.")
class TimelineTrackRecord(TrackCounts):
    timeline: str = strawberry.field(description="The timeline's slug.")


@strawberry.type(description="A source's track record on every timeline, and on each.")
class TrackRecord(TrackCounts):
    by_timeline: list[TimelineTrackRecord] = strawberry.field(
        description="The same counts on each timeline the source has any on, by slug.")

    @classmethod
    def of(cls, record: SourceRecord) -> TrackRecord:
        return cls(**cls.values(record.total),
                   by_timeline=[TimelineTrackRecord(timeline=slug, **cls.values(counts))
                                for slug, counts in record.by_timeline.items()])


@strawberry.type
class Source(Node):
    seen_in: strawberry.Private[TimelineView | None]
    id: str
    name: str
    kind: SourceKind
    url: str | None
    reliability: Reliability | None
    note: str | None = strawberry.field(description="Why the source has its grade.")

    @strawberry.field
    def node_id(self) -> strawberry.ID:
        view = self.seen_in
        if view is None or view.moment.as_of is None:
            return node_id(NodeRef("Source", (self.id,)))
        return node_id(NodeRef("Source", (self.id,), view.slug, view.moment))

    @strawberry.field(description="How the source's reports have fared, now or as of `asOf` "
                      "on `axis`. Read through `timeline(asOf:, axis:)`, it is counted at "
                      "that timeline's moment unless given its own.")
    async def track_record(self, info: Info, as_of: datetime | None = None,
                           axis: Axis | None = None) -> TrackRecord:
        records = await info.context.track_records(self._moment(as_of, axis))
        return TrackRecord.of(records.get(self.id, NO_RECORD))

    def _moment(self, as_of: datetime | None, axis: Axis | None) -> Moment:
        enclosing = self.seen_in.moment if self.seen_in is not None else Moment()
        if as_of is None and enclosing.as_of is None:
            return enclosing  # now: the same on both clocks
        if axis is None:
            axis = enclosing.axis if enclosing.as_of is not None else Axis.RECORDED
        return Moment(enclosing.as_of if as_of is None else parse_instant(as_of, "asOf"), axis)

    @classmethod
    def from_row(cls, row: SourceRow, seen_in: TimelineView | None = None) -> Source:
        """``seen_in``: the timeline view it was read through (its grade as of then)."""
        return cls(seen_in=seen_in, id=row.id, name=row.name, kind=SourceKind(row.kind),
                   url=row.url,
                   reliability=Reliability(row.reliability) if row.reliability else None,
                   note=row.grade_note)
