"""Output types of the GraphQL contract, built from read-model rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry
from graphql.pyutils import AwaitableOrValue
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql import cursors
from api.graphql.access import check_first
from api.graphql.nodes import Node, NodeRef, node_id
from api.graphql.scalars import (
    FactStatus,
    Rank,
    ReportRole,
    ReportStatus,
    Stance,
)
from api.graphql.source_types import Source
from api.graphql.value_types import (
    Place,
    TimeSpan,
    Value,
    value_from_data,
)
from api.services.reading import TimelineView, then
from events.chain import Envelope
from events.fact_history import FactVersion as HistoricFact
from events.report_changes import ReportChange as DomainReportChange
from events.report_changes import ReportChangeKind, ReportSide
from events.rows import EntryCursor, EntryRow, FactRow, ReportRow, TimelineRow
from events.values import parse_instant


@strawberry.type(description="One source saying one thing about one attribute of an entry.")
class Report(Node):
    row: strawberry.Private[ReportRow]
    view: strawberry.Private[TimelineView]
    id: str
    attribute: str
    stance: Stance
    reported_at: datetime
    recorded_at: datetime
    quote: str | None
    url: str | None
    status: ReportStatus
    rank: Rank
    position: int

    @strawberry.field
    def value(self) -> Value:
        return value_from_data(self.row.value)

    @strawberry.field
    def entry(self) -> str:
        return self.row.entry

    @strawberry.field(description="When the source last corrected or retracted it (on the "
                      "REPORTED clock); null while it stands as first reported.")
    def changed_at(self) -> datetime | None:
        return self.row.changed_at

    @strawberry.field
    def node_id(self) -> strawberry.ID:
        return node_id(NodeRef("Report", (self.row.entry, self.id), self.view.slug,
                               self.view.moment))

    @strawberry.field(description="The source, as graded at the time the timeline is read at.")
    async def source(self) -> Source:
        return Source.from_row((await self.view.sources())[self.row.source], self.view)

    @strawberry.field(description="The origin this report cites, if any.")
    async def via(self) -> Source | None:
        if self.row.via is None:
            return None
        return Source.from_row((await self.view.sources())[self.row.via], self.view)

    @classmethod
    def from_row(cls, row: ReportRow, view: TimelineView) -> Report:
        return cls(row=row, view=view, id=row.id, attribute=row.attribute,
                   stance=Stance(row.stance), reported_at=row.reported_at,
                   recorded_at=row.recorded_at, quote=row.quote, url=row.url,
                   status=ReportStatus(row.status), rank=Rank(row.rank),
                   position=row.position)


@strawberry.type(description="A report's weight and role in the fact it bears on.")
class FactReport:
    report: Report
    weight: float
    role: ReportRole


@strawberry.type(description="A value the fact did not settle on, with its weight.")
class Alternative:
    value: Value
    weight: float
    reports: list[Report]


@strawberry.type(description="The best-known value of one attribute, with the disagreement.")
class Fact(Node):
    document: strawberry.Private[dict[str, Any]]
    view: strawberry.Private[TimelineView]
    attribute: str
    low: int | None
    high: int | None
    high_open: bool = strawberry.field(
        description="True when a report of weight at least 0.2 gives only a lower bound "
                    "(\"more than 200\"): the range is open above high (\"5–200+\").")
    disputed: bool
    status: FactStatus
    value: Value
    explanation: str = strawberry.field(description="One plain sentence: why this value.")

    @strawberry.field
    def node_id(self) -> strawberry.ID:
        return node_id(NodeRef("Fact", (self.document["entry"], self.attribute),
                               self.view.slug, self.view.moment))

    async def _reports(self) -> dict[str, Report]:
        rows = await self.view.reports(self.document["entry"])
        return {r.id: Report.from_row(r, self.view) for r in rows}

    @strawberry.field(description="Every report on this attribute, with its weight and role.")
    async def reports(self) -> list[FactReport]:
        by_id = await self._reports()
        return [FactReport(report=by_id[j["report"]], weight=j["weight"],
                           role=ReportRole(j["role"]))
                for j in self.document["reports"] if j["report"] in by_id]

    @strawberry.field(description="Each change of the best value, range, dispute or status, "
                      "with the event that made it, oldest first.")
    async def history(self) -> list[FactVersion]:
        versions = await self.view.history(self.document["entry"], self.attribute)
        return [FactVersion.from_version(v) for v in versions]

    @strawberry.field
    async def alternatives(self) -> list[Alternative]:
        by_id = await self._reports()
        return [Alternative(value=value_from_data(a["value"]), weight=a["weight"],
                            reports=[by_id[r] for r in a["reports"] if r in by_id])
                for a in self.document["alternatives"]]

    @classmethod
    def from_row(cls, row: FactRow, view: TimelineView) -> Fact:
        doc = row.document
        return cls(document=doc, view=view, attribute=row.attribute, low=doc["low"],
                   high=doc["high"], high_open=bool(doc.get("highOpen", False)),
                   disputed=doc["disputed"],
                   status=FactStatus(doc["status"]), value=value_from_data(doc["value"]),
                   explanation=doc["explanation"])


@strawberry.type(description="The fact as it stood after one event changed it.")
class FactVersion:
    version: strawberry.Private[HistoricFact]
    event: Event
    disputed: bool
    status: FactStatus | None = strawberry.field(
        description="Null when no live report on the fact remained.")
    low: int | None
    high: int | None
    high_open: bool = strawberry.field(description="As Fact.highOpen, at this version.")

    @strawberry.field
    def value(self) -> Value | None:
        fact = self.version.fact
        return None if fact is None else value_from_data(fact.value.to_data())

    @classmethod
    def from_version(cls, version: HistoricFact) -> FactVersion:
        fact = version.fact
        return cls(version=version, event=Event.from_envelope(version.envelope),
                   disputed=bool(fact and fact.disputed),
                   status=fact.status if fact else None, low=fact.low if fact else None,
                   high=fact.high if fact else None,
                   high_open=bool(fact and fact.high_open))


@strawberry.type(description="A fact that changed between two knowledge times: its value, "
                 "range, dispute or status moved, or one of its reports changed (see "
                 "`reportChanges`).")
class FactChange:
    entry: str
    attribute: str
    before: Fact | None = strawberry.field(description="Null: the fact did not exist yet.")
    after: Fact | None
    fact_changed: bool = strawberry.field(
        description="True when the value, range, dispute or status differ between `before` "
        "and `after`; false when the fact is listed only for `reportChanges`.")
    report_changes: list[ReportChange] = strawberry.field(
        description="Its reports corrected, retracted, ranked, superseded or reinstated in "
        "the window, oldest first, each with the report before and after (empty when none "
        "was).")


# The domain's enum under its own name, registered in place like those of scalars.py.
strawberry.enum(ReportChangeKind, description="What happened to a report: the source "
                "CORRECTED or RETRACTED it, an editor RANKED it, the same source's newer "
                "report SUPERSEDED it, or it was REINSTATED when that newer report was "
                "retracted.")


@strawberry.type(description="A report as it stood on one side of a change, and how its fact "
                 "judged it then.")
class ReportSnapshot:
    value: Value
    stance: Stance
    status: ReportStatus
    rank: Rank
    rank_reason: str | None = strawberry.field(description="Why an editor ranked it so.")
    via: str | None = strawberry.field(description="The id of the origin it cites, if any.")
    role: ReportRole | None = strawberry.field(
        description="Its role in its fact; null when no live report remained on the fact.")
    weight: float | None = strawberry.field(
        description="Its own weight in its fact; null when no live report remained on it.")

    @classmethod
    def from_side(cls, side: ReportSide) -> ReportSnapshot:
        row = side.row
        return cls(value=value_from_data(row.value), stance=Stance(row.stance),
                   status=ReportStatus(row.status), rank=Rank(row.rank),
                   rank_reason=row.rank_reason, via=row.via, role=side.role,
                   weight=side.weight)


@strawberry.type(description="A report corrected, retracted, ranked, superseded or "
                 "reinstated between two knowledge times, as it stood just before and just "
                 "after.")
class ReportChange:
    report: str = strawberry.field(description="The report's id.")
    entry: str = strawberry.field(
        description="The entry it was reported on (a merged entry's reports keep theirs).")
    attribute: str
    source: str = strawberry.field(description="The id of the source that made the report.")
    kind: ReportChangeKind
    at: datetime = strawberry.field(
        description="When, on the axis asked for: the event's recordedAt (RECORDED), or the "
        "instant it took effect (REPORTED): the reportedAt of the correction or retraction "
        "(the report's own if later), or of the newer report that superseded it.")
    position: int = strawberry.field(
        description="The log position of the event that made the change (on REPORTED, the "
        "last of those taking effect at `at`).")
    superseded_by: str | None = strawberry.field(
        description="SUPERSEDED: the id of the same source's report that replaced it.")
    before: ReportSnapshot | None = strawberry.field(
        description="Null only on REPORTED, for a correction or retraction dated no later "
        "than the report itself.")
    after: ReportSnapshot

    @classmethod
    def from_change(cls, change: DomainReportChange) -> ReportChange:
        return cls(report=change.report, entry=change.entry, attribute=change.attribute,
                   source=change.source, kind=change.kind, at=change.at,
                   position=change.position, superseded_by=change.superseded_by,
                   before=None if change.before is None
                   else ReportSnapshot.from_side(change.before),
                   after=ReportSnapshot.from_side(change.after))


@strawberry.type(description="One thing that happened on a timeline.")
class Entry(Node):
    row: strawberry.Private[EntryRow]
    view: strawberry.Private[TimelineView]
    id: str
    title: str

    @strawberry.field
    def node_id(self) -> strawberry.ID:
        return node_id(NodeRef("Entry", (self.id,), self.view.slug, self.view.moment))

    @strawberry.field(description="Every report ever made about the entry, retracted included.")
    async def reports(self) -> list[Report]:
        return [Report.from_row(r, self.view) for r in await self.view.reports(self.id)]

    @strawberry.field(graphql_type=list[Fact],
                      description="The best-known facts, one per attribute.")
    def facts(self) -> AwaitableOrValue[list[Fact]]:
        return then(self.view.facts(self.id),
                    lambda rows: [Fact.from_row(f, self.view) for f in rows])

    @strawberry.field(graphql_type=Fact | None)
    def fact(self, attribute: str) -> AwaitableOrValue[Fact | None]:
        return then(self.view.facts(self.id), lambda rows: next(
            (Fact.from_row(f, self.view) for f in rows if f.attribute == attribute), None))

    @strawberry.field(graphql_type=TimeSpan | None,
                      description="When it happened: the best-known value of `occurred`.")
    def occurred(self) -> AwaitableOrValue[TimeSpan | None]:
        return then(self.view.facts(self.id), lambda rows: _value_of(rows, "occurred", TimeSpan))

    @strawberry.field(graphql_type=Place | None,
                      description="Where it happened: the best-known value of `place`.")
    def place(self) -> AwaitableOrValue[Place | None]:
        return then(self.view.facts(self.id), lambda rows: _value_of(rows, "place", Place))

    def rendering_key(self) -> tuple[str, str, int] | None:
        return rendering_key(self.row, self.view)

    @classmethod
    def from_row(cls, row: EntryRow, view: TimelineView) -> Entry:
        return cls(row=row, view=view, id=row.id, title=row.title)


def rendering_key(row: EntryRow, view: TimelineView) -> tuple[str, str, int] | None:
    """What an entry shows, named (api/graphql/fragments.py): the entry as of its version,
    read now. None when the version is not known (an as-of view builds its rows from the
    kept history)."""
    if view.moment.as_of is not None or not row.version:
        return None
    return (row.timeline, row.id, row.version)


V = TypeVar("V", TimeSpan, Place)


def _value_of(facts: list[FactRow], attribute: str, kind: type[V]) -> V | None:
    """The best value of ``attribute`` among ``facts`` when it is a ``kind``."""
    for fact in facts:
        if fact.attribute == attribute:
            value = value_from_data(fact.document["value"])
            return value if isinstance(value, kind) else None
    return None


@strawberry.type
class EntryEdge:
    cursor: str
    node: Entry


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="Entries in order of best-known `occurred`, undated last.")
class EntryConnection:
    edges: list[EntryEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Entry]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="A story being followed: the unit users query and embed.")
class Timeline(Node):
    view: strawberry.Private[TimelineView]
    slug: str
    title: str
    description: str | None
    version: int = strawberry.field(description="The last log position applied.")

    @strawberry.field
    def node_id(self) -> strawberry.ID:
        return node_id(NodeRef("Timeline", (self.slug,), self.slug, self.view.moment))

    @strawberry.field
    async def entries(self, info: Info, first: int = 100, after: str | None = None,
                      from_: Annotated[datetime | None, strawberry.argument(name="from")]
                      = None, to: datetime | None = None) -> EntryConnection:
        check_first(info, first)
        page = await self.view.entries(
            first, decode_cursor(after) if after else None,
            None if from_ is None else parse_instant(from_, "from"),
            None if to is None else parse_instant(to, "to"))
        # A page is nearly always read with its facts: load them with it (one query, and
        # each entry's fields then answer at once), except for entries whose rendering is
        # kept, which will not be read at all.
        renderings = info.context.entry_renderings
        await self.view.fetch_facts([
            e.id for e in page.entries if renderings is None
            or not renderings.holds(rendering_key(e, self.view))])
        edges = [EntryEdge(cursor=encode_cursor(e), node=Entry.from_row(e, self.view))
                 for e in page.entries]
        return EntryConnection(edges=edges, total_count=page.total, page_info=PageInfo(
            has_next_page=page.has_next, has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field
    async def entry(self, id: str) -> Entry | None:
        row = await self.view.entry(id)
        return None if row is None else Entry.from_row(row, self.view)

    @classmethod
    def from_row(cls, row: TimelineRow, view: TimelineView) -> Timeline:
        return cls(view=view, slug=row.slug, title=row.title, description=row.description,
                   version=row.version)


def encode_cursor(row: EntryRow) -> str:
    start = row.occurred_start.isoformat() if row.occurred_start else ""
    return cursors.encode("entry", f"{start}|{row.position}")


def decode_cursor(cursor: str) -> EntryCursor:
    start, _, position = cursors.payload(cursor, "entry").rpartition("|")
    return (cursors.instant(start) if start else None, cursors.position(position))


@strawberry.type(description="One stored event with its full envelope.")
class Event(Node):
    position: int
    stream: str
    version: int
    type: str
    schema_version: int
    data: JSON
    recorded_at: datetime
    actor: str
    idempotency_key: str | None
    prev_hash: str
    hash: str

    @strawberry.field
    def node_id(self) -> strawberry.ID:
        return node_id(NodeRef("Event", (str(self.position),)))

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Event:
        return cls(position=envelope.position, stream=envelope.stream,
                   version=envelope.version, type=envelope.type,
                   schema_version=envelope.schema_version, data=cast(JSON, dict(envelope.data)),
                   recorded_at=envelope.recorded_at, actor=envelope.actor,
                   idempotency_key=envelope.idempotency_key, prev_hash=envelope.prev_hash,
                   hash=envelope.hash)
